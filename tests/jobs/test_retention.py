"""Retention: each rule purges exactly what is past its limit, and says so in the audit log."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from safehold.api.models import IdempotencyRecord
from safehold.audit.events import EventType
from safehold.audit.models import Event
from safehold.audit.services import Actor, EventRecord
from safehold.jobs import enqueue, queue, retention
from safehold.jobs.exceptions import RetentionFailed
from safehold.jobs.models import Job
from safehold.jobs.services import purge_rule, run_retention
from safehold.jobs.worker import run_pending, schedule_periodic

pytestmark = pytest.mark.django_db


def purge_events() -> list[dict]:  # type: ignore[type-arg]
    return [
        json.loads(EventRecord.from_bytes(bytes(data)).detail)
        for data in Event.objects.filter(event_type=EventType.RETENTION_PURGED)
        .order_by("seq")
        .values_list("data", flat=True)
    ]


def rule(name: str) -> retention.RetentionRule:
    return next(r for r in retention.rules() if r.name == name)


def make_job(status: str, finished_days_ago: float, clock, **extra) -> Job:  # type: ignore[no-untyped-def]
    finished = clock.now - timedelta(days=finished_days_ago)
    return Job.objects.create(
        name="tests.noop", status=status, run_at=finished, finished_at=finished, **extra
    )


def test_finished_jobs_past_the_limit_are_purged_and_recorded(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS = 30
    old_done = make_job("done", 30.001, clock)
    young_done = make_job("done", 29.999, clock)
    old_failed_seen = make_job("failed", 40, clock, acknowledged_at=clock.now)
    old_failed_unseen = make_job("failed", 40, clock)
    old_queued = Job.objects.create(name="tests.noop", run_at=clock.now - timedelta(days=90))

    purged = purge_rule(rule("finished-jobs"), actor=Actor.system())

    assert purged.count == 2
    remaining = set(Job.objects.values_list("pk", flat=True))
    assert remaining == {young_done.pk, old_failed_unseen.pk, old_queued.pk}
    assert old_done.pk not in remaining
    assert old_failed_seen.pk not in remaining
    assert purge_events() == [
        {
            "rule": "finished-jobs",
            "count": 2,
            "cutoff": (clock.now - timedelta(days=30)).isoformat(),
        }
    ]
    # Safe to run twice: nothing more to purge, and the second run is recorded too.
    assert purge_rule(rule("finished-jobs"), actor=Actor.system()).count == 0
    assert [e["count"] for e in purge_events()] == [2, 0]


def test_expired_idempotency_records_are_purged(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_RETAIN_API_IDEMPOTENCY_DAYS = 1

    def record(key: str, expires_in: timedelta) -> IdempotencyRecord:
        return IdempotencyRecord.objects.create(
            owner="key:1",
            key=key,
            fingerprint="0" * 64,
            status_code=201,
            created_at=clock.now - timedelta(days=2),
            expires_at=clock.now + expires_in,
        )

    gone = record("expired-long-ago", -timedelta(days=1, seconds=1))
    kept_recent = record("expired-recently", -timedelta(hours=23))
    kept_live = record("still-live", timedelta(hours=1))

    assert purge_rule(rule("api-idempotency"), actor=Actor.system()).count == 1
    left = set(IdempotencyRecord.objects.values_list("key", flat=True))
    assert left == {kept_recent.key, kept_live.key}
    assert gone.key not in left
    assert purge_events()[-1]["rule"] == "api-idempotency"


def test_a_failing_rule_rolls_back_alone_and_the_job_is_retried(clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    removed: list[str] = []

    def purge_ok(cutoff):  # type: ignore[no-untyped-def]
        removed.append("ok")
        return 3

    def purge_broken(cutoff):  # type: ignore[no-untyped-def]
        Job.objects.filter(name="tests.noop").delete()  # rolled back with the rule
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "_rules", {})
    retention.retention_rule(
        "a-broken", description="b", setting="UNSET_A", default_days=1, purge=purge_broken
    )
    retention.retention_rule(
        "b-ok", description="o", setting="UNSET_B", default_days=7, purge=purge_ok
    )
    kept = Job.objects.create(name="tests.noop", run_at=clock.now)
    with pytest.raises(RetentionFailed) as failure:
        run_retention(actor=Actor.system())
    assert failure.value.rules == ["a-broken"]
    assert Job.objects.filter(pk=kept.pk).exists()
    assert removed == ["ok"]
    assert purge_events() == [
        {"rule": "b-ok", "count": 3, "cutoff": (clock.now - timedelta(days=7)).isoformat()}
    ]
    # Through the worker: the retention job fails its attempt and is queued again.
    job = enqueue("jobs.retention")
    run_pending()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert job.last_error.startswith("RetentionFailed: ")


@pytest.mark.usefixtures("own_periodic")
def test_the_worker_runs_retention_daily(clock, settings) -> None:  # type: ignore[no-untyped-def]
    assert queue.periodic_tasks()["jobs.retention"].every == timedelta(days=1)
    old = make_job("done", 400, clock)
    assert "jobs.retention" in schedule_periodic()
    run_pending()
    assert not Job.objects.filter(pk=old.pk).exists()
    assert {e["rule"] for e in purge_events()} >= {"finished-jobs", "api-idempotency"}


def test_dry_run_lists_rules_and_counts_without_purging(clock) -> None:  # type: ignore[no-untyped-def]
    make_job("done", 31, clock)
    make_job("done", 31, clock)
    make_job("done", 1, clock)
    out = StringIO()
    call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "finished-jobs: Finished background jobs" in text
    (row,) = [line.split() for line in text.splitlines() if line.startswith("finished-jobs ")]
    cutoff = clock.now - timedelta(days=30)
    assert row == [
        "finished-jobs",
        "30",
        "d",
        f"{cutoff:%Y-%m-%d}",
        f"{cutoff:%H:%M}",
        "2",
        "SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS",
    ]
    assert Job.objects.count() == 3
    assert purge_events() == []
