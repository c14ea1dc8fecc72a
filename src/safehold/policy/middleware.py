"""Ask a signed-in person to acknowledge a material new statement before going on.

On a page visit (GET or HEAD) by a signed-in person who has a version to
acknowledge (``services.pending_acknowledgement``), the answer is a redirect to
``/privacy/acknowledge/?next=<the page>``, until they acknowledge it. Never for the
API, static files, the statement's own pages (they must be readable first), the
language switch, signing out, or the contact, cookie and "your data" pages (a
person who disagrees can still write to us, refuse cookies, or take their data and
leave). Writes (POST...) are never redirected, so no form is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

_EXEMPT_PREFIXES = ("/static/", "/api/", "/i18n/", "/privacy/", "/favicon")
_EXEMPT_NAMES = {"account_logout", "set_language", "javascript-catalog"}
_EXEMPT_NAME_PREFIXES = ("policy_", "feedback_", "consent_", "rights_")


def is_exempt(path: str) -> bool:
    """Whether ``path`` is reachable without acknowledging (see the module's docstring)."""
    if path.startswith(_EXEMPT_PREFIXES) or path == "/privacy":
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # a 404 page is not worth a detour
    name = match.url_name or ""
    return name in _EXEMPT_NAMES or name.startswith(_EXEMPT_NAME_PREFIXES)


#: The session remembers the material version this person is known to have
#: acknowledged, so that their later pages cost no query.
SESSION_KEY = "policy_acknowledged"


class AcknowledgementMiddleware:
    """Redirect to the acknowledgement page while a material version is unacknowledged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and request.method in ("GET", "HEAD")
            and not request.path_info.startswith(_EXEMPT_PREFIXES)
            and user.is_authenticated
        ):
            from safehold.policy import services

            material = services.latest_material_pk()
            if material is not None and request.session.get(SESSION_KEY) != material:
                if services.pending_acknowledgement(user) is None:
                    request.session[SESSION_KEY] = material
                elif not is_exempt(request.path_info):
                    target = reverse("policy_acknowledge")
                    return HttpResponseRedirect(
                        f"{target}?{urlencode({'next': request.get_full_path()})}"
                    )
        return self.get_response(request)
