"""The contact app's state changes and staff reads. Views call these; they write nothing else.

Every change runs in one transaction with its audit event. Reading a message's personal
content as staff (``read_message``) is an access to personal data and is recorded as
``contact:message:read``, with the staff member as actor and the sender as subject when
the sender has an account. The inbox list (``inbox``) shows no personal content, so it
records nothing. Mail goes after the commit: a rolled-back change sends nothing, and a
slow mail server holds no lock; a failed send is logged (without personal data) and the
message stays stored and visible in the inbox.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.feedback import ratelimit
from safehold.feedback.exceptions import NoAddress, NotAllowed, TooManyMessages
from safehold.feedback.models import (
    OPEN_STATUSES,
    Category,
    ContactMessage,
    Note,
    Reply,
    Status,
    fold_email,
)
from safehold.vault import keys
from safehold.vault.fields import blind_index, is_erased

if TYPE_CHECKING:
    from safehold.accounts.models import User

logger = logging.getLogger(__name__)

VIEW_PERMISSION = "feedback.view_inbox"
REPLY_PERMISSION = "feedback.reply"
# Crockford's base32 without look-alikes (no I, L, O, U): read aloud or typed, it survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


def new_reference() -> str:
    """``SH-XXXX-XXXX``: 40 random bits, so references cannot be guessed or counted."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"SH-{chars[:4]}-{chars[4:]}"


# --- Sending --------------------------------------------------------------------------------


def check_ip_rate(ip: str | None) -> None:
    """Count one attempt to send from ``ip``; raise ``TooManyMessages`` past the limit.

    Called for every submission of the form, valid or not, so a flood of junk from one
    network is stopped before it is even validated.
    """
    if not ip:
        return
    wait = ratelimit.hit("ip", ip, settings.SAFEHOLD_CONTACT_RATE_IP)
    if wait is not None:
        raise TooManyMessages(wait, per="ip")


def send_message(
    *,
    sender: User | None,
    email: str,
    name: str,
    category: str,
    body: str,
    language: str,
    actor: Actor,
    account_url: str = "",
    inbox_url: str = "",
) -> ContactMessage:
    """Store a message (sealed under a key of its own) and e-mail the acknowledgement.

    ``sender`` is the signed-in person, or None for an anonymous visitor, whose
    ``email`` is then required (the form checks it). For a signed-in person, ``email``
    is their primary address. Raises ``TooManyMessages`` if this address has sent too
    many messages recently (nothing is stored then). The acknowledgement names the
    reference and goes after the commit, with a notice (reference and category only)
    to the addresses in SAFEHOLD_CONTACT_NOTIFY.
    """
    email = email.strip()
    if not email:
        raise ValueError("a message needs an address to answer")
    if category not in Category.values:
        raise ValueError("unknown category")
    wait = ratelimit.hit("email", fold_email(email), settings.SAFEHOLD_CONTACT_RATE_EMAIL)
    if wait is not None:
        raise TooManyMessages(wait, per="email")
    with transaction.atomic():
        for _attempt in range(5):
            message = ContactMessage(
                reference=new_reference(),
                sender=sender,
                category=category,
                language=language,
                email=email,
                name=name.strip(),
                body=body,
                created_at=_now(),
            )
            try:
                with transaction.atomic():
                    message.save()
                break
            except IntegrityError:  # a reference already taken: draw again
                continue
        else:  # pragma: no cover  # 5 collisions in 2**40 is not going to happen
            raise RuntimeError("could not draw a free reference")
        record_event(
            EventType.CONTACT_MESSAGE_SENT,
            actor=actor,
            subject=sender,
            detail={"message": message.pk, "category": category, "account": sender is not None},
        )
    _mail_after_commit(
        message,
        to=email,
        template="feedback/email/acknowledgement",
        context={"account_url": account_url if sender is not None else ""},
    )
    if settings.SAFEHOLD_CONTACT_NOTIFY:
        # Staff hear that a message came, never what it says or who sent it.
        _mail_after_commit(
            message,
            to=settings.SAFEHOLD_CONTACT_NOTIFY,
            template="feedback/email/staff_notice",
            context={"inbox_url": inbox_url},
            language=settings.LANGUAGE_CODE,
        )
    return message


def _mail_after_commit(
    message: ContactMessage,
    *,
    to: str | list[str],
    template: str,
    context: dict[str, Any],
    language: str = "",
) -> None:
    context = {
        "message": message,
        "reference": message.reference,
        "category": message.get_category_display,
        "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
        "contact_email": settings.SAFEHOLD_CONTACT_EMAIL,
        **context,
    }
    language = language or message.language or settings.LANGUAGE_CODE
    message_id = message.pk
    recipients = [to] if isinstance(to, str) else list(to)

    def send() -> None:
        with translation.override(language):
            subject = render_to_string(f"{template}_subject.txt", context).strip()
            text = render_to_string(f"{template}_message.txt", context)
        mail = EmailMessage(
            subject=f"[{settings.SAFEHOLD_OPERATOR_NAME}] {' '.join(subject.split())}",
            body=text,
            to=recipients,
            # A person who answers the e-mail reaches the operator's privacy contact,
            # not the no-reply sender.
            reply_to=[settings.SAFEHOLD_CONTACT_EMAIL],
        )
        try:
            mail.send()
        except Exception as exc:  # the message stays stored and in the inbox; say so in the log
            logger.warning(
                "contact mail not sent message=%s template=%s error=%s",
                message_id,
                template.rsplit("/", 1)[-1],
                type(exc).__name__,
            )

    transaction.on_commit(send)


# --- The person's own messages ------------------------------------------------------------


def messages_of(user: User) -> QuerySet[ContactMessage]:
    """The messages ``user`` sent while signed in, newest first, with staff replies
    (never internal notes)."""
    return ContactMessage.objects.filter(sender=user).prefetch_related("replies")


# --- The staff inbox ------------------------------------------------------------------------


def _require(staff: User, permission: str) -> None:
    if not (staff.is_authenticated and staff.is_active and staff.is_staff):
        raise NotAllowed("the contact inbox is for staff")
    if not staff.has_perm(permission):
        raise NotAllowed(f"this needs the {permission} permission")


def can_view_inbox(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(VIEW_PERMISSION)
    )


@dataclass(frozen=True)
class InboxFilter:
    """``status``: a Status value, "open" (not closed) or "" (all); ``older_than``: days."""

    status: str = "open"
    older_than: int | None = None
    mine: bool = False


def inbox(staff: User, selection: InboxFilter) -> QuerySet[ContactMessage]:
    """Messages for the inbox list, oldest open first. Metadata only: the list shows no
    personal content, so listing records no audit event. Raises ``NotAllowed``."""
    _require(staff, VIEW_PERMISSION)
    query = ContactMessage.objects.select_related("assigned_to").defer("email", "name", "body")
    if selection.status == "open":
        query = query.filter(status__in=OPEN_STATUSES)
    elif selection.status in Status.values:
        query = query.filter(status=selection.status)
    if selection.older_than:
        query = query.filter(created_at__lte=_now() - timedelta(days=selection.older_than))
    if selection.mine:
        query = query.filter(assigned_to=staff)
    return query.order_by("created_at", "id")


def staff_who_can_answer() -> QuerySet[User]:
    """Active staff members with the inbox permission (directly, by group, or superusers)."""
    perm = Permission.objects.filter(
        content_type__app_label="feedback", codename="view_inbox"
    ).first()
    holders = Q(is_superuser=True)
    if perm is not None:
        holders |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    users: QuerySet[User] = get_user_model().objects.all()
    return users.filter(holders, is_active=True, is_staff=True).distinct().order_by("username")


def read_message(reference: str, *, staff: User, request: HttpRequest | None) -> ContactMessage:
    """The message with its replies and notes, opened for ``staff``; records the read.

    Raises ``NotAllowed`` without ``feedback.view_inbox``, ``ContactMessage.DoesNotExist``
    if there is no such message.
    """
    _require(staff, VIEW_PERMISSION)
    message = ContactMessage.objects.select_related("sender", "assigned_to").get(
        reference=reference
    )
    with transaction.atomic():
        record_event(
            EventType.CONTACT_MESSAGE_READ,
            actor=Actor.from_request(request),
            subject=message.sender,
            detail={"message": message.pk},
        )
    return message


def _locked(message: ContactMessage) -> ContactMessage:
    return (
        ContactMessage.objects.select_for_update(of=("self",))
        .select_related("sender")
        .get(pk=message.pk)
    )


def reply(
    message: ContactMessage,
    *,
    body: str,
    staff: User,
    request: HttpRequest | None,
    account_url: str = "",
) -> Reply:
    """Store a reply, mark the message answered, and e-mail the reply to the sender.

    An account holder also sees it at /account/messages/; the e-mail goes to their
    current primary address. Raises ``NotAllowed`` without ``feedback.reply``,
    ``NoAddress`` if the message's address has been erased.
    """
    _require(staff, REPLY_PERMISSION)
    body = body.strip()
    if not body:
        raise ValueError("an empty reply")
    with transaction.atomic():
        locked = _locked(message)
        to = _reply_address(locked)
        now = _now()
        answer = Reply(message=locked, author=staff, body=body, created_at=now)
        answer.save()
        locked.status = Status.ANSWERED
        locked.first_answered_at = locked.first_answered_at or now
        locked.closed_at = None
        locked.save(update_fields=["status", "first_answered_at", "closed_at"])
        record_event(
            EventType.CONTACT_MESSAGE_REPLIED,
            actor=Actor.from_request(request),
            subject=locked.sender,
            detail={"message": locked.pk, "reply": answer.pk},
        )
    message.status, message.first_answered_at = locked.status, locked.first_answered_at
    _mail_after_commit(
        locked,
        to=to,
        template="feedback/email/reply",
        context={"reply": body, "account_url": account_url if locked.sender_id else ""},
    )
    return answer


def _reply_address(message: ContactMessage) -> str:
    if message.sender is not None:
        primary = EmailAddress.objects.filter(user=message.sender, primary=True).first()
        if primary is not None:
            return primary.email
    address = message.email
    if not address or is_erased(address):
        raise NoAddress()
    return str(address)


def assign(
    message: ContactMessage, *, to: User | None, staff: User, request: HttpRequest | None
) -> None:
    """Give the message to ``to`` (a staff member who can see the inbox), or to nobody.

    Raises ``NotAllowed`` without ``feedback.reply``, or if ``to`` cannot see the inbox.
    """
    _require(staff, REPLY_PERMISSION)
    if to is not None and not can_view_inbox(to):
        raise NotAllowed("messages are assigned to staff who can see the inbox")
    with transaction.atomic():
        locked = _locked(message)
        locked.assigned_to = to
        if to is not None and locked.status == Status.NEW:
            locked.status = Status.IN_PROGRESS
        locked.save(update_fields=["assigned_to", "status"])
        record_event(
            EventType.CONTACT_MESSAGE_ASSIGNED,
            actor=Actor.from_request(request),
            subject=locked.sender,
            detail={"message": locked.pk, "to": to.pk if to is not None else None},
        )
    message.assigned_to, message.status = to, locked.status


def change_status(
    message: ContactMessage, *, status: str, staff: User, request: HttpRequest | None
) -> None:
    """Set the status; closing stamps ``closed_at``, reopening clears it.

    Raises ``NotAllowed`` without ``feedback.reply``, ``ValueError`` for an unknown status.
    """
    _require(staff, REPLY_PERMISSION)
    if status not in Status.values:
        raise ValueError("unknown status")
    with transaction.atomic():
        locked = _locked(message)
        previous = locked.status
        locked.status = status
        locked.closed_at = _now() if status == Status.CLOSED else None
        locked.save(update_fields=["status", "closed_at"])
        record_event(
            EventType.CONTACT_MESSAGE_STATUS_CHANGED,
            actor=Actor.from_request(request),
            subject=locked.sender,
            detail={"message": locked.pk, "from": previous, "to": status},
        )
    message.status, message.closed_at = locked.status, locked.closed_at


def add_note(
    message: ContactMessage, *, body: str, staff: User, request: HttpRequest | None
) -> Note:
    """Add an internal note (sealed; shown to staff only, never to the person or in mail).

    Raises ``NotAllowed`` without ``feedback.reply``.
    """
    _require(staff, REPLY_PERMISSION)
    body = body.strip()
    if not body:
        raise ValueError("an empty note")
    with transaction.atomic():
        note = Note(message=message, author=staff, body=body, created_at=_now())
        note.save()
        record_event(
            EventType.CONTACT_NOTE_ADDED,
            actor=Actor.from_request(request),
            subject=message.sender,
            detail={"message": message.pk, "note": note.pk},
        )
    return note


# --- Export, erasure, retention -----------------------------------------------------------


def _messages_about(user: User) -> QuerySet[ContactMessage]:
    """Sent from the account, or anonymously from one of its verified addresses."""
    addresses = EmailAddress.objects.filter(user=user, verified=True).values_list(
        "email", flat=True
    )
    indexes = [i for i in (blind_index(ContactMessage, "email", a) for a in addresses) if i]
    # Another account's signed-in messages stay theirs, even from an address now this one's.
    return ContactMessage.objects.filter(
        Q(sender=user) | Q(sender__isnull=True, email_index__in=indexes)
    )


def export_rows(user: User) -> Iterator[dict[str, Any]]:
    """One dict per message about ``user``: what they wrote and the replies they got.

    Internal notes are staff's working notes and are left out.
    """
    for message in _messages_about(user).order_by("created_at", "id").iterator(chunk_size=100):
        yield {
            "reference": message.reference,
            "sent_at": message.created_at.isoformat(),
            "sent_signed_in": message.sender_id == user.pk,
            "category": message.category,
            "status": message.status,
            "name": str(message.name),
            "email": str(message.email),
            "message": str(message.body),
            "replies": [
                {"sent_at": r.created_at.isoformat(), "reply": str(r.body)}
                for r in message.replies.all()
            ],
        }


EXPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["reference", "sent_at", "category", "status", "message", "replies"],
    "properties": {
        "reference": {"type": "string"},
        "sent_at": {"type": "string", "format": "date-time"},
        "sent_signed_in": {"type": "boolean"},
        "category": {"type": "string", "enum": list(Category.values)},
        "status": {"type": "string", "enum": list(Status.values)},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "message": {"type": "string"},
        "replies": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sent_at": {"type": "string"}, "reply": {"type": "string"}},
            },
        },
    },
}


def _delete_and_shred(query: QuerySet[ContactMessage]) -> int:
    """Delete the messages (with replies and notes); shred their keys once committed."""
    key_ids = [k for k in query.values_list("data_key", flat=True) if k]
    count = 0
    for message in query.only("pk"):
        message.delete()
        count += 1

    def shred() -> None:
        for key_id in key_ids:
            keys.shred_data_key(key_id)

    transaction.on_commit(shred)
    return count


def erase_messages_of(user: User) -> int:
    """The eraser: remove every message about ``user`` and shred each message's key.

    Runs inside the erasure's transaction; the keys are shredded after it commits.
    """
    return _delete_and_shred(_messages_about(user))


def purge_closed(cutoff: datetime) -> int:
    """Retention: remove messages closed before ``cutoff``. Safe to run twice."""
    return _delete_and_shred(
        ContactMessage.objects.filter(status=Status.CLOSED, closed_at__lt=cutoff)
    )


def overdue(now: datetime | None = None) -> int:
    """Open messages that have waited longer than SAFEHOLD_CONTACT_ANSWER_DAYS unanswered."""
    cutoff = (now or _now()) - timedelta(days=settings.SAFEHOLD_CONTACT_ANSWER_DAYS)
    return ContactMessage.objects.filter(
        status__in=(Status.NEW, Status.IN_PROGRESS),
        first_answered_at__isnull=True,
        created_at__lt=cutoff,
    ).count()
