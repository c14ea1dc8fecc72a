"""``{% consent_allows "preferences" as ok %}`` and the banner (``{% consent_banner %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils import translation

from safehold.consent import services, web

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_allows(context: template.Context, category: str) -> bool:
    """Whether the visitor allows ``category`` (False outside a request)."""
    request = context.get("request")
    if request is None:
        return False
    return web.consent_of(request).allows(category)


@register.inclusion_tag("consent/banner.html", takes_context=True)
def consent_banner(context: template.Context) -> dict[str, Any]:
    """The banner (when a choice is needed), the blocked scripts and the language note."""
    request = context.get("request")
    if request is None:
        return {"show": False, "scripts": []}
    state = web.consent_of(request)
    config = services.get_config()
    language = translation.get_language()
    language_note = False
    if (
        not web.allows_cookie(state, settings.LANGUAGE_COOKIE_NAME, config)
        and settings.SESSION_COOKIE_NAME in request.COOKIES
        and hasattr(request, "session")
    ):
        language_note = bool(request.session.get(web.SESSION_LANGUAGE))
    preferences = next(
        (c for c in config.categories if settings.LANGUAGE_COOKIE_NAME in c.cookies), None
    )
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "show": state.needs_choice and not context.get("hide_consent_banner"),
        "state": state,
        "allowed": " ".join(sorted(state.allowed)),
        "config": config,
        "categories": [
            {"slug": c.slug, "name": c.name(language), "necessary": c.is_necessary}
            for c in config.categories
        ],
        "scripts": [(c.slug, url, c.is_necessary) for c in config.categories for url in c.scripts],
        "language_note": language_note,
        "preferences": preferences.slug if preferences else "",
        "next": request.get_full_path(),
    }
