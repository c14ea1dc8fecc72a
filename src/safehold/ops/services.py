"""Operations' state changes: backups made, verified, pruned and restored; maintenance
mode; breach incidents. Each records its audit event in the same transaction.

Who may call what is checked by the caller: the command line is the operator; the
admin's views check the model permissions (``ops.add_incident``,
``ops.notify_incident``, ``ops.export_incident``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.utils import translation

from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.ops import backups
from safehold.ops.exceptions import BackupError, IncidentError
from safehold.ops.models import AffectedPerson, Backup, Incident, MaintenanceState

logger = logging.getLogger(__name__)


def _now() -> datetime:
    """The time seam for tests."""
    return backups._now()


def _database_ready() -> bool:
    """Whether this installation's tables exist (not so in an empty restore target).

    Never creates an empty SQLite file where the restore target should stay untouched.
    """
    if backups.engine() == "sqlite" and not backups.sqlite_path().exists():
        return False
    try:
        tables = set(connection.introspection.table_names())
    except DatabaseError:
        return False
    return {"audit_event", "ops_backup"} <= tables


# --- backups -----------------------------------------------------------------------------


def make_backup(
    *, actor: Actor, output: Path | None = None, kind: str = Backup.Kind.MANUAL
) -> backups.BackupResult:
    """Write a backup (see ``backups.write_backup``) and record it.

    Raises ``BackupError``; a failure is recorded as ``backup:failed`` too.
    """
    try:
        result = backups.write_backup(output or backups.default_output())
    except BackupError as exc:
        if _database_ready():
            with transaction.atomic():
                record_event(
                    EventType.BACKUP_FAILED,
                    actor=actor,
                    detail={"kind": kind, "reason": str(exc)},
                )
        raise
    manifest = result.manifest
    with transaction.atomic():
        Backup.objects.create(
            path=str(result.path),
            backup_id=result.backup_id,
            kind=kind,
            created_at=datetime.fromisoformat(manifest["created_at"]),
            size=result.size,
            sha256=manifest["payload"]["sha256"],
        )
        record_event(
            EventType.BACKUP_MADE,
            actor=actor,
            detail={
                "backup_id": result.backup_id,
                "kind": kind,
                "bytes": result.size,
                "tables": len(manifest["database"]["row_counts"]),
                "rows": sum(manifest["database"]["row_counts"].values()),
            },
        )
    return result


def verify_backup(path: Path, *, actor: Actor) -> backups.VerifyReport:
    """Verify a backup file (``backups.verify_file``) and record the outcome.

    A file that cannot be read at all raises ``BackupError`` (recorded as a failed
    verification when this installation's database is there to record it).
    """
    record = _database_ready()
    try:
        report = backups.verify_file(path)
    except BackupError as exc:
        if record:
            with transaction.atomic():
                record_event(
                    EventType.BACKUP_VERIFY_FAILED,
                    actor=actor,
                    detail={"file": path.name, "reason": str(exc)},
                )
                Backup.objects.filter(path=str(path.expanduser().resolve())).update(
                    verified_at=_now(), verified_ok=False
                )
        raise
    if record:
        with transaction.atomic():
            record_event(
                EventType.BACKUP_VERIFIED if report.ok else EventType.BACKUP_VERIFY_FAILED,
                actor=actor,
                detail={
                    "backup_id": report.backup_id,
                    "problems": len(report.problems),
                    "rows": sum(report.counts.values()),
                },
            )
            Backup.objects.filter(backup_id=report.backup_id).update(
                verified_at=_now(), verified_ok=report.ok
            )
    return report


def _keep(backups_newest_first: list[Backup]) -> set[int]:
    """Grandfather-father-son: the newest backup of each of the last N days, weeks, months."""
    keep: set[int] = set()
    rules = (
        (settings.SAFEHOLD_BACKUP_KEEP_DAILY, lambda d: d.date().isoformat()),
        (
            settings.SAFEHOLD_BACKUP_KEEP_WEEKLY,
            lambda d: f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}",
        ),
        (settings.SAFEHOLD_BACKUP_KEEP_MONTHLY, lambda d: f"{d.year}-{d.month:02d}"),
    )
    for limit, period in rules:
        seen: list[str] = []
        for item in backups_newest_first:
            key = period(item.created_at)
            if key in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(key)
            keep.add(item.pk)
    return keep


def prune_backups(*, actor: Actor) -> int:
    """Delete scheduled backups the retention rule no longer keeps; return how many.

    Only scheduled backups are pruned (a manual one is the operator's to remove), and
    the newest verified backup is always kept.
    """
    candidates = list(
        Backup.objects.filter(kind=Backup.Kind.SCHEDULED, pruned_at__isnull=True).order_by(
            "-created_at"
        )
    )
    keep = _keep(candidates)
    newest_verified = (
        Backup.objects.filter(verified_ok=True, pruned_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if newest_verified is not None:
        keep.add(newest_verified.pk)
    pruned = 0
    for item in candidates:
        if item.pk in keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            Path(item.path).unlink()
        item.pruned_at = _now()
        item.save(update_fields=["pruned_at"])
        pruned += 1
    if pruned:
        with transaction.atomic():
            record_event(
                EventType.BACKUP_PRUNED, actor=actor, detail={"removed": pruned, "kept": len(keep)}
            )
    return pruned


def scheduled_backup() -> backups.BackupResult:
    """The periodic task's work: back up, verify, prune. Raises ``BackupError``."""
    actor = Actor.system()
    result = make_backup(actor=actor, kind=Backup.Kind.SCHEDULED)
    verify_backup(result.path, actor=actor)
    prune_backups(actor=actor)
    return result


def last_verified_backup() -> Backup | None:
    return Backup.objects.filter(verified_ok=True).order_by("-created_at").first()


@dataclass
class RestoreOutcome:
    result: backups.RestoreResult
    reapplied: int
    accounts_erased: int
    audit_ok: bool
    audit_events: int
    audit_problems: list[str]


def _reerase_account(user: Any, *, actor: Actor) -> int:
    """Remove what a restore brought back of a person whose key has been shredded since
    the backup: every app's eraser, then the account itself is closed and emptied."""
    from allauth.account.models import EmailAddress

    from safehold.core import registry

    rows = 0
    for eraser in registry.erasers():
        try:
            with transaction.atomic():
                rows += int(eraser.erase(user))
        except Exception:
            logger.warning("restore: eraser %s failed for an erased account", eraser.name)
    rows += EmailAddress.objects.filter(user=user).delete()[0]
    # As the rights app leaves an erased account (its sealed fields are unreadable now
    # and cannot be re-sealed: the key is gone).
    user.username = f"erased-{secrets.token_hex(8)}"
    user.email = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save(
        update_fields=["username", "email", "is_active", "is_staff", "is_superuser", "password"]
    )
    user.groups.clear()
    user.user_permissions.clear()
    _complete_rights_erasure(user, actor=actor)
    record_event(
        EventType.RESTORE_ERASURE_REAPPLIED, actor=actor, subject=user, detail={"rows": rows}
    )
    return rows


def _complete_rights_erasure(user: Any, *, actor: Actor) -> None:
    """If the restored database holds this person's erasure request (made before the
    backup, carried out after it), finish it as the rights app would: tombstone, completed."""
    try:
        from safehold.rights import services as rights
        from safehold.rights.models import Erasure, Tombstone
    except ImportError:
        return
    erasure = Erasure.objects.filter(user=user).order_by("-pk").first()
    if erasure is None:
        return
    if not Tombstone.objects.filter(user_id=user.pk).exists():
        Tombstone.objects.create(user_id=user.pk, erased_at=_now(), reason=erasure.reason)
    if erasure.status != Erasure.Status.COMPLETED:
        Erasure.objects.filter(pk=erasure.pk).update(status=Erasure.Status.ERASING)
        erasure.refresh_from_db()
        rights.complete_erasure(erasure, actor=actor)


def restore_backup(
    path: Path, *, actor: Actor, force: bool = False, extra_ledgers: Iterable[Path] = ()
) -> RestoreOutcome:
    """Restore a backup, re-apply every erasure made since, verify the audit log, record it.

    Raises ``RestoreRefused`` if the target holds data and ``force`` is false, and
    ``BackupError`` if the file is damaged, truncated or under another master key
    (before anything was replaced).
    """
    from django.core.management import call_command

    from safehold.accounts.models import User
    from safehold.audit.verify import verify_log
    from safehold.vault import keys
    from safehold.vault.keystore import get_keystore

    result = backups.restore_file(path, force=force, extra_ledgers=list(extra_ledgers))
    # A backup from an older version is brought up to this version's schema.
    call_command("migrate", interactive=False, verbosity=0)
    store = get_keystore()
    reapplied = [
        key_id
        for key_id in result.erasures_reapplied
        if (stored := store.data_key(key_id)) is not None and stored.wrapped is not None
    ]
    accounts = 0
    for key_id in reapplied:
        with transaction.atomic():
            keys.shred_data_key(key_id)  # records vault:key:shredded, as the first time
            for user in User.objects.filter(data_key=key_id):
                _reerase_account(user, actor=actor)
                accounts += 1
    report = verify_log()
    with transaction.atomic():
        record_event(
            EventType.RESTORE_COMPLETED,
            actor=actor,
            detail={
                "backup_id": result.backup_id,
                "backup_made_at": result.manifest["created_at"],
                "erasures_reapplied": len(reapplied),
                "accounts_erased": accounts,
                "audit_ok": report.ok,
                "row_count_problems": len(result.count_problems),
            },
        )
    return RestoreOutcome(
        result, len(reapplied), accounts, report.ok, report.events, list(report.problems)
    )


# --- maintenance mode ----------------------------------------------------------------------

MAINTENANCE_CACHE_KEY = "ops:maintenance:v1"
MAINTENANCE_CACHE_SECONDS = 5


@dataclass(frozen=True)
class Maintenance:
    is_on: bool
    message: str = ""
    started_at: datetime | None = None
    retry_after: int = 3600


def maintenance_state(*, fresh: bool = False) -> Maintenance:
    """The current state, cached for a few seconds (every app server reads the same row)."""
    if not fresh:
        cached = cache.get(MAINTENANCE_CACHE_KEY)
        if isinstance(cached, Maintenance):
            return cached
    try:
        row = MaintenanceState.objects.filter(id=1).first()
    except DatabaseError:  # not migrated yet
        return Maintenance(False)
    state = (
        Maintenance(row.is_on, row.message, row.started_at, row.retry_after)
        if row is not None
        else Maintenance(False)
    )
    cache.set(MAINTENANCE_CACHE_KEY, state, MAINTENANCE_CACHE_SECONDS)
    return state


def set_maintenance(
    on: bool, *, actor: Actor, message: str = "", retry_after: int = 3600
) -> Maintenance:
    """Switch maintenance mode on (read-only, with ``message`` on every page) or off."""
    with transaction.atomic():
        row, _ = MaintenanceState.objects.select_for_update().get_or_create(id=1)
        was_on = row.is_on
        row.is_on = on
        if on:
            row.message = message
            row.retry_after = retry_after
            if not was_on:
                row.started_at = _now()
        row.save()
        if on != was_on or on:
            record_event(
                EventType.MAINTENANCE_ON if on else EventType.MAINTENANCE_OFF,
                actor=actor,
                detail={"retry_after": retry_after} if on else {},
            )
    cache.delete(MAINTENANCE_CACHE_KEY)
    return maintenance_state(fresh=True)


# --- incidents -----------------------------------------------------------------------------

CATEGORIES = (
    "identity",  # names, user names
    "contact",  # e-mail addresses, phone numbers, mailing addresses
    "credentials",  # password hashes, second factors
    "devices",  # IP addresses, browsers, places
    "transactions",  # access records, payments
    "consents",
    "other",
)


def preferred_language(user: Any) -> str:
    """The language to write to someone in: theirs if Safehold knows it, else the site's.

    Known, in order: a language on the account (if the account model has one), then the
    page language of their latest consent choice; otherwise ``LANGUAGE_CODE``.
    """
    known = {code.lower() for code, _ in settings.LANGUAGES}
    candidates = [str(getattr(user, a, "") or "") for a in ("preferred_language", "language")]
    try:
        from safehold.consent.models import ConsentRecord

        latest = (
            ConsentRecord.objects.filter(user=user).exclude(language="").order_by("-pk").first()
        )
        if latest is not None:
            candidates.append(latest.language)
    except (ImportError, DatabaseError):
        pass
    for value in candidates:
        value = value.lower()
        if value in known:
            return value
        if value.startswith("zh") and "zh-hans" in known:
            return "zh-hans"
    return str(settings.LANGUAGE_CODE)


def _incident_detail(incident: Incident, **extra: Any) -> dict[str, Any]:
    return {"incident": incident.pk, **extra}


def open_incident(
    *,
    actor: Actor,
    title: str,
    summary: str,
    discovered_at: datetime,
    data_categories: list[str],
    advice: str = "",
    occurred_from: datetime | None = None,
    occurred_until: datetime | None = None,
    notify_authority_by: datetime | None = None,
    translations: dict[str, dict[str, str]] | None = None,
) -> Incident:
    """Open an incident; the authority deadline defaults to discovery + 72 hours."""
    unknown = set(data_categories) - set(CATEGORIES)
    if unknown:
        raise IncidentError(f"unknown data categories: {', '.join(sorted(unknown))}")
    if occurred_from and occurred_until and occurred_until < occurred_from:
        raise IncidentError("the breach window ends before it starts")
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title,
            summary=summary,
            advice=advice,
            translations=translations or {},
            discovered_at=discovered_at,
            occurred_from=occurred_from,
            occurred_until=occurred_until,
            data_categories=list(data_categories),
            notify_authority_by=notify_authority_by
            or discovered_at + timedelta(hours=settings.SAFEHOLD_INCIDENT_NOTIFY_HOURS),
        )
        record_event(
            EventType.INCIDENT_OPENED,
            actor=actor,
            detail=_incident_detail(
                incident,
                categories=sorted(data_categories),
                deadline=incident.notify_authority_by.isoformat(timespec="seconds"),
            ),
        )
    return incident


def record_incident_change(incident: Incident, *, actor: Actor, fields: list[str]) -> None:
    """Record that staff changed an incident's description (the admin's change form)."""
    record_event(
        EventType.INCIDENT_UPDATED,
        actor=actor,
        detail=_incident_detail(incident, fields=sorted(fields)),
    )


def _add_people(incident: Incident, users: Iterable[Any], *, reason: str, actor: Actor) -> int:
    if incident.status == Incident.Status.CLOSED:
        raise IncidentError("the incident is closed")
    already = set(incident.affected.values_list("user_id", flat=True))
    added = 0
    for user in users:
        if user.pk in already:
            continue
        AffectedPerson.objects.create(
            incident=incident, user=user, reason=reason, language=preferred_language(user)
        )
        record_event(
            EventType.INCIDENT_PERSON_ADDED,
            actor=actor,
            subject=user,
            detail=_incident_detail(incident, reason=reason),
        )
        already.add(user.pk)
        added += 1
    return added


def people_in_window(
    start: datetime, end: datetime, *, event_types: Iterable[str] = ()
) -> Iterator[Any]:
    """Everyone who is the subject of an audit event between ``start`` and ``end``
    (optionally only of ``event_types``): whose data was touched in the breach window."""
    from safehold.accounts.models import User
    from safehold.audit.models import Event

    events = Event.objects.filter(
        occurred_at__gte=start.isoformat(timespec="microseconds"),
        occurred_at__lte=end.isoformat(timespec="microseconds"),
    ).exclude(subject_id="")
    types = list(event_types)
    if types:
        events = events.filter(event_type__in=types)
    ids = {int(s) for s in events.values_list("subject_id", flat=True).distinct() if s.isdigit()}
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk").iterator()


def add_people_from_audit_log(
    incident: Incident, *, actor: Actor, event_types: Iterable[str] = ()
) -> int:
    """Add everyone with an audit event in the incident's breach window; return how many."""
    if incident.occurred_from is None or incident.occurred_until is None:
        raise IncidentError("set the breach window (start and end) first")
    with transaction.atomic():
        return _add_people(
            incident,
            people_in_window(
                incident.occurred_from, incident.occurred_until, event_types=event_types
            ),
            reason="audit-window",
            actor=actor,
        )


def add_people(incident: Incident, users: Iterable[Any], *, actor: Actor) -> int:
    """Add chosen people to the incident; return how many were new."""
    with transaction.atomic():
        return _add_people(incident, users, reason="chosen", actor=actor)


def add_everyone(incident: Incident, *, actor: Actor) -> int:
    """Add every active account (a breach of the whole database)."""
    from safehold.accounts.models import User

    with transaction.atomic():
        return _add_people(
            incident,
            User.objects.filter(is_active=True).order_by("pk").iterator(),
            reason="everyone",
            actor=actor,
        )


def _notice_text(incident: Incident, language: str) -> tuple[str, str, str]:
    translated = incident.translations.get(language, {}) if incident.translations else {}
    summary = translated.get("summary") or incident.summary
    advice = translated.get("advice") or incident.advice
    return summary, advice, language


def _render_notice(incident: Incident, person: AffectedPerson) -> EmailMessage:
    from safehold.core.context_processors import site  # the operator's name and contact

    summary, advice, language = _notice_text(incident, person.language)
    with translation.override(language):
        context = {
            **site(None),  # type: ignore[arg-type]  # site() reads settings only
            "incident": incident,
            "summary": summary,
            "advice": advice,
            "categories": [category_label(c) for c in incident.data_categories],
            "user": person.user,
        }
        subject = render_to_string("ops/email/breach_notice_subject.txt", context).strip()
        body = render_to_string("ops/email/breach_notice_message.txt", context)
    return EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        to=[person.user.email],
    )


def category_label(code: str) -> str:
    from django.utils.translation import gettext

    labels = {
        "identity": gettext("names and user names"),
        "contact": gettext("contact details (e-mail address, phone, mailing address)"),
        "credentials": gettext("sign-in data (password hashes, second factors)"),
        "devices": gettext("device data (IP addresses, browsers, places)"),
        "transactions": gettext("access records and payments"),
        "consents": gettext("consent records"),
        "other": gettext("other data"),
    }
    return labels.get(code, code)


def send_notices(incident: Incident, *, actor: Actor) -> int:
    """E-mail every affected person not yet told; return how many were sent.

    Each notice is in the person's language; each is recorded (``incident:notice-sent``,
    subject the person) once the mail server has accepted it, so a failure part-way
    leaves the rest to send on the next call, and nobody is told twice.
    """
    if incident.status == Incident.Status.CLOSED:
        raise IncidentError("the incident is closed")
    sent = 0
    pending = incident.affected.filter(notified_at__isnull=True).select_related("user")
    for person in pending.order_by("pk").iterator():
        if not person.user.email:
            continue
        message = _render_notice(incident, person)
        message.send(fail_silently=False)
        with transaction.atomic():
            person.notified_at = _now()
            person.save(update_fields=["notified_at"])
            record_event(
                EventType.INCIDENT_NOTICE_SENT,
                actor=actor,
                subject=person.user,
                detail=_incident_detail(incident, language=person.language),
            )
        sent += 1
    if sent and incident.status == Incident.Status.OPEN:
        Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.NOTIFYING)
        incident.status = Incident.Status.NOTIFYING
    return sent


def mark_authority_notified(incident: Incident, *, actor: Actor) -> None:
    with transaction.atomic():
        incident.authority_notified_at = _now()
        incident.save(update_fields=["authority_notified_at"])
        record_event(
            EventType.INCIDENT_AUTHORITY_NOTIFIED,
            actor=actor,
            detail=_incident_detail(
                incident, late=incident.authority_notified_at > incident.notify_authority_by
            ),
        )


def close_incident(incident: Incident, *, actor: Actor) -> None:
    with transaction.atomic():
        incident.status = Incident.Status.CLOSED
        incident.closed_at = _now()
        incident.save(update_fields=["status", "closed_at"])
        record_event(EventType.INCIDENT_CLOSED, actor=actor, detail=_incident_detail(incident))


def timeline(incident: Incident) -> list[dict[str, Any]]:
    """The incident's steps in order, from its audit events (no personal data: people
    are ids, as in the log)."""
    from safehold.audit.models import Event
    from safehold.audit.services import EventRecord

    steps = []
    marker = f'"incident":{incident.pk}'
    for event in Event.objects.filter(event_type__startswith="incident:").order_by("seq"):
        record = EventRecord.from_bytes(bytes(event.data))
        if marker not in record.detail:
            continue
        detail = record.detail_dict
        if detail.get("incident") != incident.pk:
            continue
        steps.append(
            {
                "seq": record.seq,
                "at": record.occurred_at,
                "event": record.event_type,
                "actor": f"{record.actor_kind}:{record.actor_id}".rstrip(":"),
                "person": record.subject_id,
                "detail": {k: v for k, v in detail.items() if k != "incident"},
            }
        )
    return steps


def export_timeline(incident: Incident, *, actor: Actor, fmt: str) -> tuple[str, str]:
    """The incident for the authority, as ``(content, content_type)``: JSON or CSV.

    Recorded (``incident:timeline-exported``) before it is returned.
    """
    if fmt not in {"json", "csv"}:
        raise IncidentError("the format must be json or csv")
    with transaction.atomic():
        record_event(
            EventType.INCIDENT_EXPORTED, actor=actor, detail=_incident_detail(incident, format=fmt)
        )
    steps = timeline(incident)
    affected = incident.affected.count()
    notified = incident.affected.filter(notified_at__isnull=False).count()
    if fmt == "json":
        document = {
            "incident": incident.pk,
            "title": incident.title,
            "what_happened": incident.summary,
            "what_people_should_do": incident.advice,
            "discovered_at": incident.discovered_at.isoformat(),
            "breach_window": [
                incident.occurred_from.isoformat() if incident.occurred_from else None,
                incident.occurred_until.isoformat() if incident.occurred_until else None,
            ],
            "data_categories": incident.data_categories,
            "notify_authority_by": incident.notify_authority_by.isoformat(),
            "authority_notified_at": incident.authority_notified_at.isoformat()
            if incident.authority_notified_at
            else None,
            "status": incident.status,
            "people_affected": affected,
            "people_notified": notified,
            "timeline": steps,
        }
        return json.dumps(document, indent=2, ensure_ascii=False), "application/json"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["seq", "at", "event", "actor", "person", "detail"])
    for step in steps:
        writer.writerow(
            [
                step["seq"],
                step["at"],
                step["event"],
                step["actor"],
                step["person"],
                json.dumps(step["detail"], sort_keys=True),
            ]
        )
    return buffer.getvalue(), "text/csv"
