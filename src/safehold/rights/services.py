"""The rights app's state changes: exports, erasure, and the retention of unverified sign-ups.

Views, the API, the admin and the worker's tasks call these; each change runs in one
transaction with its audit event. Tasks (tasks.py) are thin wrappers over
``build_export``, ``run_erasure``, ``expire_exports`` and ``sweep_erasures``, each
safe to run again after a worker was killed in the middle.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from allauth.account.models import EmailAddress
from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from safehold.accounts.models import User
from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.core import registry
from safehold.jobs import enqueue
from safehold.rights.archive import write_archive
from safehold.rights.exceptions import (
    CannotErase,
    ExportExpired,
    ExportNotAvailable,
    PersonNotFound,
)
from safehold.rights.models import Erasure, Export, Tombstone
from safehold.rights.sealing import SealingWriter, open_chunks
from safehold.vault import keys

logger = logging.getLogger(__name__)

EXPORT_TASK = "rights.export"
ERASE_TASK = "rights.erase"
#: An export still queued or being built after this long is given up (its job failed).
EXPORT_GIVE_UP_AFTER = timedelta(days=1)
_NONCE = 12


def _now() -> datetime:
    """The time seam for tests."""
    return timezone.now()


def export_dir() -> Path:
    """Where sealed archives are kept (created, owner-only, on first use)."""
    path = Path(settings.SAFEHOLD_EXPORT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def is_erased(user_id: int) -> bool:
    return Tombstone.objects.filter(user_id=user_id).exists()


def find_person(user_id: int) -> User:
    """The active, not-erased person with this id; raises ``PersonNotFound``."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or is_erased(user.pk):
        raise PersonNotFound("no active person has this id")
    return user


# --- Export ---------------------------------------------------------------------------------


def _export_context(export: Export) -> bytes:
    return f"safehold/rights/export/{export.public_id}".encode()


def _wrap_export_key(user: User, export: Export, raw: bytes) -> bytes:
    had_key = bool(user.data_key)
    key_id = user.vault_key_id(create=True)
    if not had_key:
        user.save(update_fields=["data_key"])
    assert key_id is not None  # noqa: S101  # create=True always gives a key
    nonce = os.urandom(_NONCE)
    return nonce + keys.data_key(key_id).encrypt(nonce, raw, _export_context(export))


def _unwrap_export_key(user: User, export: Export) -> bytes:
    if not export.wrapped_key or not user.data_key:
        raise ExportNotAvailable("the archive has no key")
    wrapped = bytes(export.wrapped_key)
    try:
        return keys.data_key(user.data_key).decrypt(
            wrapped[:_NONCE], wrapped[_NONCE:], _export_context(export)
        )
    except InvalidTag:
        raise ExportNotAvailable("the archive's key failed authentication") from None


def open_export_of(user: User) -> Export | None:
    """The person's export that is waiting or being built, if any."""
    return (
        Export.objects.filter(user=user, status__in=[Export.Status.QUEUED, Export.Status.BUILDING])
        .order_by("-requested_at")
        .first()
    )


def request_export(
    user: User,
    *,
    actor: Actor,
    via: str = Export.Via.ACCOUNT,
    language: str = "en",
    site_url: str = "",
) -> tuple[Export, bool]:
    """Ask for an archive of everything held about ``user``; returns (export, created).

    At most one export per person is waiting or being built: asking again returns
    that one (``created`` False, nothing recorded). Raises ``PersonNotFound`` for an
    erased or inactive person. The caller has checked that ``actor`` may ask.
    """
    if not user.is_active or is_erased(user.pk):
        raise PersonNotFound("no active person has this id")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one asker at a time
        existing = open_export_of(user)
        if existing is not None:
            return existing, False
        export = Export.objects.create(
            user=user,
            via=via,
            requested_at=_now(),
            language=language[:16] or "en",
            site_url=site_url[:200],
        )
        record_event(
            EventType.EXPORT_REQUESTED,
            actor=actor,
            subject=user,
            detail={"export": str(export.public_id), "via": via},
        )
        enqueue(EXPORT_TASK, {"export_id": export.pk}, dedupe_key=f"{EXPORT_TASK}:{export.pk}")
    return export, True


def build_export(export_id: int) -> Export | None:
    """Build the archive of export ``export_id`` (the worker's task). Safe to run again:
    a build that was cut off starts over, a finished one is left alone."""
    export = Export.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status not in (Export.Status.QUEUED, Export.Status.BUILDING):
        return export
    user = export.user
    if is_erased(user.pk):
        _fail_export(export)
        return export
    Export.objects.filter(pk=export.pk).update(status=Export.Status.BUILDING)
    export.status = Export.Status.BUILDING
    directory = export_dir()
    for stale in directory.glob(f"{export.public_id.hex}-*.part"):  # an attempt cut off
        stale.unlink(missing_ok=True)
    name = f"{export.public_id.hex}-{secrets.token_hex(4)}.shx"
    final = directory / name
    partial = directory / f"{name}.part"
    raw_key = os.urandom(32)
    wrapped = _wrap_export_key(user, export, raw_key)
    generated_at = _now()
    try:
        with _private_file(partial) as out, translation.override(export.language):
            writer = SealingWriter(out, raw_key, aad=export.public_id.bytes)
            counts = write_archive(writer, user, generated_at=generated_at, spool_dir=directory)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        locked = Export.objects.select_for_update().get(pk=export.pk)
        if locked.status != Export.Status.BUILDING:  # erased, given up, or built by another
            final.unlink(missing_ok=True)
            return locked
        locked.status = Export.Status.READY
        locked.ready_at = _now()
        locked.expires_at = locked.ready_at + timedelta(days=settings.SAFEHOLD_EXPORT_LINK_DAYS)
        locked.wrapped_key = wrapped
        locked.archive_name = name
        locked.size = final.stat().st_size
        locked.counts = counts
        locked.save()
        record_event(
            EventType.EXPORT_READY,
            actor=Actor.system(),
            subject=user,
            detail={"export": str(locked.public_id), "rows": sum(counts.values())},
        )
        transaction.on_commit(lambda: _mail_export_ready(locked))
    logger.info("export ready export_id=%s rows=%s", locked.pk, sum(counts.values()))
    return locked


def _private_file(path: Path) -> BinaryIO:
    """A new file only the owner may read, whatever the umask."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _remove_files(export: Export) -> None:
    directory = export_dir()
    if export.archive_name:
        (directory / export.archive_name).unlink(missing_ok=True)
    for stale in directory.glob(f"{export.public_id.hex}-*.part"):
        stale.unlink(missing_ok=True)


def _fail_export(export: Export) -> None:
    with transaction.atomic():
        updated = Export.objects.filter(
            pk=export.pk, status__in=[Export.Status.QUEUED, Export.Status.BUILDING]
        ).update(status=Export.Status.FAILED, wrapped_key=None)
        if updated:
            record_event(
                EventType.EXPORT_FAILED,
                actor=Actor.system(),
                subject=export.user,
                detail={"export": str(export.public_id)},
            )
    _remove_files(export)
    export.status = Export.Status.FAILED


def _primary_address(user: User) -> str | None:
    address = EmailAddress.objects.filter(user=user, primary=True, verified=True).first()
    return address.email if address is not None else None


def _send(user: User, template: str, context: dict[str, object], language: str) -> None:
    to = _primary_address(user)
    if to is None:
        return
    with translation.override(language):
        context = {
            "operator_name": settings.SAFEHOLD_OPERATOR_NAME,
            "contact_email": settings.SAFEHOLD_CONTACT_EMAIL,
            **context,
        }
        subject = render_to_string(f"rights/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"rights/email/{template}_message.txt", context)
    send_mail(
        settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )


def _mail_export_ready(export: Export) -> None:
    try:
        _send(
            export.user,
            "export_ready",
            {
                "link": (export.site_url or "") + reverse("rights_data"),
                "expires_at": export.expires_at,
            },
            export.language,
        )
    except OSError:
        # The archive is ready either way; the person's page shows it.
        logger.warning("export ready mail not sent export_id=%s", export.pk)


def download_key(export: Export, user: User) -> bytes:
    """The archive key of ``user``'s ready export, to stream it. Raises
    ``ExportNotAvailable`` (not theirs, not ready) or ``ExportExpired``."""
    if export.user_id != user.pk:
        raise ExportNotAvailable("not this person's export")
    if export.status == Export.Status.EXPIRED or (
        export.status == Export.Status.READY
        and export.expires_at is not None
        and export.expires_at <= _now()
    ):
        raise ExportExpired("the link has expired")
    if export.status != Export.Status.READY:
        raise ExportNotAvailable("the archive is not ready")
    return _unwrap_export_key(user, export)


def record_download(export: Export, *, actor: Actor) -> None:
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(downloaded_at=_now())
        record_event(
            EventType.EXPORT_DOWNLOADED,
            actor=actor,
            subject=export.user,
            detail={"export": str(export.public_id)},
        )


def archive_chunks(export: Export, key: bytes) -> tuple[BinaryIO, object]:
    """The open archive file and an iterator of its plaintext (a zip), chunk by chunk."""
    if not export.archive_name:
        raise FileNotFoundError("the export has no archive")
    source = (export_dir() / export.archive_name).open("rb")
    return source, open_chunks(source, key, aad=export.public_id.bytes)


def expire_exports(now: datetime | None = None) -> int:
    """Remove the archives whose link has expired, and give up builds that never finished.
    Returns how many archives were removed."""
    now = now or _now()
    removed = 0
    for export in Export.objects.filter(status=Export.Status.READY, expires_at__lte=now):
        _remove_files(export)
        Export.objects.filter(pk=export.pk, status=Export.Status.READY).update(
            status=Export.Status.EXPIRED, wrapped_key=None
        )
        removed += 1
    stuck = Export.objects.filter(
        status__in=[Export.Status.QUEUED, Export.Status.BUILDING],
        requested_at__lte=now - EXPORT_GIVE_UP_AFTER,
    ).select_related("user")
    for export in stuck:
        _fail_export(export)
    return removed


def erase_exports(user: User) -> int:
    """Remove the person's archives and export rows (erasure)."""
    exports = list(Export.objects.filter(user=user))
    for export in exports:
        _remove_files(export)
    deleted, _per_model = Export.objects.filter(user=user).delete()
    return deleted


# --- Erasure --------------------------------------------------------------------------------


def open_erasure_of(user: User) -> Erasure | None:
    return Erasure.objects.filter(
        user=user, status__in=[Erasure.Status.PENDING, Erasure.Status.ERASING]
    ).first()


def request_erasure(
    user: User,
    *,
    actor: Actor,
    reason: str = Erasure.Reason.PERSON,
    requested_by: User | None = None,
    grace: timedelta | None = None,
    note: str = "",
) -> tuple[Erasure, bool]:
    """Schedule the erasure of ``user`` after the grace period; returns (erasure, created).

    The person's own request (``reason`` PERSON) waits ``SAFEHOLD_ERASURE_GRACE_DAYS``;
    signing in before then cancels it. ``grace`` overrides (staff erasure on request
    passes zero). Every signed-in session of the person ends now. ``note`` (staff's
    stated reason) is sealed in the audit event. Raises ``CannotErase`` for a
    superuser and ``PersonNotFound`` for someone already erased. Who may ask is the
    caller's check.
    """
    if user.is_superuser:
        raise CannotErase("an administrator's account cannot be erased")
    if is_erased(user.pk):
        raise PersonNotFound("this person was erased already")
    if grace is None:
        grace = timedelta(days=settings.SAFEHOLD_ERASURE_GRACE_DAYS)
    now = _now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = open_erasure_of(user)
        if existing is not None:
            if existing.status == Erasure.Status.PENDING and now + grace < existing.erase_after:
                existing.erase_after = now + grace  # staff may bring a pending one forward
                existing.save(update_fields=["erase_after"])
                _enqueue_erasure(existing)
            return existing, False
        erasure = Erasure.objects.create(
            user=user,
            reason=reason,
            requested_at=now,
            erase_after=now + grace,
            requested_by=requested_by,
        )
        record_event(
            EventType.ERASURE_REQUESTED,
            actor=actor,
            subject=user,
            note=note,
            detail={
                "erasure": erasure.pk,
                "reason": reason,
                "erase_after": erasure.erase_after.isoformat(),
            },
        )
        _enqueue_erasure(erasure)
        from safehold.rights.profile import erase_sessions

        erase_sessions(user)
    if reason == Erasure.Reason.PERSON:
        transaction.on_commit(lambda: _mail_erasure_requested(erasure))
    return erasure, True


def _enqueue_erasure(erasure: Erasure) -> None:
    enqueue(
        ERASE_TASK,
        {"erasure_id": erasure.pk},
        run_at=erasure.erase_after,
        dedupe_key=f"{ERASE_TASK}:{erasure.pk}:{int(erasure.erase_after.timestamp())}",
    )


def _mail_erasure_requested(erasure: Erasure) -> None:
    try:
        _send(
            erasure.user,
            "erasure_requested",
            {"erase_after": erasure.erase_after},
            translation.get_language() or "en",
        )
    except OSError:
        logger.warning("erasure mail not sent erasure_id=%s", erasure.pk)


def cancel_erasure(user: User, *, actor: Actor) -> Erasure | None:
    """Cancel the person's pending erasure (they signed in during the grace period).
    Returns the cancelled erasure, or None if none was pending."""
    with transaction.atomic():
        erasure = (
            Erasure.objects.select_for_update()
            .filter(user=user, status=Erasure.Status.PENDING)
            .first()
        )
        if erasure is None:
            return None
        erasure.status = Erasure.Status.CANCELLED
        erasure.cancelled_at = _now()
        erasure.save(update_fields=["status", "cancelled_at"])
        record_event(
            EventType.ERASURE_CANCELLED, actor=actor, subject=user, detail={"erasure": erasure.pk}
        )
    return erasure


def _minimise_user(user: User) -> None:
    """What stays of the user row: an opaque name, no e-mail, no password, inactive."""
    user.username = f"erased-{secrets.token_hex(8)}"
    user.email = ""
    user.name = ""
    user.mailing_address = ""
    user.phone = ""
    user.password_hint = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def _secure_delete() -> None:
    # SQLite otherwise leaves deleted rows' bytes in free pages of the file.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


def _checkpoint_wal() -> None:
    # The write-ahead log still holds earlier versions of the erased pages until a
    # checkpoint copies the new ones back and truncates it.
    # Best effort: a reader in another process can hold it off; the next one catches up.
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except OperationalError:
            logger.warning("erasure: the SQLite write-ahead log could not be checkpointed")


@dataclass(frozen=True)
class ErasureOutcome:
    erasure: Erasure
    done: bool


def run_erasure(erasure_id: int, *, actor: Actor | None = None) -> ErasureOutcome:
    """Erase the person of ``erasure_id`` if it is due (the worker's task).

    In three steps, each safe to repeat after a crash: (1) ``erase_rows``: in one
    transaction, every registered eraser runs, the user row is minimised and a
    tombstone written; (2) the person's data key is shredded (what any earlier copy of
    the database holds under it becomes unreadable); (3) ``complete_erasure``: marked
    completed, with its audit event. A cancelled, completed or not-yet-due erasure is
    left alone.
    """
    erasure = erase_rows(erasure_id)
    if erasure.status != Erasure.Status.ERASING:
        return ErasureOutcome(erasure, erasure.status == Erasure.Status.COMPLETED)
    key_id = erasure.user.data_key
    if key_id:
        keys.shred_data_key(key_id)
    complete_erasure(erasure, actor=actor or Actor.system())
    _checkpoint_wal()
    logger.info("erasure completed erasure_id=%s", erasure.pk)
    return ErasureOutcome(erasure, True)


def erase_rows(erasure_id: int) -> Erasure:
    """Step 1 of ``run_erasure``: remove and minimise the person's rows, leave the
    tombstone, and mark the erasure ERASING (done once however often it runs)."""
    with transaction.atomic():
        erasure = Erasure.objects.select_for_update().select_related("user").get(pk=erasure_id)
        if erasure.status in (Erasure.Status.COMPLETED, Erasure.Status.CANCELLED):
            return erasure
        if erasure.status == Erasure.Status.PENDING and erasure.erase_after > _now():
            return erasure
        user = erasure.user
        if not Tombstone.objects.filter(user_id=user.pk).exists():
            _secure_delete()
            counts: dict[str, int] = {}
            for part in registry.erasers():
                counts[part.name] = int(part.erase(user))
            _minimise_user(user)
            Tombstone.objects.create(user_id=user.pk, erased_at=_now(), reason=erasure.reason)
            erasure.counts = counts
        erasure.status = Erasure.Status.ERASING
        erasure.save(update_fields=["status", "counts"])
    return erasure


def complete_erasure(erasure: Erasure, *, actor: Actor) -> None:
    """Step 3 of ``run_erasure``: record that the erasure is complete."""
    with transaction.atomic():
        updated = Erasure.objects.filter(pk=erasure.pk, status=Erasure.Status.ERASING).update(
            status=Erasure.Status.COMPLETED, completed_at=_now()
        )
        if updated:
            record_event(
                EventType.ERASURE_COMPLETED,
                actor=actor,
                subject=erasure.user,
                detail={"erasure": erasure.pk, "reason": erasure.reason, "counts": erasure.counts},
            )
    erasure.refresh_from_db()


def sweep_erasures(now: datetime | None = None) -> int:
    """Queue every erasure that is due (or was cut off mid-way); returns how many.
    A safety net beside each erasure's own scheduled job."""
    now = now or _now()
    due = Erasure.objects.filter(
        status__in=[Erasure.Status.PENDING, Erasure.Status.ERASING], erase_after__lte=now
    )
    count = 0
    for erasure in due:
        enqueue(ERASE_TASK, {"erasure_id": erasure.pk}, dedupe_key=f"{ERASE_TASK}:{erasure.pk}")
        count += 1
    return count


def purge_unverified_signups(cutoff: datetime) -> int:
    """Erase accounts made before ``cutoff`` whose e-mail was never verified (retention).
    Staff and administrators are left alone. Returns how many were erased."""
    erased = 0
    verified = EmailAddress.objects.filter(verified=True).values("user_id")
    candidates = (
        User.objects.filter(date_joined__lt=cutoff, is_staff=False, is_superuser=False)
        .exclude(pk__in=verified)
        .exclude(pk__in=Tombstone.objects.values("user_id"))
        .values_list("pk", flat=True)
    )
    for user_id in list(candidates.iterator()):
        user = User.objects.get(pk=user_id)
        erasure, _created = request_erasure(
            user, actor=Actor.system(), reason=Erasure.Reason.UNVERIFIED, grace=timedelta(0)
        )
        if run_erasure(erasure.pk).done:
            erased += 1
    return erased
