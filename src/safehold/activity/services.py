"""The activity app's state changes: access records, payments, devices.

Views, receivers, middleware and the retention job call these; they write nothing
else. Each change runs in one transaction with its audit event.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from safehold.accounts.models import SignedInSession, User
from safehold.activity.exceptions import (
    DeviceNotFound,
    InvalidCard,
    PaymentUnavailable,
    UnknownCurrency,
)
from safehold.activity.models import AccessRecord, Device, Payment
from safehold.activity.payments import Card, Charge, get_payment_processor
from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.vault import keys
from safehold.vault.exceptions import KeyShredded
from safehold.vault.fields import EncryptedJSONField

logger = logging.getLogger(__name__)


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


# --- What a request says about its browser ------------------------------------------------------


def describe_client(request: HttpRequest | None) -> dict[str, str]:
    """Browser, OS, IP address and place of ``request``'s client ("" where unknown).

    Reuses the accounts app's parsing (ua-parser, the trusted-proxy-aware client IP
    and the local geolocator), so sessions, devices and access records agree.
    """
    if request is None:
        return {"browser": "", "os": "", "ip": "", "place": ""}
    from safehold.accounts.services import _describe_client  # the accounts app's one parser

    described = _describe_client(request)
    return {
        "browser": str(described.get("browser") or ""),
        "os": str(described.get("os") or ""),
        "ip": str(described.get("ip_address") or ""),
        "place": str(described.get("place") or ""),
    }


def can_record(user: User) -> bool:
    """Whether anything can be sealed for ``user``: not once their data key is shredded
    (an erased person): then nothing more is recorded about them."""
    if not user.data_key:
        return True
    try:
        keys.data_key(user.data_key)
    except KeyShredded:
        return False
    return True


# --- Access records -------------------------------------------------------------------------------


def record_access(
    user: User,
    *,
    kind: str,
    result: str = AccessRecord.Result.SUCCEEDED,
    request: HttpRequest | None = None,
    path: str = "",
    at: datetime | None = None,
    client: dict[str, str] | None = None,
) -> AccessRecord | None:
    """Record one access to ``user``'s account and return the saved row (None, and
    nothing recorded, for a person whose data key is shredded).

    ``kind`` is an ``AccessRecord.Kind`` and ``result`` an ``AccessRecord.Result``
    (``ValueError`` otherwise). The browser, OS, IP address and place come from
    ``request`` unless ``client`` gives them (keys ``browser``, ``os``, ``ip``,
    ``place``). ``path`` is stored without its query string, which can carry
    personal data. Everything but the time, kind and result is sealed under the
    person's data key.
    """
    if kind not in AccessRecord.Kind.values:
        raise ValueError(f"unknown access kind {kind!r}")
    if result not in AccessRecord.Result.values:
        raise ValueError(f"unknown access result {result!r}")
    if not can_record(user):
        return None
    described = client if client is not None else describe_client(request)
    if not path and request is not None:
        path = request.path
    details = {
        "path": path.split("?", 1)[0][:300],
        "browser": str(described.get("browser", ""))[:100],
        "os": str(described.get("os", ""))[:100],
        "ip": str(described.get("ip", ""))[:45],
        "place": str(described.get("place", ""))[:8],
    }
    row = AccessRecord(user=user, at=at or _now(), kind=kind, result=result, details=details)
    with transaction.atomic():
        row.save()
    return row


def access_records(
    user: User,
    *,
    kind: str = "",
    result: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """The person's access records, newest first, filtered (a lazy queryset for paging)."""
    query = AccessRecord.objects.filter(user=user)
    if kind:
        query = query.filter(kind=kind)
    if result:
        query = query.filter(result=result)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    return query.order_by("-at", "-pk")


def _owned(rows: Iterator[Any], user: User) -> Iterator[Any]:
    """Give each streamed row its owner, so opening it needs no query per row."""
    for row in rows:
        row.user = user
        yield row


class _Binding:
    """What opening a sealed value needs of its row (``EncryptedField.open``): the row's
    id and version and its data key, without building a model instance per row."""

    __slots__ = ("key_id", "vault_row", "vault_version")

    def __init__(self, key_id: str | None) -> None:
        self.key_id = key_id
        self.vault_row: Any = None
        self.vault_version = 0

    def vault_key_id(self, *, create: bool) -> str | None:
        return self.key_id


def export_access_records(user: User) -> Iterator[dict[str, Any]]:
    """The person's access records for "download my data", oldest first, streamed.

    Reads plain tuples and opens each row's one ciphertext directly (no model
    instance per row): 100,000 records is a common size for an active person.
    """
    field = AccessRecord._meta.get_field("details")
    assert isinstance(field, EncryptedJSONField)  # noqa: S101  # declared so on the model
    binding = _Binding(user.vault_key_id(create=False))
    rows = (
        AccessRecord.objects.filter(user=user)
        .order_by("at", "pk")
        .values_list("at", "kind", "result", "vault_row", "vault_version", "details")
        .iterator(chunk_size=2000)
    )
    get = dict.get
    for at, kind, result, vault_row, vault_version, sealed in rows:
        details: Any = {}
        if sealed is not None:
            binding.vault_row, binding.vault_version = vault_row, vault_version
            details = field.open(binding, sealed)  # type: ignore[arg-type]  # duck-typed row
            if not isinstance(details, dict):  # ERASED: the key was shredded
                details = {}
        yield {
            "time": at.isoformat(),
            "kind": kind,
            "result": result,
            "page": get(details, "path", ""),
            "browser": get(details, "browser", ""),
            "os": get(details, "os", ""),
            "ip_address": get(details, "ip", ""),
            "place": get(details, "place", ""),
        }


def erase_access_records(user: User) -> int:
    """Remove all of the person's access records (erasure); return how many."""
    deleted, _per_model = AccessRecord.objects.filter(user=user).delete()
    return deleted


def count_access_records(cutoff: datetime) -> int:
    """How many access records ``purge_access_records(cutoff)`` would remove."""
    return AccessRecord.objects.filter(at__lt=cutoff).count()


def purge_access_records(cutoff: datetime) -> int:
    """Remove every access record older than ``cutoff``, in batches; return how many."""
    total = 0
    while True:
        ids = list(AccessRecord.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:5000])
        if not ids:
            return total
        with transaction.atomic():
            deleted, _per_model = AccessRecord.objects.filter(pk__in=ids).delete()
        total += deleted


ACCESS_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["time", "kind", "result", "page", "browser", "os", "ip_address", "place"],
    "properties": {
        "time": {"type": "string", "format": "date-time", "description": "When (UTC)."},
        "kind": {"enum": AccessRecord.Kind.values, "description": "What happened."},
        "result": {"enum": AccessRecord.Result.values},
        "page": {"type": "string", "description": "The page's path, without a query string."},
        "browser": {"type": "string"},
        "os": {"type": "string", "description": "Operating system."},
        "ip_address": {"type": "string", "description": "Client IP address, '' if unknown."},
        "place": {
            "type": "string",
            "description": "ISO 3166-1 alpha-2 country code, 'local' or ''.",
        },
    },
}


# --- Payments -------------------------------------------------------------------------

#: ISO 4217 currencies without minor units; every other accepted currency has two.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})


def currencies() -> list[str]:
    """The currencies this server accepts payments in (``SAFEHOLD_PAYMENT_CURRENCIES``)."""
    return [str(c).upper() for c in settings.SAFEHOLD_PAYMENT_CURRENCIES]


def minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in ``currency``'s minor units; ``ValueError`` if it has too many decimals."""
    if currency not in currencies():
        raise UnknownCurrency(currency)
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    try:
        scaled = amount.scaleb(exponent)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if scaled != scaled.to_integral_value():
        raise ValueError("too many decimal places")
    return int(scaled)


def decimal_amount(amount_minor: int, currency: str) -> str:
    """``12.50``: the amount as a plain decimal string in its currency's units."""
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


def format_amount(amount_minor: int, currency: str) -> str:
    """``12.50 EUR``: the amount with its currency's decimals (locale-neutral)."""
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    value = Decimal(amount_minor).scaleb(-exponent)
    return f"{value:,.{exponent}f} {currency}"


def new_form_key() -> str:
    """A one-time key for a payment form: submitting it twice charges once."""
    return secrets.token_urlsafe(24)


@sensitive_variables("card")
def make_payment(
    user: User,
    *,
    card: Card,
    amount: Decimal,
    currency: str,
    form_key: str,
    actor: User,
    request: HttpRequest | None = None,
) -> Payment:
    """Charge ``card`` through the configured processor and store the outcome.

    Stores only the processor's token, the brand, the last four digits, the amount,
    currency, status and time: never the number, expiry or security code. Returns
    the payment, whose ``status`` says whether it was paid or declined (a declined
    payment is stored and audited too). A ``form_key`` already used by this person
    returns that earlier payment and charges nothing.

    Raises ``UnknownCurrency``, ``ValueError`` (amount not positive, above
    ``SAFEHOLD_PAYMENT_MAX_AMOUNT`` or with too many decimals), ``InvalidCard`` (the
    processor refused the details; nothing stored) and ``PaymentUnavailable`` (the
    processor failed; nothing stored).
    """
    if actor.pk != user.pk:
        raise PermissionError("a payment is made by the paying person")
    amount_minor = minor_units(amount, currency)
    if amount_minor <= 0:
        raise ValueError("the amount must be more than zero")
    if amount > Decimal(settings.SAFEHOLD_PAYMENT_MAX_AMOUNT):
        raise ValueError("the amount is above the limit")
    earlier = Payment.objects.filter(form_key=form_key).first()
    if earlier is not None:
        if earlier.user_id != user.pk:
            raise PermissionError("that payment form belongs to someone else")
        return earlier
    processor = get_payment_processor()
    try:
        charge = processor.charge(
            card, amount_minor=amount_minor, currency=currency, idempotency_key=form_key
        )
    except InvalidCard:
        raise
    except Exception as exc:  # any processor failure: nothing charged is stored as paid
        logger.error(
            "payment processor %s failed: %s request_id=%s",
            processor.name,
            type(exc).__name__,
            getattr(request, "request_id", "-"),
        )
        raise PaymentUnavailable() from None
    status = Payment.Status.SUCCEEDED if charge.succeeded else Payment.Status.DECLINED
    try:
        payment = _store_payment(
            user, processor.name, charge, amount_minor, currency, form_key, request
        )
    except IntegrityError:  # the same form, submitted twice at once: the other one stored it
        earlier = Payment.objects.filter(form_key=form_key, user=user).first()
        if earlier is None:
            raise
        return earlier
    logger.info(
        "payment %s %s request_id=%s", payment.pk, status, getattr(request, "request_id", "-")
    )
    return payment


def _store_payment(
    user: User,
    processor_name: str,
    charge: Charge,
    amount_minor: int,
    currency: str,
    form_key: str,
    request: HttpRequest | None,
) -> Payment:
    status = Payment.Status.SUCCEEDED if charge.succeeded else Payment.Status.DECLINED
    with transaction.atomic():
        payment = Payment(
            user=user,
            created_at=_now(),
            amount_minor=amount_minor,
            currency=currency,
            status=status,
            processor=processor_name[:50],
            token=charge.token[:200],
            brand=charge.brand[:30],
            last4=charge.last4[-4:],
            decline_code="" if charge.succeeded else charge.decline_code[:40],
            form_key=form_key,
        )
        payment.save()
        record_event(
            EventType.PAYMENT_SUCCEEDED if charge.succeeded else EventType.PAYMENT_DECLINED,
            actor=Actor.from_request(request),
            subject=user,
            detail={"payment": payment.pk, "processor": payment.processor},
        )
    return payment


def payments_of(user: User) -> Any:
    """The person's payments, newest first (a lazy queryset for paging)."""
    return Payment.objects.filter(user=user).order_by("-created_at", "-pk")


def export_payments(user: User) -> Iterator[dict[str, Any]]:
    """The person's payments for "download my data", oldest first, streamed."""
    rows = Payment.objects.filter(user=user).order_by("created_at", "pk").iterator(chunk_size=2000)
    for row in _owned(rows, user):
        yield {
            "time": row.created_at.isoformat(),
            "amount": decimal_amount(row.amount_minor, row.currency),
            "amount_minor": row.amount_minor,
            "currency": row.currency,
            "status": row.status,
            "decline_code": row.decline_code,
            "processor": row.processor,
            "token": row.token,
            "card_brand": row.brand,
            "card_last4": row.last4,
        }


def erase_payments(user: User) -> int:
    """Minimise the person's payments (kept by law for accounting); return how many.

    Keeps amount, currency, status and time; removes the token, brand and last four
    digits and detaches the row from the person.
    """
    count = 0
    now = _now()
    rows = Payment.objects.filter(user=user).iterator(chunk_size=500)
    for row in _owned(rows, user):
        row.token = None  # NULL: nothing sealed is left
        row.brand = None
        row.last4 = None
        row.user = None
        row.form_key = None
        row.minimised_at = now
        row.save()
        count += 1
    return count


PAYMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "time",
        "amount",
        "amount_minor",
        "currency",
        "status",
        "decline_code",
        "processor",
        "token",
        "card_brand",
        "card_last4",
    ],
    "properties": {
        "time": {"type": "string", "format": "date-time"},
        "amount": {"type": "string", "description": "Decimal amount, e.g. '12.50'."},
        "amount_minor": {"type": "integer", "description": "Amount in minor units (cents)."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "status": {"enum": Payment.Status.values},
        "decline_code": {"type": "string", "description": "Why it was declined, or ''."},
        "processor": {"type": "string"},
        "token": {"type": "string", "description": "The processor's token for the card."},
        "card_brand": {"type": "string"},
        "card_last4": {"type": "string", "pattern": "^([0-9]{4})?$"},
    },
}


# --- Devices -------------------------------------------------------------------------

#: Where a session remembers which device it is on (set at sign-in).
SESSION_DEVICE = "safehold.device"
_SESSION_DEVICE_SEEN = "safehold.device_seen"
#: How often a device's "last seen" is written.
DEVICE_SEEN_RESOLUTION = timedelta(minutes=5)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _valid_token(token: str | None) -> bool:
    return (
        bool(token)
        and len(token or "") == 43
        and all(  # token_urlsafe(32)
            c.isalnum() or c in "-_" for c in token or ""
        )
    )


@dataclass(frozen=True)
class SignInDevice:
    """The device a sign-in came from; ``token`` is what the device cookie must hold."""

    device: Device
    token: str
    is_new: bool


def note_sign_in(request: HttpRequest, user: User) -> SignInDevice:
    """Find (or add) the device ``request`` comes from for ``user`` and note the sign-in.

    The device is known by the device cookie's token (a new one is made if the browser
    has none). A device not seen before for this person is added and, unless it is the
    person's first, announced by e-mail after the commit (the sign-in itself is in the
    audit log already, as ``account:sign-in:succeeded``).
    """
    token = request.COOKIES.get(settings.SAFEHOLD_DEVICE_COOKIE_NAME)
    if not _valid_token(token):
        token = secrets.token_urlsafe(32)
    assert token is not None  # noqa: S101  # narrowed above
    token_hash = _hash_token(token)
    client = describe_client(request)
    now = _now()
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(user=user, token_hash=token_hash).first()
        is_new = device is None
        had_devices = Device.objects.filter(user=user).exists()
        if device is None:
            device = Device(user=user, token_hash=token_hash, first_seen_at=now)
        device.browser = client["browser"][:100]
        device.os = client["os"][:100]
        device.ip_address = client["ip"] or None
        device.ip_seen_at = now if client["ip"] else None
        device.place = client["place"][:8]
        device.last_seen_at = now
        device.save()
    request.session[SESSION_DEVICE] = device.pk
    request.session[_SESSION_DEVICE_SEEN] = now.isoformat()
    if is_new and had_devices:
        _announce_new_device(request, user, device)
    return SignInDevice(device, token, is_new)


def _announce_new_device(request: HttpRequest, user: User, device: Device) -> None:
    """E-mail the person's verified primary address about a sign-in from a new device."""
    from allauth.account.models import EmailAddress
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    primary = EmailAddress.objects.filter(user=user, primary=True, verified=True).first()
    if primary is None:
        return
    address = primary.email
    context = {
        "user": user,
        "browser": device.browser,
        "os": device.os,
        "place": device.place,
        "ip_address": device.ip_address or "",
        "time": device.first_seen_at,
        "devices_url": request.build_absolute_uri(reverse("activity_devices")),
        "sessions_url": request.build_absolute_uri(reverse("account_sessions")),
    }
    subject = " ".join(render_to_string("activity/email/new_device_subject.txt", context).split())
    body = render_to_string("activity/email/new_device_message.txt", context)
    request_id = getattr(request, "request_id", "-")

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except Exception as exc:  # a mail server down must not undo the sign-in
            logger.error("new-device mail failed: %s request_id=%s", type(exc).__name__, request_id)
        else:
            logger.info("new-device mail sent request_id=%s", request_id)

    transaction.on_commit(send)


def touch_device(request: HttpRequest) -> None:
    """Note that the signed-in browser's device is active, at most every few minutes."""
    device_id = request.session.get(SESSION_DEVICE)
    if not device_id:
        return
    now = _now()
    seen = request.session.get(_SESSION_DEVICE_SEEN)
    try:
        if seen and now - datetime.fromisoformat(seen) < DEVICE_SEEN_RESOLUTION:
            return
    except (TypeError, ValueError):
        pass
    device = Device.objects.filter(pk=device_id, user__pk=int(request.user.pk or 0)).first()
    request.session[_SESSION_DEVICE_SEEN] = now.isoformat()
    if device is None or not can_record(device.user):  # forgotten meanwhile, or erased
        request.session.pop(SESSION_DEVICE, None)
        return
    client = describe_client(request)
    device.last_seen_at = now
    if client["ip"]:
        device.ip_address = client["ip"]
        device.ip_seen_at = now
        device.place = client["place"][:8]
    with transaction.atomic():
        device.save()


def current_device_id(request: HttpRequest) -> int | None:
    value = request.session.get(SESSION_DEVICE)
    return int(value) if value else None


def device_sessions(user: User) -> dict[int, list[SignedInSession]]:
    """The person's live sessions, by the device each was signed in on."""
    from safehold.accounts.services import _session_store, list_sessions

    store = _session_store()
    found: dict[int, list[SignedInSession]] = {}
    for row in list_sessions(user):
        device_id = store(session_key=row.session_key).get(SESSION_DEVICE)
        if device_id:
            found.setdefault(int(device_id), []).append(row)
    return found


def devices_of(user: User) -> list[Device]:
    """The person's devices, most recently seen first."""
    return list(Device.objects.filter(user=user).order_by("-last_seen_at", "-pk"))


def _device(user: User, device_id: int, *, lock: bool = False) -> Device:
    query = Device.objects.filter(user=user, pk=device_id)
    device = (query.select_for_update() if lock else query).first()
    if device is None:
        raise DeviceNotFound()
    return device


def rename_device(
    user: User, device_id: int, *, name: str, actor: User, request: HttpRequest | None = None
) -> Device:
    """Give one of the person's devices a name ("" removes it). ``DeviceNotFound`` if not theirs."""
    if actor.pk != user.pk:
        raise PermissionError("a device is renamed by its owner")
    with transaction.atomic():
        device = _device(user, device_id, lock=True)
        device.name = name.strip()[:60]
        device.save()
        record_event(
            EventType.DEVICE_RENAMED,
            actor=Actor.from_request(request),
            subject=user,
            detail={"device": device.pk, "removed": not device.name},
        )
    return device


def forget_device(
    user: User, device_id: int, *, actor: User, request: HttpRequest | None = None
) -> None:
    """Forget one of the person's devices: its next sign-in counts as a new device.

    Its sessions stay signed in (sign the device out first to end them).
    """
    if actor.pk != user.pk:
        raise PermissionError("a device is forgotten by its owner")
    with transaction.atomic():
        device = _device(user, device_id, lock=True)
        pk = device.pk
        device.delete()
        record_event(
            EventType.DEVICE_FORGOTTEN,
            actor=Actor.from_request(request),
            subject=user,
            detail={"device": pk},
        )


def sign_out_device(
    user: User,
    device_id: int,
    *,
    current_session_key: str | None,
    actor: User,
    request: HttpRequest | None = None,
) -> int:
    """End every session signed in on one of the person's devices; return how many.

    The current session is never ended here (that is the ordinary sign-out), so on
    the device in use this signs out its other sessions only. Sessions are ended
    through the accounts service, which records its own events.
    """
    from safehold.accounts.services import sign_out_sessions

    if actor.pk != user.pk:
        raise PermissionError("a device is signed out by its owner")
    with transaction.atomic():
        device = _device(user, device_id, lock=True)
        count = 0
        for row in device_sessions(user).get(device.pk, []):
            if row.session_key == current_session_key:
                continue
            count += sign_out_sessions(
                user,
                current_session_key=current_session_key,
                session_id=row.pk,
                actor=actor,
                request=request,
                reason="device-signed-out",
            )
        record_event(
            EventType.DEVICE_SIGNED_OUT,
            actor=Actor.from_request(request),
            subject=user,
            detail={"device": device.pk, "sessions": count},
        )
    return count


def export_devices(user: User) -> Iterator[dict[str, Any]]:
    """The person's devices for "download my data"."""
    rows = Device.objects.filter(user=user).order_by("first_seen_at", "pk").iterator()
    for row in _owned(rows, user):
        yield {
            "name": row.name,
            "browser": row.browser,
            "os": row.os,
            "ip_address": row.ip_address or "",
            "place": row.place,
            "first_seen": row.first_seen_at.isoformat(),
            "last_seen": row.last_seen_at.isoformat(),
        }


def erase_devices(user: User) -> int:
    """Remove all of the person's devices (erasure); return how many."""
    deleted, _per_model = Device.objects.filter(user=user).delete()
    return deleted


def count_device_ips(cutoff: datetime) -> int:
    """How many device IP addresses ``purge_device_ips(cutoff)`` would blank."""
    return Device.objects.filter(ip_seen_at__lt=cutoff).count()


def purge_device_ips(cutoff: datetime) -> int:
    """Blank the IP address of every device whose IP was written before ``cutoff``.

    The device itself (browser, OS, place, times, name) is kept. Returns how many.
    Writing NULL needs no sealing, so this is one batched UPDATE.
    """
    total = 0
    while True:
        ids = list(Device.objects.filter(ip_seen_at__lt=cutoff).values_list("pk", flat=True)[:5000])
        if not ids:
            return total
        with transaction.atomic():
            total += Device.objects.filter(pk__in=ids).update(ip_address=None, ip_seen_at=None)


DEVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "browser", "os", "ip_address", "place", "first_seen", "last_seen"],
    "properties": {
        "name": {"type": "string", "description": "The name you gave it, or ''."},
        "browser": {"type": "string"},
        "os": {"type": "string"},
        "ip_address": {
            "type": "string",
            "description": "Last IP address; '' once blanked by retention.",
        },
        "place": {"type": "string", "description": "Country code, 'local' or ''."},
        "first_seen": {"type": "string", "format": "date-time"},
        "last_seen": {"type": "string", "format": "date-time"},
    },
}
