from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from safehold.accounts import services


class SignedInSessionMiddleware:
    """Keep "last seen", browser and place of the signed-in session up to date."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith("/static/"):
            services.touch_session(request)
        return self.get_response(request)
