"""The account's own part of "download my data" and of erasure.

The accounts app holds the profile, e-mail addresses, signed-in sessions and second
factors; this module exports and erases them for it (through model APIs: the
accounts app is not changed). Secrets are never exported: not the password hash,
not an authenticator's secret, not the recovery codes, and not the password hint
(the account only ever e-mails it to the verified address; the export says whether
one is set).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from safehold.accounts.models import SignedInSession, User
from safehold.audit.events import ActorKind
from safehold.audit.models import Event
from safehold.audit.services import EventRecord, open_sealed
from safehold.vault.fields import is_erased

_AUDIT_CHUNK = 2000


def _text(value: Any) -> str:
    return "" if value is None or is_erased(value) else str(value)


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- Exporters --------------------------------------------------------------------------------

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "user_id",
        "username",
        "name",
        "email",
        "mailing_address",
        "phone",
        "password_hint_set",
        "date_joined",
        "last_login",
        "is_active",
    ],
    "properties": {
        "user_id": {"type": "integer", "description": "Your account number."},
        "username": {"type": "string", "description": "Your user name."},
        "name": {"type": "string", "description": "Your name as you gave it."},
        "email": {"type": "string", "description": "Your primary e-mail address."},
        "mailing_address": {"type": "string", "description": "Your mailing address."},
        "phone": {"type": "string", "description": "Your phone number (E.164)."},
        "password_hint_set": {
            "type": "boolean",
            "description": "Whether you set a password hint (the hint itself is only e-mailed).",
        },
        "date_joined": {"type": "string", "format": "date-time"},
        "last_login": {"type": ["string", "null"], "format": "date-time"},
        "is_active": {"type": "boolean"},
    },
}


def export_profile(user: User) -> Iterator[dict[str, Any]]:
    yield {
        "user_id": user.pk,
        "username": user.username,
        "name": _text(user.name),
        "email": user.email,
        "mailing_address": _text(user.mailing_address),
        "phone": _text(user.phone),
        "password_hint_set": bool(_text(user.password_hint)),
        "date_joined": user.date_joined.isoformat(),
        "last_login": _time(user.last_login),
        "is_active": user.is_active,
    }


EMAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "primary", "verified"],
    "properties": {
        "email": {"type": "string"},
        "primary": {"type": "boolean"},
        "verified": {"type": "boolean"},
    },
}


def export_email_addresses(user: User) -> Iterator[dict[str, Any]]:
    for address in EmailAddress.objects.filter(user=user).order_by("pk").iterator():
        yield {"email": address.email, "primary": address.primary, "verified": address.verified}


SESSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["signed_in", "last_seen", "browser", "os", "device", "ip_address", "place"],
    "properties": {
        "signed_in": {"type": "string", "format": "date-time"},
        "last_seen": {"type": "string", "format": "date-time"},
        "browser": {"type": "string"},
        "os": {"type": "string"},
        "device": {"type": "string"},
        "ip_address": {"type": "string"},
        "place": {"type": "string", "description": "A country code, or 'local'."},
    },
}


def export_sessions(user: User) -> Iterator[dict[str, Any]]:
    rows = SignedInSession.objects.filter(user=user).order_by("created_at", "pk")
    for row in rows.iterator(chunk_size=500):
        row.user = user  # one data key look-up for all rows
        yield {
            "signed_in": row.created_at.isoformat(),
            "last_seen": row.last_seen_at.isoformat(),
            "browser": _text(row.browser),
            "os": _text(row.os),
            "device": _text(row.device),
            "ip_address": _text(row.ip_address),
            "place": _text(row.place),
        }


TWO_FACTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "added", "last_used"],
    "properties": {
        "type": {"enum": ["totp", "recovery_codes", "webauthn"]},
        "added": {"type": "string", "format": "date-time"},
        "last_used": {"type": ["string", "null"], "format": "date-time"},
    },
}


def export_two_factor(user: User) -> Iterator[dict[str, Any]]:
    # Only that a factor exists and when it was used: never its secret or codes.
    for factor in Authenticator.objects.filter(user=user).order_by("pk").iterator():
        yield {
            "type": factor.type,
            "added": factor.created_at.isoformat(),
            "last_used": _time(factor.last_used_at),
        }


AUDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["seq", "time", "event", "actor", "by_you", "purpose", "detail", "note"],
    "properties": {
        "seq": {"type": "integer", "description": "The event's number in the audit log."},
        "time": {"type": "string", "format": "date-time"},
        "event": {
            "type": "string",
            "description": "What happened (e.g. account:signed-out).",
        },
        "actor": {"enum": [str(kind) for kind in ActorKind]},
        "by_you": {"type": "boolean", "description": "Whether you did it yourself."},
        "purpose": {"type": "string", "description": "Why staff looked (support, legal, ...)."},
        "detail": {"type": "object"},
        "note": {"type": "string", "description": "The note staff gave, if any."},
        "ip_address": {"type": "string", "description": "Your IP address, for what you did."},
    },
}


def _gagged_legal_requests(user: User) -> frozenset[int]:
    """Legal requests about the person still under a non-disclosure order (review date
    after today): the sharing app hides their disclosures until then, so their audit
    events stay out of the export too (telling the person would break the order)."""
    if not apps.is_installed("safehold.sharing"):
        return frozenset()
    legal_request = apps.get_model("sharing", "LegalRequest")
    return frozenset(
        legal_request.objects.filter(
            person=user, gag_review_date__gt=timezone.localdate()
        ).values_list("pk", flat=True)
    )


def export_audit_events(user: User) -> Iterator[dict[str, Any]]:
    """The audit events about the person, oldest first, read in chunks (flat memory).

    Events about a legal request under a non-disclosure order are left out until the
    order ends (``_gagged_legal_requests``).
    """
    last = -1
    subject = str(user.pk)
    gagged = _gagged_legal_requests(user)
    while True:
        chunk = list(
            Event.objects.filter(subject_id=subject, seq__gt=last)
            .order_by("seq")
            .values_list("seq", "data")[:_AUDIT_CHUNK]
        )
        if not chunk:
            return
        for _seq, data in chunk:
            record = EventRecord.from_bytes(bytes(data))
            detail = record.detail_dict
            if gagged and detail.get("legal_request") in gagged:
                continue
            by_you = record.actor_kind == ActorKind.PERSON and record.actor_id == subject
            private = open_sealed(record) or {}
            row: dict[str, Any] = {
                "seq": record.seq,
                "time": record.occurred_at,
                "event": record.event_type,
                "actor": record.actor_kind,
                "by_you": by_you,
                "purpose": record.purpose,
                "detail": detail,
                "note": private.get("note", ""),
            }
            if by_you and private.get("ip"):  # someone else's IP is theirs, not yours
                row["ip_address"] = private["ip"]
            yield row
        last = chunk[-1][0]


# --- Erasers ----------------------------------------------------------------------------------


def erase_sessions(user: User) -> int:
    """End every signed-in session of the person and drop the rows describing them."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = list(SignedInSession.objects.filter(user=user).values_list("pk", "session_key"))
    for _pk, session_key in rows:
        store(session_key=session_key).delete()
    SignedInSession.objects.filter(pk__in=[pk for pk, _key in rows]).delete()
    return len(rows)


def erase_email_addresses(user: User) -> int:
    deleted, _per_model = EmailAddress.objects.filter(user=user).delete()
    return deleted


def erase_two_factor(user: User) -> int:
    deleted, _per_model = Authenticator.objects.filter(user=user).delete()
    return deleted
