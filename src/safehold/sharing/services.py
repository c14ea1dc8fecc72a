"""The share gate and the sharing app's state changes. Views, the API and tasks call these.

Every disclosure of a person's data to anyone outside goes through ``request_share``:
it releases exactly the categories asked for, and only if the person consented to
that recipient and purpose, or the disclosure rests on one of the statement's four
exceptions with a recorded justification (for the legal exception: a legal request
approved by a second legal-role staff member). Otherwise it refuses with a stable
``Reason``. Both outcomes are recorded in the audit log with the category *names*
(never values); a release is also recorded as a ``Disclosure`` the person sees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from safehold.audit.events import ActorKind, EventType
from safehold.audit.services import Actor, record_event
from safehold.sharing import categories as data_categories
from safehold.sharing.exceptions import (
    REASON_TEXT,
    InvalidLegalRequest,
    NotLegalStaff,
    Reason,
    SelfApproval,
    WrongState,
)
from safehold.sharing.models import (
    Basis,
    Category,
    Disclosure,
    LegalRequest,
    Recipient,
    ShareConsent,
    SharingPurpose,
)
from safehold.vault import keys
from safehold.vault.exceptions import KeyShredded, VaultError

if TYPE_CHECKING:
    from safehold.accounts.models import User

logger = logging.getLogger(__name__)

LEGAL_PERMISSION = "sharing.approve_legal_request"


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


def _today() -> date:
    return timezone.localdate(_now())


def staff_actor(staff: User) -> Actor:
    """A staff member acting outside a request (tests, commands)."""
    return Actor(ActorKind.STAFF if staff.is_staff else ActorKind.PERSON, str(staff.pk))


# --- The gate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """A disclosure the gate allowed: ``data`` maps each released category to its value."""

    disclosure: Disclosure
    data: dict[str, Any]

    @property
    def categories(self) -> list[str]:
        return list(self.data)


@dataclass(frozen=True)
class Refusal:
    """A disclosure the gate refused; nothing was released."""

    reason: Reason
    detail: str = ""
    categories: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return self.detail or REASON_TEXT[self.reason]


def _known_categories(requested: Iterable[str]) -> list[str]:
    """The requested names that are real categories: only these go in an audit detail
    (an unknown name is client input and could be anything, even personal data)."""
    return sorted({c for c in requested if c in Category.values})


def _find_recipient(recipient: Recipient | str | None) -> Recipient | None:
    if isinstance(recipient, Recipient):
        return recipient if recipient.is_active else None
    if not recipient or "\x00" in recipient:  # PostgreSQL text holds no NUL: no such slug
        return None
    return Recipient.objects.filter(slug=str(recipient), is_active=True).first()


def _find_purpose(
    recipient: Recipient, purpose: SharingPurpose | str | None
) -> SharingPurpose | None:
    if isinstance(purpose, SharingPurpose):
        return purpose if purpose.recipient_id == recipient.pk else None
    if not purpose or "\x00" in purpose:
        return None
    return recipient.purposes.filter(code=str(purpose)).first()


def consent_state(
    person: User, purpose: SharingPurpose, *, at: datetime | None = None
) -> str | None:
    """The person's consent to ``purpose`` at ``at`` (default now): "granted",
    "withdrawn", or None if they never decided."""
    rows = ShareConsent.objects.filter(user=person, purpose=purpose)
    if at is not None:
        rows = rows.filter(at__lte=at)
    return rows.order_by("-at", "-id").values_list("action", flat=True).first()


def approval_signature(request: LegalRequest) -> str:
    """HMAC-SHA-256, under a secret of this installation, over the approval and the scope
    it covers. An approval written into the database by hand, or a scope changed after
    approval, does not match."""
    message = "|".join(
        (
            "safehold/sharing/approval/v1",
            str(request.pk),
            str(request.person_id),
            str(request.requested_by_id),
            str(request.decided_by_id),
            ",".join(sorted(request.categories)),
            request.period_start.isoformat() if request.period_start else "",
            request.period_end.isoformat() if request.period_end else "",
            request.approval_expires_at.isoformat() if request.approval_expires_at else "",
            request.document_sha256,
        )
    )
    return hmac.new(
        keys.system_secret("sharing-approval-v1"), message.encode(), hashlib.sha256
    ).hexdigest()


def _check_legal(
    legal_request: LegalRequest | None, person: User, wanted: list[str], now: datetime
) -> Refusal | None:
    if legal_request is None or legal_request.status in (
        LegalRequest.Status.PENDING,
        LegalRequest.Status.REJECTED,
    ):
        return Refusal(Reason.APPROVAL_MISSING)
    if legal_request.status == LegalRequest.Status.RELEASED:
        return Refusal(Reason.ALREADY_RELEASED)
    if (
        legal_request.decided_by_id is None
        or legal_request.decided_by_id == legal_request.requested_by_id
        or not hmac.compare_digest(
            legal_request.approval_signature, approval_signature(legal_request)
        )
    ):
        return Refusal(Reason.APPROVAL_FORGED)
    if legal_request.approval_expires_at is None or legal_request.approval_expires_at <= now:
        return Refusal(Reason.APPROVAL_EXPIRED)
    if legal_request.person_id != person.pk or not set(wanted) <= set(legal_request.categories):
        return Refusal(Reason.OUTSIDE_APPROVED_SCOPE)
    return None


def _decide(
    *,
    recipient: Recipient | None,
    person: User | None,
    wanted: list[str],
    purpose: SharingPurpose | None,
    purpose_given: bool,
    basis: str,
    justification: str,
    legal_request: LegalRequest | None,
    now: datetime,
) -> Refusal | None:
    """The gate's rules, in order; None means allowed."""
    if basis not in Basis.values:
        return Refusal(Reason.BASIS_NOT_ALLOWED)
    if basis != Basis.LEGAL and recipient is None:
        return Refusal(Reason.UNKNOWN_RECIPIENT)
    if person is None or not person.is_active:
        return Refusal(Reason.UNKNOWN_PERSON)
    if not wanted:
        return Refusal(Reason.NO_CATEGORIES)
    if any(c not in Category.values for c in wanted):
        return Refusal(Reason.UNKNOWN_CATEGORY)
    if basis == Basis.LEGAL:
        refusal = _check_legal(legal_request, person, wanted, now)
        if refusal is not None:
            return refusal
    else:
        assert recipient is not None  # noqa: S101  # checked above
        if not set(wanted) <= set(recipient.categories):
            return Refusal(Reason.CATEGORY_NOT_ALLOWED)
        if purpose is None and (purpose_given or recipient.needs_consent):
            return Refusal(Reason.UNKNOWN_PURPOSE)
        if basis != recipient.basis:
            return Refusal(Reason.BASIS_NOT_ALLOWED)
        if basis == Basis.CONSENT:
            assert purpose is not None  # noqa: S101  # checked above
            state = consent_state(person, purpose)
            if state is None:
                return Refusal(Reason.NO_CONSENT)
            if state != ShareConsent.Action.GRANTED:
                return Refusal(Reason.CONSENT_WITHDRAWN)
        elif not justification.strip():
            return Refusal(Reason.JUSTIFICATION_MISSING)
    missing = [c for c in wanted if not data_categories.is_available(c)]
    if missing:
        return Refusal(Reason.CATEGORY_UNAVAILABLE, categories=missing)
    return None


def request_share(
    *,
    recipient: Recipient | str | None,
    person: User | None,
    categories: Sequence[str],
    purpose: SharingPurpose | str | None,
    basis: str,
    justification: str,
    actor: Actor,
    legal_request: LegalRequest | None = None,
    record_refusal: bool = True,
) -> Release | Refusal:
    """Disclose ``categories`` of ``person``'s data to ``recipient``, if allowed.

    Returns a ``Release`` with exactly the categories asked for (each once), or a
    ``Refusal`` naming the ``Reason``; never raises for a refusal. A release writes a
    ``Disclosure`` and a ``share:released`` event in one transaction; a refusal writes a
    ``share:refused`` event (unless ``record_refusal`` is False: the caller's transaction
    will roll back, and it records the refusal with ``record_refusal_event`` afterwards).

    ``basis`` is "consent" or one of the four exceptions; "legal" needs an approved
    ``legal_request`` (then ``recipient`` may be None: the authority is the recipient).
    Permission: whoever may call this is checked by the caller (a ``share:request`` API
    key, or a legal-role staff member for legal requests).
    """
    wanted = list(dict.fromkeys(str(c) for c in categories))
    now = _now()
    with transaction.atomic():
        found = _find_recipient(recipient)
        found_purpose = _find_purpose(found, purpose) if found is not None else None
        if legal_request is not None:
            legal_request = LegalRequest.objects.select_for_update().get(pk=legal_request.pk)
        if person is not None and person.pk and basis == Basis.CONSENT:
            # set_consent takes the same lock: a withdrawal that committed first is seen,
            # and one that comes later waits for this release to be recorded.
            from safehold.accounts.models import User

            User.objects.select_for_update().filter(pk=person.pk).values_list("pk").first()
        refusal = _decide(
            recipient=found,
            person=person,
            wanted=wanted,
            purpose=found_purpose,
            purpose_given=bool(purpose),
            basis=basis,
            justification=justification,
            legal_request=legal_request,
            now=now,
        )
        if refusal is not None:
            refusal = Refusal(refusal.reason, refusal.detail, _known_categories(wanted))
            if record_refusal:
                record_refusal_event(
                    refusal,
                    recipient=found,
                    person=person,
                    basis=basis,
                    actor=actor,
                    legal_request=legal_request,
                )
            logger.info("sharing.refused reason=%s", refusal.reason)
            return refusal
        assert person is not None  # noqa: S101  # _decide refuses an unknown person
        start = legal_request.period_start if legal_request is not None else None
        end = legal_request.period_end if legal_request is not None else None
        data = {c: data_categories.read(person, c, start=start, end=end) for c in wanted}
        hidden_until = None
        if legal_request is not None:
            hidden_until = legal_request.gag_review_date
            recipient_name = legal_request.authority_name
        else:
            assert found is not None  # noqa: S101  # only the legal basis has none
            recipient_name = found.name
        disclosure = Disclosure(
            user=person,
            recipient=found,
            recipient_name=recipient_name,
            purpose=found_purpose,
            legal_request=legal_request,
            categories=wanted,
            basis=basis,
            justification=justification.strip(),
            released_at=now,
            hidden_until=hidden_until,
            actor_kind=str(actor.kind),
            actor_id=actor.id,
        )
        disclosure.save()
        record_event(
            EventType.SHARE_RELEASED,
            actor=actor,
            subject=person,
            purpose=basis,
            note=justification.strip(),
            detail={
                "disclosure": disclosure.pk,
                "recipient": found.slug if found is not None else None,
                "purpose": found_purpose.code if found_purpose is not None else None,
                "legal_request": legal_request.pk if legal_request is not None else None,
                "categories": wanted,
                "basis": basis,
            },
        )
        if legal_request is not None:
            legal_request.status = LegalRequest.Status.RELEASED
            legal_request.released_at = now
            legal_request.save(update_fields=["status", "released_at"])
            if hidden_until is None:
                _notify_person_on_commit(legal_request, disclosure, actor=actor)
    logger.info("sharing.released disclosure=%s", disclosure.pk)
    return Release(disclosure=disclosure, data=data)


def record_refusal_event(
    refusal: Refusal,
    *,
    recipient: Recipient | None,
    person: User | None,
    basis: str,
    actor: Actor,
    legal_request: LegalRequest | None = None,
) -> None:
    """Record a refusal in the audit log (names and ids only; nothing was released)."""
    record_event(
        EventType.SHARE_REFUSED,
        actor=actor,
        subject=person if person is not None and person.pk else None,
        purpose=basis if basis in Basis.values else "",
        detail={
            "reason": str(refusal.reason),
            "recipient": recipient.slug if recipient is not None else None,
            "legal_request": legal_request.pk if legal_request is not None else None,
            "categories": refusal.categories,
            "released": [],
        },
    )


def find_person(identifier: str) -> User | None:
    """The active account whose user name or e-mail address is ``identifier`` (exact)."""
    from allauth.account.models import EmailAddress

    from safehold.accounts.models import User

    identifier = identifier.strip()
    if not identifier or "\x00" in identifier:
        return None
    if "@" in identifier:
        address = (
            EmailAddress.objects.filter(email__iexact=identifier).select_related("user").first()
        )
        user = address.user if address is not None else None
    else:
        user = User.objects.filter(username__iexact=identifier).first()
    return user if user is not None and user.is_active else None


# --- Consent ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentChoice:
    """One recipient-and-purpose a person is asked about, with their current answer."""

    purpose: SharingPurpose
    state: str | None  # "granted", "withdrawn" or None (never asked)

    @property
    def is_granted(self) -> bool:
        return self.state == ShareConsent.Action.GRANTED


def consent_purposes() -> QuerySet[SharingPurpose]:
    """Every purpose of an active recipient whose sharing needs consent."""
    return SharingPurpose.objects.filter(
        recipient__is_active=True, recipient__basis=Basis.CONSENT
    ).select_related("recipient")


def consent_choices(person: User) -> list[ConsentChoice]:
    latest: dict[int, str] = {}
    for purpose_id, action in (
        ShareConsent.objects.filter(user=person)
        .order_by("at", "id")
        .values_list("purpose_id", "action")
    ):
        latest[purpose_id] = action
    return [ConsentChoice(p, latest.get(p.pk)) for p in consent_purposes()]


def consent_history(person: User) -> QuerySet[ShareConsent]:
    return ShareConsent.objects.filter(user=person).select_related("purpose__recipient")


def set_consent(
    person: User, purpose: SharingPurpose, *, grant: bool, actor: Actor
) -> ShareConsent | None:
    """Give (``grant``) or withdraw the person's consent to ``purpose``; a new history row.

    Returns the new row, or None if the answer was already that (nothing recorded).
    Raises ``ValueError`` if the purpose's recipient is inactive or does not rest on consent.
    Permission: ``actor`` must be the person (their account centre) — the caller checks.
    """
    if not purpose.recipient.is_active or not purpose.recipient.needs_consent:
        raise ValueError("this purpose does not ask for consent")
    action = ShareConsent.Action.GRANTED if grant else ShareConsent.Action.WITHDRAWN
    with transaction.atomic():
        from safehold.accounts.models import User

        # One decision at a time per person, and none while a share is being decided.
        User.objects.select_for_update().filter(pk=person.pk).values_list("pk").first()
        if consent_state(person, purpose) == action:
            return None
        if not grant and consent_state(person, purpose) is None:
            return None
        row = ShareConsent.objects.create(
            user=person, purpose=purpose, action=action, wording=purpose.description, at=_now()
        )
        record_event(
            EventType.SHARE_CONSENT_GRANTED if grant else EventType.SHARE_CONSENT_WITHDRAWN,
            actor=actor,
            subject=person,
            detail={
                "recipient": purpose.recipient.slug,
                "purpose": purpose.code,
                "consent": row.pk,
            },
        )
    return row


# --- What the person sees -----------------------------------------------------------------------


def visible_disclosures(person: User, *, today: date | None = None) -> QuerySet[Disclosure]:
    """The person's disclosures, newest first, without those still under a
    non-disclosure order (``hidden_until`` after today)."""
    today = today or _today()
    return (
        Disclosure.objects.filter(user=person)
        .filter(Q(hidden_until__isnull=True) | Q(hidden_until__lte=today))
        .select_related("recipient", "purpose", "legal_request")
    )


# --- Legal requests -----------------------------------------------------------------------------


def is_legal_staff(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_staff
        and user.is_active
        and user.has_perm(LEGAL_PERMISSION)
    )


def _require_legal(staff: User) -> None:
    if not is_legal_staff(staff):
        raise NotLegalStaff("this needs a staff member with the legal role")


def approval_lifetime() -> timedelta:
    return timedelta(hours=settings.SAFEHOLD_SHARING_APPROVAL_HOURS)


@dataclass(frozen=True)
class Document:
    name: str
    content: bytes


def record_legal_request(
    *,
    person: User,
    authority_name: str,
    authority_type: str,
    instrument: str,
    reference: str,
    categories: Sequence[str],
    period_start: date | None,
    period_end: date | None,
    document: Document,
    gag_review_date: date | None,
    staff: User,
    actor: Actor,
) -> LegalRequest:
    """Record a request from an authority, waiting for a second legal-role staff member.

    Raises ``NotLegalStaff``, or ``InvalidLegalRequest`` naming the first problem
    (no category, an unknown category, a period that ends before it starts, no
    document or one over ``SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES``, a review date in the past).
    """
    _require_legal(staff)
    wanted = list(dict.fromkeys(categories))
    if not wanted:
        raise InvalidLegalRequest("choose at least one category")
    if any(c not in Category.values for c in wanted):
        raise InvalidLegalRequest("unknown category")
    if authority_type not in LegalRequest.AuthorityType.values:
        raise InvalidLegalRequest("unknown type of authority")
    for label, value in (
        ("authority", authority_name),
        ("instrument", instrument),
        ("reference", reference),
    ):
        if not value.strip():
            raise InvalidLegalRequest(f"the {label} is required")
    if period_start and period_end and period_end < period_start:
        raise InvalidLegalRequest("the period ends before it starts")
    if not document.content:
        raise InvalidLegalRequest("attach the request's document")
    if len(document.content) > settings.SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES:
        raise InvalidLegalRequest("the document is larger than the limit")
    if gag_review_date is not None and gag_review_date <= _today():
        raise InvalidLegalRequest("a non-disclosure order's review date must be in the future")
    with transaction.atomic():
        request = LegalRequest(
            person=person,
            authority_name=authority_name.strip(),
            authority_type=authority_type,
            instrument=instrument.strip(),
            reference=reference.strip(),
            categories=wanted,
            period_start=period_start,
            period_end=period_end,
            document_name=(document.name or "document")[-255:],
            document=base64.b64encode(document.content).decode(),
            document_size=len(document.content),
            document_sha256=hashlib.sha256(document.content).hexdigest(),
            gag_review_date=gag_review_date,
            requested_by=staff,
            requested_at=_now(),
        )
        request.save()
        record_event(
            EventType.SHARE_LEGAL_RECORDED,
            actor=actor,
            subject=person,
            purpose=Basis.LEGAL,
            detail={
                "legal_request": request.pk,
                "authority_type": authority_type,
                "categories": wanted,
                "non_disclosure_order": gag_review_date is not None,
            },
        )
    return request


def decide_legal_request(
    request: LegalRequest, *, approve: bool, staff: User, actor: Actor
) -> LegalRequest:
    """Approve (or reject) a pending legal request: the second person of the two-person rule.

    An approval is valid for ``SAFEHOLD_SHARING_APPROVAL_HOURS`` and signed
    (``approval_signature``). Raises ``NotLegalStaff``; ``SelfApproval`` if ``staff``
    recorded the request (the attempt is recorded in the audit log); ``WrongState``
    if it is not pending.
    """
    _require_legal(staff)
    with transaction.atomic():
        locked = LegalRequest.objects.select_for_update().get(pk=request.pk)
        if locked.requested_by_id == staff.pk:
            record_event(
                EventType.SHARE_LEGAL_APPROVAL_REFUSED,
                actor=actor,
                subject=locked.person,
                purpose=Basis.LEGAL,
                detail={"legal_request": locked.pk, "reason": "requester-cannot-approve"},
            )
            error = SelfApproval("whoever recorded a legal request cannot approve it")
        elif locked.status != LegalRequest.Status.PENDING:
            raise WrongState("this request has been decided already")
        else:
            error = None
            now = _now()
            locked.decided_by = staff
            locked.decided_at = now
            if approve:
                locked.status = LegalRequest.Status.APPROVED
                locked.approval_expires_at = now + approval_lifetime()
                locked.approval_signature = approval_signature(locked)
            else:
                locked.status = LegalRequest.Status.REJECTED
            locked.save(
                update_fields=[
                    "decided_by",
                    "decided_at",
                    "status",
                    "approval_expires_at",
                    "approval_signature",
                ]
            )
            record_event(
                EventType.SHARE_LEGAL_APPROVED if approve else EventType.SHARE_LEGAL_REJECTED,
                actor=actor,
                subject=locked.person,
                purpose=Basis.LEGAL,
                detail={"legal_request": locked.pk, "categories": locked.categories},
            )
    if error is not None:
        raise error  # after the commit: the refused attempt stays in the log
    return locked


def reapprove_expired(request: LegalRequest, *, staff: User, actor: Actor) -> LegalRequest:
    """Put an approved request whose approval expired back to pending, for a fresh decision."""
    _require_legal(staff)
    with transaction.atomic():
        locked = LegalRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != LegalRequest.Status.APPROVED:
            raise WrongState("only an approved, unreleased request can be put back")
        locked.status = LegalRequest.Status.PENDING
        locked.decided_by = None
        locked.decided_at = None
        locked.approval_expires_at = None
        locked.approval_signature = ""
        locked.save(
            update_fields=[
                "status",
                "decided_by",
                "decided_at",
                "approval_expires_at",
                "approval_signature",
            ]
        )
        record_event(
            EventType.SHARE_LEGAL_REJECTED,
            actor=actor,
            subject=locked.person,
            purpose=Basis.LEGAL,
            detail={"legal_request": locked.pk, "reopened": True},
        )
    return locked


@dataclass(frozen=True)
class LegalPackage:
    """The outcome of releasing a legal request: the gate's answer, and on a release the
    zip archive to hand to the authority."""

    result: Release | Refusal
    archive: bytes = b""
    filename: str = ""


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def build_package(request: LegalRequest, release: Release) -> bytes:
    """A zip: ``manifest.json`` (the request and the approved scope) and ``data.json``
    (exactly the released categories)."""
    manifest = {
        "format": "safehold-legal-release/1",
        "legal_request": request.pk,
        "disclosure": release.disclosure.pk,
        "authority": request.authority_name,
        "authority_type": request.authority_type,
        "instrument": request.instrument,
        "reference": request.reference,
        "categories": release.categories,
        "period": {
            "from": request.period_start.isoformat() if request.period_start else None,
            "to": request.period_end.isoformat() if request.period_end else None,
        },
        "released_at": release.disclosure.released_at.isoformat(),
        "approved_at": request.decided_at.isoformat() if request.decided_at else None,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr(
            "data.json",
            json.dumps(release.data, indent=2, ensure_ascii=False, default=_json_default),
        )
    return buffer.getvalue()


def release_legal_request(request: LegalRequest, *, staff: User, actor: Actor) -> LegalPackage:
    """Release exactly the approved scope of ``request`` through the gate (basis "legal").

    Returns the gate's ``Release`` and the zip, or its ``Refusal`` (approval missing,
    expired or forged; released already). Raises ``NotLegalStaff``.
    """
    _require_legal(staff)
    request = LegalRequest.objects.select_related("person").get(pk=request.pk)
    result = request_share(
        recipient=None,
        person=request.person,
        categories=request.categories,
        purpose=None,
        basis=Basis.LEGAL,
        justification=f"{request.instrument} {request.reference}",
        actor=actor,
        legal_request=request,
    )
    if isinstance(result, Refusal):
        return LegalPackage(result)
    request.refresh_from_db()
    return LegalPackage(
        result, build_package(request, result), f"legal-request-{request.pk}-release.zip"
    )


def read_document(request: LegalRequest, *, staff: User, actor: Actor) -> Document:
    """The attached document, for a legal-role staff member; the reading is recorded."""
    _require_legal(staff)
    with transaction.atomic():
        record_event(
            EventType.SHARE_LEGAL_DOCUMENT_READ,
            actor=actor,
            subject=request.person,
            purpose=Basis.LEGAL,
            detail={"legal_request": request.pk},
        )
    return Document(request.document_name, base64.b64decode(request.document))


def change_order(
    request: LegalRequest, *, review_date: date | None, staff: User, actor: Actor
) -> LegalRequest:
    """Extend a non-disclosure order to ``review_date``, or lift it (None): its
    disclosures are hidden from the person until then. Lifting tells the person now."""
    _require_legal(staff)
    if review_date is not None and review_date <= _today():
        raise InvalidLegalRequest("a non-disclosure order's review date must be in the future")
    with transaction.atomic():
        locked = LegalRequest.objects.select_for_update().get(pk=request.pk)
        locked.gag_review_date = review_date
        locked.gag_reminded_on = None
        locked.save(update_fields=["gag_review_date", "gag_reminded_on"])
        Disclosure.objects.filter(legal_request=locked).update(hidden_until=review_date)
        record_event(
            EventType.SHARE_LEGAL_ORDER_CHANGED,
            actor=actor,
            subject=locked.person,
            purpose=Basis.LEGAL,
            detail={"legal_request": locked.pk, "lifted": review_date is None},
        )
        if review_date is None:
            disclosure = Disclosure.objects.filter(legal_request=locked).first()
            if disclosure is not None and locked.person_notified_at is None:
                _notify_person_on_commit(locked, disclosure, actor=actor)
    return locked


# --- Mail -----------------------------------------------------------------------------------


def _primary_email(person: User) -> str | None:
    from allauth.account.models import EmailAddress

    primary = EmailAddress.objects.filter(user=person, primary=True, verified=True).first()
    return primary.email if primary is not None else None


def _notify_person_on_commit(
    request: LegalRequest, disclosure: Disclosure, *, actor: Actor
) -> None:
    """Tell the person that their data went to an authority (after the commit), and record it."""
    email = _primary_email(request.person)
    request.person_notified_at = _now()
    request.save(update_fields=["person_notified_at"])
    record_event(
        EventType.SHARE_PERSON_NOTIFIED,
        actor=actor,
        subject=request.person,
        purpose=Basis.LEGAL,
        detail={"legal_request": request.pk, "disclosure": disclosure.pk, "sent": bool(email)},
    )
    if email is None:
        return
    context = {
        "person": request.person,
        "authority": request.authority_name,
        "authority_type": request.get_authority_type_display(),
        "categories": disclosure.category_labels(),
        "released_at": disclosure.released_at,
        "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
    }

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            subject = render_to_string("sharing/email/disclosed_subject.txt", context).strip()
            body = render_to_string("sharing/email/disclosed_message.txt", context)
        send_mail(subject, body, None, [email])

    transaction.on_commit(send)


def _legal_staff_emails() -> list[str]:
    from django.contrib.auth.models import Permission

    from safehold.accounts.models import User

    permission = Permission.objects.filter(
        codename="approve_legal_request", content_type__app_label="sharing"
    ).first()
    staff = User.objects.filter(is_staff=True, is_active=True).filter(
        Q(is_superuser=True) | Q(user_permissions=permission) | Q(groups__permissions=permission)
    )
    return sorted({u.email for u in staff.distinct() if u.email})


def review_orders(*, today: date | None = None) -> dict[str, int]:
    """The periodic review of non-disclosure orders (idempotent; run by the worker).

    Reminds legal-role staff by e-mail of each order whose review date is within
    ``SAFEHOLD_SHARING_ORDER_REMINDER_DAYS`` (once per review date); and for each order
    whose review date has come, tells the person (the disclosure shows on their page
    from that date). Returns counts.
    """
    today = today or _today()
    reminded = notified = 0
    horizon = today + timedelta(days=settings.SAFEHOLD_SHARING_ORDER_REMINDER_DAYS)
    due = LegalRequest.objects.filter(
        gag_review_date__isnull=False, gag_review_date__lte=horizon
    ).filter(Q(gag_reminded_on__isnull=True))
    ids = [r.pk for r in due]
    if ids:
        recipients = _legal_staff_emails()
        with transaction.atomic():
            rows = list(
                LegalRequest.objects.select_for_update().filter(
                    pk__in=ids, gag_reminded_on__isnull=True
                )
            )
            for row in rows:
                row.gag_reminded_on = today
                row.save(update_fields=["gag_reminded_on"])
                record_event(
                    EventType.SHARE_LEGAL_ORDER_REMINDED,
                    actor=Actor.system(),
                    subject=row.person,
                    purpose=Basis.LEGAL,
                    detail={"legal_request": row.pk, "review_date": str(row.gag_review_date)},
                )
                reminded += 1
            items = [(r.pk, r.gag_review_date) for r in rows]
            if recipients and items:

                def send() -> None:
                    with translation.override(settings.LANGUAGE_CODE):
                        context = {
                            "items": items,
                            "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
                        }
                        subject = render_to_string(
                            "sharing/email/order_review_subject.txt", context
                        ).strip()
                        body = render_to_string("sharing/email/order_review_message.txt", context)
                    send_mail(subject, body, None, recipients)

                transaction.on_commit(send)
    lapsed = LegalRequest.objects.filter(
        gag_review_date__isnull=False,
        gag_review_date__lte=today,
        person_notified_at__isnull=True,
        status=LegalRequest.Status.RELEASED,
    )
    for row in lapsed:
        with transaction.atomic():
            locked = LegalRequest.objects.select_for_update().get(pk=row.pk)
            if locked.person_notified_at is not None:
                continue
            disclosure = Disclosure.objects.filter(legal_request=locked).first()
            if disclosure is None:
                continue
            _notify_person_on_commit(locked, disclosure, actor=Actor.system())
            notified += 1
    return {"reminded": reminded, "notified": notified}


# --- Transparency -------------------------------------------------------------------------------


def _quarter(moment: datetime) -> str:
    return f"{moment.year} Q{(moment.month - 1) // 3 + 1}"


OUTCOMES = ("released", "rejected", "pending")


def transparency_counts() -> list[dict[str, Any]]:
    """Legal requests per quarter (of the request), by authority type and outcome: counts only.

    Outcome "released" (data given), "rejected", "pending" (waiting, or approved and not
    yet released). Newest quarter first.
    """
    table: dict[str, dict[str, dict[str, int]]] = {}
    rows = LegalRequest.objects.values_list("requested_at", "authority_type", "status")
    outcomes = {
        str(LegalRequest.Status.RELEASED): "released",
        str(LegalRequest.Status.REJECTED): "rejected",
    }
    for requested_at, authority_type, status in rows.iterator():
        outcome = outcomes.get(str(status), "pending")
        by_type = table.setdefault(_quarter(requested_at), {})
        tally = by_type.setdefault(authority_type, dict.fromkeys(OUTCOMES, 0))
        tally[outcome] += 1
    labels = dict(LegalRequest.AuthorityType.choices)
    result = []
    for period in sorted(table, reverse=True):
        lines: list[dict[str, Any]] = []
        for authority_type in LegalRequest.AuthorityType.values:
            if authority_type in table[period]:
                counts = table[period][authority_type]
                lines.append(
                    {
                        "authority_type": authority_type,
                        "label": labels[authority_type],
                        "total": sum(counts.values()),
                        **counts,
                    }
                )
        result.append(
            {"period": period, "lines": lines, "total": sum(line["total"] for line in lines)}
        )
    return result


# --- Export and erasure -------------------------------------------------------------------------


def export_rows(person: User) -> Iterable[dict[str, Any]]:
    """The person's part of "download my data": consent history and visible disclosures."""
    for consent in consent_history(person).order_by("at", "id").iterator():
        yield {
            "type": "consent",
            "recipient": consent.purpose.recipient.name,
            "purpose": consent.wording,
            "action": consent.action,
            "at": consent.at.isoformat(),
        }
    for disclosure in visible_disclosures(person).order_by("released_at", "id"):
        yield {
            "type": "disclosure",
            "recipient": disclosure.recipient_name,
            "categories": list(disclosure.categories),
            "basis": disclosure.basis,
            "released_at": disclosure.released_at.isoformat(),
        }


def erase_person(person: User) -> int:
    """On erasure: drop the consent history and the legal documents; keep each
    disclosure's skeleton (recipient, category names, basis, time) as the operator's
    record that it was lawful (its sealed justification dies with the person's key)."""
    count, _ = ShareConsent.objects.filter(user=person).delete()
    for request in LegalRequest.objects.filter(person=person):
        request.document = ""
        request.document_name = ""
        request.save()
        count += 1
    return count


def is_shredded(person: User) -> bool:
    if not person.data_key:
        return False
    try:
        keys.data_key(person.data_key)
    except KeyShredded:
        return True
    except VaultError:
        return False
    return False
