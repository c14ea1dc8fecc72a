"""The consent state of a request on Safehold's pages, and the cookies that carry it.

Used by the middleware, the views and the template tags: one place that reads the
``sh_vid`` / ``sh_consent`` cookies and one that writes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from safehold.consent import services
from safehold.consent.services import (
    CHOICE_COOKIE,
    VISITOR_COOKIE,
    ConsentState,
    StoredChoice,
)

if TYPE_CHECKING:
    from safehold.consent.models import ConsentRecord

# The visitor's language kept in the session while preferences cookies are refused.
SESSION_LANGUAGE = "consent_language"
COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


def state_from_request(request: HttpRequest) -> ConsentState:
    stored = StoredChoice.from_cookie(request.COOKIES.get(CHOICE_COOKIE))
    return services.state_for(stored, gpc=services.has_gpc(request.headers))


def visitor_id(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(VISITOR_COOKIE)
    return value if value and services.VISITOR_ID.match(value) else None


def consent_of(request: HttpRequest) -> ConsentState:
    """``request.consent`` if the middleware set it, else computed now."""
    state = getattr(request, "consent", None)
    if state is None:
        state = state_from_request(request)
        request.consent = state  # type: ignore[attr-defined]  # our request attribute
    return state


def _cookie_kwargs() -> dict[str, object]:
    return {
        "max_age": COOKIE_MAX_AGE,
        "secure": settings.SAFEHOLD_HTTPS,
        "samesite": "Lax",
        "path": "/",
    }


def set_choice_cookies(
    request: HttpRequest, response: HttpResponse, record: ConsentRecord
) -> ConsentState:
    """Give the browser its copy of ``record`` and remove what it now refuses.

    Returns the visitor's new state, which is also set as ``request.consent`` so that
    the middleware judges the response's cookies by the new choice.
    """
    stored = StoredChoice.from_record(record)
    response.set_cookie(VISITOR_COOKIE, record.visitor_id, httponly=True, **_cookie_kwargs())  # type: ignore[arg-type]  # typed kwargs
    response.set_cookie(CHOICE_COOKIE, stored.to_cookie(), httponly=False, **_cookie_kwargs())  # type: ignore[arg-type]  # typed kwargs
    state = services.state_for(stored, gpc=services.has_gpc(request.headers))
    request.consent = state  # type: ignore[attr-defined]  # our request attribute
    config = services.get_config()
    session = getattr(request, "session", None)
    for category in config.categories:
        if state.allows(category.slug):
            continue
        for name in category.cookies:
            if name in request.COOKIES:
                response.delete_cookie(name, path="/", samesite="Lax")
    # Preferences allowed again: the language kept in the session becomes a cookie.
    language_name = settings.LANGUAGE_COOKIE_NAME
    if (
        session is not None
        and _gates(config, language_name)
        and allows_cookie(state, language_name)
    ):
        language = session.get(SESSION_LANGUAGE)
        if language:
            response.set_cookie(
                language_name,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE or COOKIE_MAX_AGE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # "Lax" in settings
                path=settings.LANGUAGE_COOKIE_PATH,
            )
            del session[SESSION_LANGUAGE]
    return state


def _gates(config: services.Config, cookie: str) -> bool:
    return any(cookie in c.cookies for c in config.categories if not c.is_necessary)


def allows_cookie(state: ConsentState, cookie: str, config: services.Config | None = None) -> bool:
    """Whether ``cookie`` may be set: it is in no category, or in an allowed one."""
    config = config or services.get_config()
    owners = [c.slug for c in config.categories if cookie in c.cookies]
    return not owners or any(state.allows(slug) for slug in owners)
