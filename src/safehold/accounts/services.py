"""The accounts app's state changes. Views and commands call these; they write nothing else.

Each change runs in one transaction. (The audit log, once it lands, records its
event inside the same transaction.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from safehold.accounts.adapter import AccountAdapter, client_ip
from safehold.accounts.exceptions import HintRevealsPassword, TooManyAttempts, WrongPassword
from safehold.accounts.geo import get_geolocator
from safehold.accounts.models import SignedInSession, User
from safehold.accounts.validators import hint_reveals_password
from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event

logger = logging.getLogger(__name__)

# How often a session's "last seen" is written: a write per request would be waste.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


# --- Profile ------------------------------------------------------------------------------


def update_profile(
    user: User,
    *,
    name: str,
    mailing_address: str,
    phone: str,
    actor: User,
    request: HttpRequest | None = None,
) -> User:
    """Save the person's name, mailing address and phone (already validated, phone in E.164).

    Permission: ``actor`` must be the person; staff can see (masked) but not change it.
    """
    if actor.pk != user.pk:
        raise PermissionError("a person's profile is changed by that person")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = [
            field
            for field, value in (
                ("name", name),
                ("mailing_address", mailing_address),
                ("phone", phone),
            )
            if getattr(locked, field) != value
        ]
        locked.name = name
        locked.mailing_address = mailing_address
        locked.phone = phone
        locked.save(update_fields=["name", "mailing_address", "phone"])
        record_event(
            EventType.PROFILE_UPDATED,
            actor=Actor.from_request(request),
            subject=locked,
            detail={"fields": changed},
        )
    user.name, user.mailing_address, user.phone = name, mailing_address, phone
    return user


# --- Staff access -----------------------------------------------------------------------------

REVEALABLE_FIELDS = frozenset({"name", "email", "mailing_address", "phone"})


def reveal_personal_field(
    person: User, field: str, *, purpose: str, explanation: str, request: HttpRequest
) -> str:
    """Return one of ``person``'s personal fields unmasked, and record who saw it and why.

    Permission: the caller must be staff with ``accounts.reveal_personal_data``
    (checked here too). The explanation is sealed under the person's key in the log.
    """
    viewer = request.user
    if not (
        viewer.is_authenticated
        and viewer.is_staff
        and viewer.has_perm("accounts.reveal_personal_data")
    ):
        raise PermissionError("revealing personal data needs the reveal permission")
    if field not in REVEALABLE_FIELDS:
        raise PermissionError(f"{field} cannot be revealed")
    with transaction.atomic():
        record_event(
            EventType.PII_REVEALED,
            actor=Actor.from_request(request),
            subject=person,
            purpose=purpose,
            note=explanation.strip(),
            detail={"field": field},
        )
    return str(getattr(person, field))


# --- Password hint ---------------------------------------------------------------------------


def set_password_hint(
    user: User, *, hint: str, current_password: str, actor: User, request: HttpRequest | None = None
) -> None:
    """Set (or, with an empty ``hint``, remove) the person's password hint.

    Raises ``WrongPassword`` if ``current_password`` is not the account's password,
    and ``HintRevealsPassword`` if the hint contains the password or is too close to it.
    """
    if actor.pk != user.pk:
        raise PermissionError("a password hint is set by the account's owner")
    if request is not None and not ratelimit.consume(request, action="change_password", user=user):
        raise TooManyAttempts()
    if not user.check_password(current_password):
        raise WrongPassword()
    hint = hint.strip()
    if hint and hint_reveals_password(hint, current_password):
        raise HintRevealsPassword()
    with transaction.atomic():
        user.password_hint = hint
        user.save(update_fields=["password_hint"])
        record_event(
            EventType.PASSWORD_HINT_CHANGED,
            actor=Actor.from_request(request),
            subject=user,
            detail={"removed": not hint},
        )


def find_account_by_phone(phone_e164: str) -> User | None:
    """The account with this phone number (E.164), found through the blind index."""
    from safehold.vault.fields import blind_index

    digest = blind_index(User, "phone", phone_e164)
    return User.objects.filter(phone_index=digest).first() if digest else None


def _find_account(identifier: str) -> User | None:
    """The active account whose user name or verified e-mail is ``identifier``."""
    identifier = identifier.strip()
    if not identifier:
        return None
    users = get_user_model().objects.filter(is_active=True)
    if "@" in identifier:
        address = (
            EmailAddress.objects.filter(email__iexact=identifier, verified=True)
            .select_related("user")
            .first()
        )
        return address.user if address and address.user.is_active else None
    return users.filter(username__iexact=identifier).first()


def send_password_hint(request: HttpRequest, identifier: str) -> bool:
    """E-mail the account's password hint to its verified primary address.

    ``identifier`` is a user name or e-mail address. Returns False only when the
    caller's IP has asked too often (the page then says so); otherwise True,
    whether or not anything was sent, so the answer never tells whether an account
    exists. Nothing is sent when no account matches, the account has no hint, it
    has no verified primary address, or that account has had its hint sent too
    often recently.
    """
    if not ratelimit.consume(request, action="password_hint"):
        return False
    user = _find_account(identifier)
    if user is None or not user.password_hint:
        return True
    if not ratelimit.consume(request, action="password_hint_account", key=f"user:{user.pk}"):
        return True
    primary = EmailAddress.objects.filter(user=user, primary=True, verified=True).first()
    if primary is None:
        return True
    record_event(EventType.PASSWORD_HINT_SENT, actor=Actor.from_request(request), subject=user)
    email, hint = primary.email, user.password_hint

    # After the commit, outside the audit log's lock: a slow mail server must not hold
    # up every audited write, and a rolled-back request sends nothing.
    def send() -> None:
        from allauth.core.context import request_context

        with request_context(request):
            AccountAdapter(request).send_mail(
                "accounts/email/password_hint", email, {"user": user, "hint": hint}
            )

    transaction.on_commit(send)
    logger.info("password hint sent request_id=%s", getattr(request, "request_id", "-"))
    return True


# --- Signed-in sessions -------------------------------------------------------------------------


def _session_store() -> type[SessionBase]:
    return import_string(settings.SESSION_ENGINE).SessionStore


def _describe_client(request: HttpRequest) -> dict[str, object]:
    from ua_parser import parse

    parsed = parse(request.META.get("HTTP_USER_AGENT", "")[:512])
    ua, os_, device = parsed.user_agent, parsed.os, parsed.device
    browser = " ".join(part for part in (ua.family, ua.major) if part) if ua else ""
    os_name = " ".join(part for part in (os_.family, os_.major) if part) if os_ else ""
    device_name = device.family if device and device.family != "Other" else ""
    ip = client_ip(request)
    return {
        "browser": browser[:100],
        "os": os_name[:100],
        "device": device_name[:100],
        "ip_address": ip,
        "place": get_geolocator().locate(ip)[:8] if ip else "",
    }


#: The session remembers which row describes it: Django changes the session key on
#: sign-in and password change, and the row must follow.
SESSION_ROW = "safehold.session_row"


def _row_for(request: HttpRequest) -> SignedInSession | None:
    row_id = request.session.get(SESSION_ROW)
    if row_id:
        row = SignedInSession.objects.filter(vault_row=row_id).first()
        if row is not None:
            return row
    key = request.session.session_key
    return SignedInSession.objects.filter(session_key=key).first() if key else None


def record_session(request: HttpRequest, user: User) -> SignedInSession | None:
    """Create or refresh the row describing this browser's session for ``user``."""
    session_key = request.session.session_key
    if not session_key:
        request.session.save()
        session_key = request.session.session_key
    if not session_key:
        return None
    with transaction.atomic():
        row = _row_for(request)
        if row is None or row.user_id != user.pk:
            row = SignedInSession(user=user)
        for name, value in _describe_client(request).items():
            setattr(row, name, value)
        row.session_key = session_key
        row.last_seen_at = _now()
        row.save()
    request.session[SESSION_ROW] = str(row.vault_row)
    return row


def sync_session_key(request: HttpRequest) -> None:
    """Point this browser's row at its session's current key (after Django changed it)."""
    row = _row_for(request)
    key = request.session.session_key
    if row is not None and key and row.session_key != key:
        row.session_key = key
        row.save(update_fields=["session_key"])


def touch_session(request: HttpRequest) -> None:
    """Note that the signed-in browser is active, at most once a minute."""
    if not request.session.session_key:
        return
    row = _row_for(request)
    if (
        row is None
        or row.user_id != request.user.pk
        or row.session_key != request.session.session_key
        or _now() - row.last_seen_at >= LAST_SEEN_RESOLUTION
    ):
        record_session(request, request.user)  # type: ignore[arg-type]  # authenticated here


def forget_session(session_key: str | None) -> None:
    """Drop the row of a session that has ended (sign-out)."""
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


def list_sessions(user: User) -> list[SignedInSession]:
    """The person's live sessions, newest activity first; rows of expired sessions are pruned."""
    store = _session_store()
    rows = list(SignedInSession.objects.filter(user=user))
    live: list[SignedInSession] = []
    dead: list[SignedInSession] = []
    for row in rows:
        (live if store().exists(row.session_key) else dead).append(row)
    if dead:
        SignedInSession.objects.filter(pk__in=[row.pk for row in dead]).delete()
    return live


def sign_out_sessions(
    user: User,
    *,
    current_session_key: str | None,
    session_id: int | None = None,
    actor: User,
    request: HttpRequest | None = None,
    reason: str = "requested",
) -> int:
    """Sign out one of the person's other sessions (``session_id``), or all others.

    The current session is never signed out here (that is the ordinary sign-out).
    A ``session_id`` that is not one of ``user``'s other sessions signs out nothing.
    Returns the number of sessions signed out.
    """
    if actor.pk != user.pk:
        raise PermissionError("sessions are signed out by the account's owner")
    query = SignedInSession.objects.filter(user=user)
    if current_session_key:
        query = query.exclude(session_key=current_session_key)
    if session_id is not None:
        query = query.filter(pk=session_id)
    store = _session_store()
    with transaction.atomic():
        rows = list(query.select_for_update())
        for row in rows:
            store(session_key=row.session_key).delete()
        SignedInSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
        if rows:
            record_event(
                EventType.SESSIONS_SIGNED_OUT,
                actor=Actor.from_request(request),
                subject=user,
                detail={"count": len(rows), "reason": reason},
            )
    return len(rows)


# --- Who accessed my data ---------------------------------------------------------------------


@dataclass(frozen=True)
class AccessEntry:
    """One audit event about a person, as their access page shows it."""

    seq: int
    when: datetime
    event_type: str
    actor_kind: str
    purpose: str
    note: str
    detail: dict[str, object]
    data_b64: str
    proof_b64: list[str] | None  # None: not covered by a checkpoint yet

    @property
    def field_label(self) -> str:
        """The revealed field, in the reader's language."""
        from django.utils.translation import gettext, pgettext

        labels = {
            "name": pgettext("a person's", "name"),
            "email": gettext("e-mail address"),
            "mailing_address": gettext("mailing address"),
            "phone": gettext("phone number"),
        }
        return labels.get(str(self.detail.get("field", "")), gettext("personal data"))


def access_history(user: User) -> tuple[list[AccessEntry], str | None]:
    """Events about ``user`` that someone else caused (staff reveals; later disclosures and
    exports), newest first, each with its inclusion proof in the latest checkpoint; and
    that checkpoint as published text (None if there is none yet)."""
    import base64

    from safehold.audit import services as audit
    from safehold.audit.events import ACCESS_EVENTS

    records = audit.events_about(user.pk, types=frozenset(str(t) for t in ACCESS_EVENTS))
    checkpoint = audit.latest_checkpoint()
    published = audit.published(checkpoint).text() if checkpoint else None
    entries = []
    for record in records:
        private = audit.open_sealed(record) or {}
        proof = None
        if checkpoint is not None and record.seq < checkpoint.tree_size:
            proof = [
                base64.b64encode(h).decode()
                for h in audit.inclusion_proof(record.seq, checkpoint.tree_size)
            ]
        entries.append(
            AccessEntry(
                seq=record.seq,
                when=record.when,
                event_type=record.event_type,
                actor_kind=record.actor_kind,
                purpose=record.purpose,
                note=private.get("note", ""),
                detail=record.detail_dict,
                data_b64=base64.b64encode(record.to_bytes()).decode(),
                proof_b64=proof,
            )
        )
    return entries, published


def audit_public_key() -> str:
    from safehold.audit import signing

    return signing.public_key_text()
