"""The promise "background jobs are running"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safehold.core import promises
from safehold.core.promises import Status
from safehold.jobs import enqueue
from safehold.jobs.models import Job, PeriodicSchedule
from safehold.jobs.worker import claim_next, run_pending, schedule_periodic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_periodic")]


def check() -> promises.Result:
    found = promises.get("jobs-running")
    assert found is not None
    assert found.clause == "security"
    return found.run()


def test_not_checked_before_any_worker_ran() -> None:
    PeriodicSchedule.objects.all().delete()
    result = check()
    assert result.status == Status.NOT_CHECKED
    assert "safehold worker" in str(result.detail)


def test_holds_while_the_worker_keeps_up(clock) -> None:  # type: ignore[no-untyped-def]
    schedule_periodic()
    run_pending()
    enqueue("tests.noop", {"key": "soon"}, run_at=clock.now - timedelta(minutes=14))
    assert check().status == Status.HOLDS


def test_broken_when_a_job_waits_too_long(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_JOBS_OVERDUE_MINUTES = 15
    schedule_periodic()
    run_pending()
    enqueue("tests.noop", {"key": "late"}, run_at=clock.now - timedelta(minutes=16))
    result = check()
    assert result.status == Status.BROKEN
    assert "1 job has waited more than 15 minutes" in str(result.detail)


def test_broken_when_a_dead_workers_lease_is_long_gone(clock) -> None:  # type: ignore[no-untyped-def]
    schedule_periodic()
    run_pending()
    enqueue("tests.noop", {"key": "stuck"})
    claim_next(worker_id="dead")
    clock.advance(minutes=26)  # the 10-minute lease ran out 16 minutes ago
    assert check().status == Status.BROKEN


def test_broken_when_periodic_work_is_late(clock) -> None:  # type: ignore[no-untyped-def]
    schedule_periodic()
    run_pending()
    clock.advance(days=1, minutes=16)  # the daily retention would be due 16 minutes ago
    result = check()
    assert result.status == Status.BROKEN
    assert "periodic" in str(result.detail)


def test_broken_while_a_failure_is_unacknowledged(clock) -> None:  # type: ignore[no-untyped-def]
    schedule_periodic()
    run_pending()
    enqueue("tests.permanent", {"key": "p"})
    run_pending()
    result = check()
    assert result.status == Status.BROKEN
    assert "1 failed job awaits staff" in str(result.detail)
    Job.objects.filter(status=Job.Status.FAILED).update(acknowledged_at=clock.now)
    assert check().status == Status.HOLDS
