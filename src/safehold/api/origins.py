"""Which web origins may call the consent API from a browser with a public site key.

A site key lists its allowed origins (``https://www.example.com``). A browser request
that carries an ``Origin`` header and a site key is refused unless the origin is one
of the key's; the CORS headers (safehold.api.middleware) are given only to origins
that some active site key allows. Requests without credentials: the embed keeps its
visitor id in the embedding site's own cookie and sends it in the body, so no
Safehold cookie is ever set or read on another site.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.db import transaction

from safehold.api.exceptions import ApiKeyNotFound, ApiProblem, InvalidKeySettings
from safehold.api.models import ApiKey
from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CACHE_TTL = 10.0
_lock = threading.Lock()
_cache: tuple[float, frozenset[str]] | None = None


class OriginNotAllowed(ApiProblem):
    code = "forbidden"


def normalize_origin(text: str) -> str:
    """``scheme://host[:port]`` in lower case, the default port dropped.

    Raises ``ValueError`` for anything that is not an http(s) origin.
    """
    raw = text.strip()
    parts = urlsplit(raw)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{raw!r} is not an origin like https://www.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{raw!r} is not an origin: no path, query or user name")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{raw!r} has an invalid port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def parse_origins(values: Iterable[str] | str) -> list[str]:
    """Origins from a list or a comma/space/newline-separated text; raises
    ``InvalidKeySettings`` naming the first bad one."""
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    result: list[str] = []
    for value in values:
        if not value.strip():
            continue
        try:
            origin = normalize_origin(value)
        except ValueError as exc:
            raise InvalidKeySettings(str(exc)) from None
        if origin not in result:
            result.append(origin)
    return result


def set_allowed_origins(key_id: int, origins: Iterable[str] | str, *, actor: Actor) -> ApiKey:
    """Replace a site key's allowed origins. Raises ``ApiKeyNotFound`` or
    ``InvalidKeySettings`` (a bad origin, or a server key: those never run in browsers)."""
    chosen = parse_origins(origins)
    with transaction.atomic():
        try:
            api_key = ApiKey.objects.select_for_update().get(pk=key_id)
        except ApiKey.DoesNotExist:
            raise ApiKeyNotFound(f"no API key with id {key_id}") from None
        if api_key.kind != ApiKey.Kind.SITE and chosen:
            raise InvalidKeySettings("only a public site key has allowed origins")
        api_key.allowed_origins = chosen
        api_key.save(update_fields=["allowed_origins"])
        record_event(
            EventType.CONSENT_SITE_ORIGINS_CHANGED,
            actor=actor,
            detail={"key_id": api_key.pk, "origins": len(chosen)},
        )
    transaction.on_commit(forget)
    return api_key


def key_allows(api_key: ApiKey, origin: str) -> bool:
    try:
        return normalize_origin(origin) in (api_key.allowed_origins or [])
    except ValueError:
        return False


def site_origins() -> frozenset[str]:
    """Every origin that an active site key allows (kept for a few seconds per process)."""
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < _CACHE_TTL:
        return cached[1]
    with _lock:
        found: set[str] = set()
        for origins in ApiKey.objects.filter(
            kind=ApiKey.Kind.SITE, revoked_at__isnull=True
        ).values_list("allowed_origins", flat=True):
            found.update(origins or [])
        result = frozenset(found)
        _cache = (now, result)
    return result


def is_site_origin(origin: str) -> bool:
    try:
        return normalize_origin(origin) in site_origins()
    except ValueError:
        return False


def forget() -> None:
    """Forget the cached origins (after a change; in tests)."""
    global _cache
    _cache = None
