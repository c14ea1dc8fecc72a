"""Tell views what the visitor allows (``request.consent``), and keep refused cookies out.

On Safehold's pages:

- ``request.consent`` is the visitor's ``ConsentState`` (``request.consent.allows("analytics")``),
  computed on first use from the ``sh_consent`` cookie and the ``Sec-GPC`` header;
- a response that would set a cookie of a refused category (Django's language cookie
  is one, under "preferences") has that cookie taken out; the language is kept in the
  session instead, so the switch still works for the visit;
- cookies of refused categories that the browser still sends are deleted;
- a browser that starts sending ``Sec-GPC: 1`` after allowing a sale-or-sharing
  category has that withdrawn and recorded (method "gpc").

Under ``/api/v1/consent/`` only the body size is checked (413 before any parsing).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from safehold.accounts.adapter import client_ip
from safehold.api.errors import problem_response
from safehold.consent import services, web

API_PREFIX = "/api/"
CONSENT_API_PREFIX = "/api/v1/consent/"


class ConsentMiddleware:
    """Tell views what the visitor allows (request.consent)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(API_PREFIX):
            if path.startswith(CONSENT_API_PREFIX) and _too_big(request):
                return problem_response(
                    request,
                    "request.too_large",
                    f"A consent request body may be at most "
                    f"{settings.SAFEHOLD_CONSENT_MAX_BODY_BYTES} bytes.",
                )
            return self.get_response(request)
        request.consent = SimpleLazyObject(lambda: web.state_from_request(request))  # type: ignore[attr-defined]  # our request attribute
        language_cookie = settings.LANGUAGE_COOKIE_NAME
        if (
            language_cookie not in request.COOKIES
            and settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            language = request.session.get(web.SESSION_LANGUAGE)
            if language and translation.check_for_language(language):
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        self._guard_cookies(request, response)
        return response

    def _guard_cookies(self, request: HttpRequest, response: HttpResponse) -> None:
        config = services.get_config()
        gated = {name for c in config.categories if not c.is_necessary for name in c.cookies}
        setting = [name for name in gated if name in response.cookies]
        sent = [name for name in gated if name in request.COOKIES]
        gpc = services.has_gpc(request.headers)
        if not setting and not sent and not gpc:
            return  # the common case: reads no state
        state = web.consent_of(request)
        if gpc and state.gpc_applied:
            self._withdraw_for_gpc(request, response, state, config)
            state = web.consent_of(request)
        for name in setting:
            morsel = response.cookies[name]
            deleting = morsel.value == "" or str(morsel["max-age"]) == "0"
            if deleting or web.allows_cookie(state, name, config):
                continue
            del response.cookies[name]
            if name == settings.LANGUAGE_COOKIE_NAME and hasattr(request, "session"):
                # "Remember my language" needs preferences: for this visit only.
                request.session[web.SESSION_LANGUAGE] = morsel.value
        for name in sent:
            if name in response.cookies or web.allows_cookie(state, name, config):
                continue
            if name == settings.LANGUAGE_COOKIE_NAME and hasattr(request, "session"):
                request.session[web.SESSION_LANGUAGE] = request.COOKIES[name]
            response.delete_cookie(name, path="/", samesite="Lax")

    def _withdraw_for_gpc(
        self,
        request: HttpRequest,
        response: HttpResponse,
        state: services.ConsentState,
        config: services.Config,
    ) -> None:
        """A current choice that allowed sale or sharing, now met by GPC: record the
        withdrawal (once: the new cookie carries the GPC mark)."""
        stored = state.stored
        visitor = web.visitor_id(request)
        if (
            stored is None
            or visitor is None
            or not services.is_current(stored, config)
            or not (stored.allowed & config.sale_or_sharing)
            or CHOICE_COOKIE_SET in response.cookies
        ):
            return
        from safehold.audit.services import Actor

        user = getattr(request, "user", None)
        record = services.record_choice(
            visitor_id=visitor,
            choices=dict.fromkeys(stored.allowed - config.sale_or_sharing, True),
            method="gpc",
            gpc=True,
            actor=Actor.from_request(request),
            user=user if user is not None and user.is_authenticated else None,
            ip=client_ip(request),
            language=translation.get_language() or "",
            config=config,
        )
        web.set_choice_cookies(request, response, record)


CHOICE_COOKIE_SET = services.CHOICE_COOKIE


def _too_big(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.SAFEHOLD_CONSENT_MAX_BODY_BYTES
