"""The privacy statement's promise checks, and the "no third-party host" check.

Each check returns ``promises.Result`` and is cheap enough to run on demand; the
promise map caches results (``results()``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from safehold.core.promises import Result, Status

_CSP_KEYWORDS = {
    "'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'",
    "'report-sample'", "'wasm-unsafe-eval'", "data:", "blob:",
}  # fmt: skip
#: An element that makes the browser load something, pointing at another host.
_EXTERNAL_LOAD = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed|object|track)\b[^>]*?"
    r"\b(?:src|href|data|srcset)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)
_CSS_EXTERNAL = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])\s*(?:https?:)?//", re.IGNORECASE)


def _csp_hosts() -> list[str]:
    config = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    directives = config.get("DIRECTIVES", {})
    hosts = []
    for name, values in directives.items():
        if isinstance(values, str):
            values = [values]
        for value in values or []:
            text = str(value)
            if text in _CSP_KEYWORDS or text.startswith(("'nonce-", "'sha")):
                continue
            if name in ("report-uri", "report-to", "sandbox", "upgrade-insecure-requests"):
                continue
            hosts.append(f"{name} {text}")
    return hosts


def _files(kind: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Every template or static file of every installed app (and the project dirs)."""
    roots: list[Path] = []
    for config in apps.get_app_configs():
        roots.append(Path(config.path) / kind)
    if kind == "templates":
        for engine in settings.TEMPLATES:
            dirs: list[Any] = engine.get("DIRS", [])  # type: ignore[assignment]  # a dict of settings
            roots.extend(Path(str(d)) for d in dirs)
    else:
        static_dirs: list[str] = list(getattr(settings, "STATICFILES_DIRS", []))
        roots.extend(Path(str(d)) for d in static_dirs)
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(p for p in root.rglob("*") if p.suffix in suffixes and p.is_file())
    return found


#: Templates shipped by a library that Safehold never renders: ninja's CDN variants of
#: its docs pages (Safehold's docs page, api/docs.html, serves Swagger UI from this host).
_NEVER_RENDERED = ("ninja/templates/ninja/swagger_cdn.html", "ninja/templates/ninja/redoc_cdn.html")


def check_no_third_party_host() -> Result:
    """The CSP allows no other host, and no template or style sheet of any installed
    app loads a resource (script, style, image, frame, font) from an absolute URL."""
    hosts = _csp_hosts()
    if hosts:
        return Result(Status.BROKEN, f"the Content-Security-Policy allows {hosts[0]}")
    checked = 0
    for path in _files("templates", (".html", ".txt")) + _files("static", (".css", ".html")):
        if path.as_posix().endswith(_NEVER_RENDERED):
            continue
        checked += 1
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        pattern = _CSS_EXTERNAL if path.suffix == ".css" else _EXTERNAL_LOAD
        if pattern.search(text):
            return Result(Status.BROKEN, f"{path.name} loads something from another host")
    return Result(
        Status.HOLDS,
        _("The Content-Security-Policy allows this host only; %(files)d templates and style "
          "sheets load nothing from elsewhere.") % {"files": checked},
    )  # fmt: skip


def check_statement_published() -> Result:
    """A version of the statement is in force, with an English text."""
    from safehold.policy import services
    from safehold.policy.models import FALLBACK_LANGUAGE

    version = services.current_version()
    if version is None:
        return Result(Status.BROKEN, _("No version of the privacy statement is in force."))
    if not version.texts.filter(language=FALLBACK_LANGUAGE).exists():
        return Result(Status.BROKEN, f"version {version.number} has no English text")
    return Result(
        Status.HOLDS,
        _("Version %(number)d is in force since %(date)s; every version stays in the history.")
        % {"number": version.number, "date": version.effective_at.date().isoformat()},  # type: ignore[union-attr]  # in force means dated
    )


def check_updates_acknowledged() -> Result:
    """People are asked to acknowledge material changes: the middleware that asks is
    installed. The detail says how many people have not acknowledged yet."""
    from safehold.accounts.models import User
    from safehold.policy import services

    middleware = "safehold.policy.middleware.AcknowledgementMiddleware"
    if middleware not in settings.MIDDLEWARE:
        return Result(Status.BROKEN, "the acknowledgement middleware is not installed")
    in_force = services._in_force()
    material = next((p for p in in_force if p.material), None)
    if material is None:
        return Result(Status.HOLDS, _("No material change has been published yet."))
    later = [p.pk for p in in_force if p.effective_at >= material.effective_at]
    waiting = (
        User.objects.filter(is_active=True, date_joined__lt=material.effective_at)
        .exclude(statement_acks__version_id__in=later)
        .count()
    )
    return Result(
        Status.HOLDS,
        _("Version %(number)d is a material change; %(waiting)d people will be asked to "
          "acknowledge it at their next visit.") % {"number": material.number, "waiting": waiting},
    )  # fmt: skip
