"""Scheduled backups through the job worker, the retention rule, and the promise check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safehold.core.promises import Status
from safehold.ops import checks, services
from safehold.ops.models import Backup


def test_the_worker_makes_verifies_and_records_a_daily_backup(make_instance) -> None:  # type: ignore[no-untyped-def]
    instance = make_instance("scheduled", SAFEHOLD_BACKUP_FIRST_DELAY_MINUTES="0")
    instance.shell("fill(3)")
    before = instance.shell("promise('backups-verified')")
    assert before["status"] == "not-checked"  # a new installation: the first is due tomorrow
    result = instance.shell("scheduled()")
    assert "ops.backup" in result["scheduled"]
    assert result["ran"] >= 1
    [made] = [b for b in result["backups"] if b["kind"] == "scheduled"]
    assert made["verified_ok"] is True
    assert Path(made["path"]).parent == instance.data_dir / "backups"
    instance.ok("backup", "--verify", made["path"])
    kinds = [e["type"] for e in instance.shell("events('backup:')")["events"]]
    assert kinds[:2] == ["backup:made", "backup:verified"]
    after = instance.shell("promise('backups-verified')")
    assert after["status"] == "holds", after


def test_a_new_installation_puts_its_first_backup_off(make_instance) -> None:  # type: ignore[no-untyped-def]
    instance = make_instance("young")
    result = instance.shell("scheduled()")
    assert "ops.backup" in result["scheduled"]
    assert result["backups"] == []  # put off to an hour after set-up, not made now
    assert instance.shell("events('backup:')")["events"] == []


def _backup(tmp_path: Path, when: datetime, **fields) -> Backup:  # type: ignore[no-untyped-def]
    path = tmp_path / f"b-{when:%Y%m%d%H}.backup"
    path.write_bytes(b"x")
    fields.setdefault("verified_ok", True)
    fields.setdefault("kind", Backup.Kind.SCHEDULED)
    return Backup.objects.create(
        path=str(path),
        backup_id=when.strftime("%Y%m%d%H%M%S"),
        created_at=when,
        size=1,
        sha256="0" * 64,
        **fields,
    )


@pytest.mark.django_db
def test_retention_keeps_7_daily_4_weekly_12_monthly(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 3, tzinfo=UTC)
    made = [_backup(tmp_path, now - timedelta(days=d)) for d in range(400)]
    removed = services.prune_backups(actor=services.Actor.system())
    kept = Backup.objects.filter(pruned_at__isnull=True).order_by("-created_at")
    ages = [(now - b.created_at).days for b in kept]
    # 7 newest days; then the newest of each older week and month.
    assert ages[:7] == list(range(7))
    assert len(kept) <= 7 + 4 + 12
    assert len(kept) >= 12
    assert removed == len(made) - len(kept)
    assert max(ages) < 366
    for backup in Backup.objects.filter(pruned_at__isnull=False):
        assert not Path(backup.path).exists()
    for backup in kept:
        assert Path(backup.path).exists()
    # Manual backups are never pruned.
    manual = _backup(tmp_path, now - timedelta(days=900), kind=Backup.Kind.MANUAL)
    services.prune_backups(actor=services.Actor.system())
    manual.refresh_from_db()
    assert manual.pruned_at is None


@pytest.mark.django_db
def test_promise_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    monkeypatch.setattr(services, "_now", lambda: now)
    # No backup, installation older than a day: broken.
    monkeypatch.setattr(checks, "_installed_at", lambda: now - timedelta(days=3))
    assert checks.check_backups().status == Status.BROKEN
    # No backup, installed an hour ago: not checked yet (the first is due tomorrow).
    monkeypatch.setattr(checks, "_installed_at", lambda: now - timedelta(hours=1))
    assert checks.check_backups().status == Status.NOT_CHECKED
    recent = _backup(tmp_path, now - timedelta(hours=5))
    result = checks.check_backups()
    assert result.status == Status.HOLDS
    assert "2026-11-25 07:00" in str(result.detail)
    recent.created_at = now - timedelta(hours=31)
    recent.save()
    assert checks.check_backups().status == Status.BROKEN  # older than a day plus grace
    _backup(tmp_path, now - timedelta(hours=1), verified_ok=False)
    result = checks.check_backups()
    assert result.status == Status.BROKEN
    assert "failed verification" in str(result.detail)
