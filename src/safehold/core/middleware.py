"""Cross-cutting HTTP behaviour: request ids and caching rules."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Pages that show or change a person's account are never stored by a browser or
# a shared cache (a later user of the same computer must not find them).
NO_STORE_PREFIXES = ("/account", "/accounts/", "/admin/")


class RequestIdMiddleware:
    """Give each request an id, echoed in ``X-Request-ID`` and used in logs.

    An id sent by a trusted front proxy is kept if it is well formed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A client's own id is not trusted: it ends up in the permanent audit log.
        incoming = (
            request.META.get("HTTP_X_REQUEST_ID", "")
            if settings.SAFEHOLD_TRUSTED_PROXY_COUNT
            else ""
        )
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        request.request_id = request_id  # type: ignore[attr-defined]  # our own request attribute
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class NoStoreMiddleware:
    """Mark account pages, and every page shown to a signed-in person, no-store."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(NO_STORE_PREFIXES) or (user and user.is_authenticated):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
