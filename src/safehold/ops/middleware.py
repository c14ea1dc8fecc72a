"""Read-only maintenance mode with a notice page ("temporary closure due to attacks").

While ``safehold maintenance on`` is in force:

- every page can still be read, with a notice at its top;
- every write (POST, PUT, PATCH, DELETE) is refused with 503, ``Retry-After`` and the
  notice page (an API call gets a problem document, code ``maintenance``);
- signing in, signing up, password resets and data exports are off for people: those
  pages answer 503 even to GET;
- staff keep working on the incident: a staff account may sign in (a non-staff
  account that signs in is signed straight out again) and use the admin, writes
  included. Signing out and choosing a language always work.

The state is one database row, so every app server sees it; it is cached for
``services.MAINTENANCE_CACHE_SECONDS`` seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static

from safehold.api.errors import problem_response
from safehold.ops.services import Maintenance, maintenance_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Writes anyone may still make: leaving, and choosing the page language.
ALWAYS_ALLOWED = ("/accounts/logout/", "/i18n/setlang/")
# The steps of signing in, which staff need; others are signed out again at once.
SIGN_IN = ("/accounts/login/", "/accounts/2fa/authenticate/")
# Closed to people altogether (reading too): creating accounts and sessions, exports.
CLOSED_PREFIXES = ("/accounts/",)
CLOSED_WORDS = ("export", "download")


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


class MaintenanceMiddleware:
    """See the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = maintenance_state()
        if not state.is_on:
            return self.get_response(request)
        path = request.path_info
        if path.startswith("/static/"):
            return self.get_response(request)
        staff = _is_staff(request)
        if path.startswith(ALWAYS_ALLOWED) or (staff and path.startswith("/admin/")):
            return self._with_banner(request, self.get_response(request), state)
        if path.startswith(SIGN_IN):
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and not user.is_staff:
                logout(request)
                return self._closed(request, state)
            return self._with_banner(request, response, state)
        lowered = path.lower()
        if (
            request.method not in SAFE_METHODS
            or path.startswith(CLOSED_PREFIXES)
            or any(word in lowered for word in CLOSED_WORDS)
        ):
            return self._closed(request, state)
        return self._with_banner(request, self.get_response(request), state)

    def _closed(self, request: HttpRequest, state: Maintenance) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            response = problem_response(
                request, "maintenance", "The service is in read-only maintenance mode; retry later."
            )
        else:
            response = render(request, "ops/maintenance.html", {"maintenance": state}, status=503)
            response = self._with_banner(request, response, state)
        response["Retry-After"] = str(state.retry_after)
        return response

    @staticmethod
    def _with_banner(
        request: HttpRequest, response: HttpResponse, state: Maintenance
    ) -> HttpResponse:
        """Put the notice at the top of an HTML page (and its style sheet in the head)."""
        if getattr(response, "streaming", False) or not str(
            response.get("Content-Type", "")
        ).startswith("text/html"):
            return response
        content = response.content
        body_at = content.find(b"<body")
        if body_at < 0:
            return response
        body_end = content.find(b">", body_at) + 1
        banner = render_to_string(
            "ops/_maintenance_banner.html", {"maintenance": state}, request=request
        ).encode()
        link = f'<link rel="stylesheet" href="{static("ops/ops.css")}">'.encode()
        head_end = content.find(b"</head>")
        if 0 <= head_end < body_at:
            content = content[:head_end] + link + content[head_end:]
            body_end += len(link)
        response.content = content[:body_end] + banner + content[body_end:]
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
