"""Records visits to account pages and keeps the device cookie.

Sits after the authentication middleware (inserted from the Activity block of
settings.py). Each request to a page under ``/account/`` by a signed-in person is
recorded as an access record once the response is known (its result is "failed"
for an error status). The device cookie set at sign-in goes out on the response.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from safehold.activity import services
from safehold.activity.models import AccessRecord
from safehold.activity.receivers import DEVICE_TOKEN_ATTR

ACCOUNT_PREFIX = "/account/"


class AccessRecordMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.method in ("GET", "POST")
            and request.path.startswith(ACCOUNT_PREFIX)
        ):
            failed = response.status_code >= 400
            services.record_access(
                user,
                kind=AccessRecord.Kind.PAGE_VISIT,
                result=AccessRecord.Result.FAILED if failed else AccessRecord.Result.SUCCEEDED,
                request=request,
            )
            services.touch_device(request)
        token = getattr(request, DEVICE_TOKEN_ATTR, None)
        if token:
            response.set_cookie(
                settings.SAFEHOLD_DEVICE_COOKIE_NAME,
                token,
                max_age=settings.SAFEHOLD_DEVICE_COOKIE_DAYS * 86400,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
