"""The API app's state changes and key checks. The admin, the command line and the
API call these; they write nothing else.

Tokens look like ``sh_live_<prefix>_<secret>`` (server keys) or
``sh_site_<prefix>_<secret>`` (public site keys): a 12-hex-digit public prefix that
names the key, and 32 random bytes in hex. The database keeps the prefix and the
SHA-256 of the whole token, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from safehold.api.exceptions import (
    ApiKeyExpired,
    ApiKeyNotFound,
    ApiKeyRevoked,
    InvalidApiKey,
    InvalidKeySettings,
)
from safehold.api.models import ApiKey
from safehold.api.scopes import SITE_KEY_SCOPES, Scope, parse_scopes
from safehold.audit.events import ActorKind, EventType
from safehold.audit.services import Actor, record_event

if TYPE_CHECKING:
    from django.http import HttpRequest

    from safehold.accounts.models import User

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"^sh_(live|site)_([0-9a-f]{12})_([0-9a-f]{64})$")
_TOKEN_KINDS = {"live": ApiKey.Kind.SERVER, "site": ApiKey.Kind.SITE}
# Compared against when no key has the prefix, so that a miss costs what a hit does.
_NO_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()
_KEY_BY_PREFIX = f"SELECT * FROM {ApiKey._meta.db_table} WHERE prefix = %s"  # noqa: S608  # the model's own table name
# How often a key's "last used" time is written: a write per request would be waste.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its token, which exists only here: show it once, then drop it."""

    api_key: ApiKey
    token: str


def create_api_key(
    *,
    name: str,
    scopes: Iterable[str],
    kind: str = ApiKey.Kind.SERVER,
    expires_at: datetime | None = None,
    actor: User | None,
) -> IssuedKey:
    """Create a key and return it with its token (the only time the token exists).

    ``actor`` is the staff member creating it (None from the command line, where
    the operator is whoever can run it). Raises ``InvalidKeySettings`` for an
    empty name, an unknown scope, a scope a site key may not hold, no scope at
    all, or an expiry that has passed.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidKeySettings("a key needs a name of 1 to 100 characters")
    if kind not in ApiKey.Kind.values:
        raise InvalidKeySettings(f"unknown key kind {kind!r} (server or site)")
    try:
        chosen = parse_scopes(list(scopes))
    except ValueError as exc:
        raise InvalidKeySettings(str(exc)) from None
    if not chosen:
        raise InvalidKeySettings("a key needs at least one scope")
    if kind == ApiKey.Kind.SITE and not chosen <= SITE_KEY_SCOPES:
        extra = ", ".join(sorted(chosen - SITE_KEY_SCOPES))
        allowed = ", ".join(sorted(SITE_KEY_SCOPES))
        raise InvalidKeySettings(f"a public site key may hold only {allowed}, not {extra}")
    if expires_at is not None and expires_at <= _now():
        raise InvalidKeySettings("the expiry must be in the future")

    label = "site" if kind == ApiKey.Kind.SITE else "live"
    for _attempt in range(5):
        prefix = secrets.token_hex(6)
        token = f"sh_{label}_{prefix}_{secrets.token_hex(32)}"
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    name=name,
                    kind=kind,
                    prefix=prefix,
                    key_hash=hash_token(token),
                    scopes=sorted(scope.value for scope in chosen),
                    expires_at=expires_at,
                    created_by=actor if actor is not None and actor.pk else None,
                )
                record_event(
                    EventType.API_KEY_CREATED,
                    actor=_audit_actor(actor),
                    detail={"key_id": api_key.pk, "kind": kind, "scopes": api_key.scopes},
                )
        except IntegrityError:  # a prefix collision (48 random bits): draw again
            continue
        logger.info("api.key_created key_id=%s kind=%s", api_key.pk, kind)
        return IssuedKey(api_key=api_key, token=token)
    raise RuntimeError("could not draw an unused key prefix")


def revoke_api_key(key_id: int, *, actor: User | None) -> tuple[ApiKey, bool]:
    """Revoke the key; every later request with it is refused (there is no cache).

    Returns the key and whether this call revoked it (False if it already was).
    Raises ``ApiKeyNotFound``.
    """
    with transaction.atomic():
        try:
            api_key = ApiKey.objects.select_for_update().get(pk=key_id)
        except ApiKey.DoesNotExist:
            raise ApiKeyNotFound(f"no API key with id {key_id}") from None
        if api_key.revoked_at is not None:
            return api_key, False
        api_key.revoked_at = _now()
        api_key.save(update_fields=["revoked_at"])
        record_event(
            EventType.API_KEY_REVOKED, actor=_audit_actor(actor), detail={"key_id": api_key.pk}
        )
    logger.info("api.key_revoked key_id=%s", api_key.pk)
    return api_key, True


def authenticate_key(token: str) -> ApiKey:
    """The active key whose token this is.

    Raises ``InvalidApiKey`` (not a Safehold token, or no key has it),
    ``ApiKeyRevoked`` or ``ApiKeyExpired``. Records the time of use, at most once
    a minute per key.
    """
    match = _TOKEN.match(token)
    if match is None:
        raise InvalidApiKey("The key is not a Safehold API key.")
    digest = hash_token(token)
    # A raw query: the same row, without compiling a query on every API request.
    found = ApiKey.objects.raw(_KEY_BY_PREFIX, [match.group(2)])
    api_key = next(iter(found), None)
    stored = api_key.key_hash if api_key is not None else _NO_KEY_HASH
    if not hmac.compare_digest(stored, digest) or api_key is None:
        raise InvalidApiKey("No API key has this secret.")
    if api_key.kind != _TOKEN_KINDS[match.group(1)]:
        raise InvalidApiKey("No API key has this secret.")
    now = _now()
    if api_key.revoked_at is not None:
        raise ApiKeyRevoked("This API key has been revoked.")
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise ApiKeyExpired("This API key has expired.")
    _touch(api_key, now)
    return api_key


def _touch(api_key: ApiKey, now: datetime) -> None:
    stale = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at > stale:
        return
    # Conditional, so concurrent requests write once.
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    api_key.last_used_at = now


def key_scopes(api_key: ApiKey) -> frozenset[Scope]:
    """The scopes the key holds now. Unknown strings (a scope since retired) grant
    nothing, and a site key never holds more than the embed needs, whatever its row says.
    """
    held = set()
    for value in api_key.scopes:
        try:
            held.add(Scope(value))
        except ValueError:
            continue
    if api_key.kind == ApiKey.Kind.SITE:
        held &= SITE_KEY_SCOPES
    return frozenset(held)


def _audit_actor(actor: User | None) -> Actor:
    """A staff member in the admin, or the operator at the command line (the system)."""
    if actor is None or not actor.pk:
        return Actor.system()
    return Actor(ActorKind.STAFF if actor.is_staff else ActorKind.PERSON, str(actor.pk))


def api_actor(request: HttpRequest) -> Actor:
    """The caller of an API request as the audit log names it: the key, or the person
    signed in (the browser side), with the request's id and client IP."""
    caller = getattr(request, "auth", None)
    api_key = getattr(caller, "api_key", None)
    if api_key is not None:
        return Actor.from_request(request, api_key_id=str(api_key.pk))
    return Actor.from_request(request)


def record_api_read(request: HttpRequest, *, subject: User | None, operation: str) -> None:
    """Record that an API call read a person's data (changes record their own events,
    with ``api_actor`` as the actor). ``operation`` is the route's operation id."""
    record_event(
        EventType.API_PERSONAL_DATA_READ,
        actor=api_actor(request),
        subject=subject,
        detail={"operation": operation},
    )
