"""run_pending: claiming, retries with backoff, failures, leases, dedupe keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safehold.jobs import enqueue
from safehold.jobs.models import Job
from safehold.jobs.worker import backoff, claim_next, run_pending
from tests.jobs import tasks

pytestmark = pytest.mark.django_db


def test_a_due_job_runs_once_and_is_done(clock) -> None:  # type: ignore[no-untyped-def]
    job = enqueue("tests.noop", {"key": "a"})
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.attempts == 1
    assert job.finished_at == clock.now
    assert job.locked_until is None
    assert tasks.calls["a"] == 1
    assert run_pending() == 0
    assert tasks.calls["a"] == 1


def test_a_job_waits_for_its_time(clock) -> None:  # type: ignore[no-untyped-def]
    enqueue("tests.noop", {"key": "later"}, run_at=clock.now + timedelta(minutes=5))
    assert run_pending() == 0
    clock.advance(minutes=5)
    assert run_pending() == 1
    assert tasks.calls["later"] == 1


def test_limit_runs_at_most_that_many_in_order(clock) -> None:  # type: ignore[no-untyped-def]
    first = enqueue("tests.noop", {"key": "1"}, run_at=clock.now - timedelta(seconds=2))
    second = enqueue("tests.noop", {"key": "2"}, run_at=clock.now - timedelta(seconds=1))
    assert run_pending(limit=1) == 1
    assert Job.objects.get(pk=first.pk).status == Job.Status.DONE
    assert Job.objects.get(pk=second.pk).status == Job.Status.QUEUED


def test_a_failing_task_is_retried_with_exponential_backoff(clock, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_JOBS_BACKOFF_SECONDS = 10
    job = enqueue("tests.flaky", {"key": "f", "fail": 2})
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert job.attempts == 1
    assert job.run_at == clock.now + timedelta(seconds=10)
    # Not due again before its backoff has passed.
    clock.advance(seconds=9)
    assert run_pending() == 0
    clock.advance(seconds=1)
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.attempts == 2
    assert job.run_at == clock.now + timedelta(seconds=20)  # doubled
    clock.advance(seconds=20)
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert tasks.calls["f"] == 3


def test_backoff_doubles_up_to_its_cap(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_JOBS_BACKOFF_SECONDS = 30
    settings.SAFEHOLD_JOBS_BACKOFF_MAX_SECONDS = 200
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]


def test_a_task_that_keeps_failing_shows_as_failed_without_personal_data(clock) -> None:  # type: ignore[no-untyped-def]
    job = enqueue("tests.flaky", {"key": "x", "fail": 99})
    for _ in range(3):
        assert run_pending() == 1
        clock.advance(hours=2)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.attempts == job.max_attempts == 3
    assert job.finished_at is not None
    assert job.last_error.startswith("ValueError: ")
    assert "alice" not in job.last_error
    assert "example.test" not in job.last_error
    assert run_pending() == 0
    assert tasks.calls["x"] == 3


def test_the_failure_is_logged_in_one_line_without_the_message(clock, caplog) -> None:  # type: ignore[no-untyped-def]
    enqueue("tests.flaky", {"key": "log", "fail": 1})
    with caplog.at_level("INFO", logger="safehold.jobs"):
        run_pending()
        clock.advance(hours=1)
        run_pending()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "tests.flaky: ValueError, retry in 30 s (attempt 1 of 3)" in lines[0]
    assert "tests.flaky: done in" in lines[1]
    assert not any("alice" in line or "key" in line for line in lines)


def test_a_permanent_failure_is_not_retried(clock) -> None:  # type: ignore[no-untyped-def]
    job = enqueue("tests.permanent", {"key": "p"})
    run_pending()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.attempts == 1
    assert job.last_error == "PermanentFailure: the export was already removed"


def test_a_job_for_an_unknown_task_fails_after_its_attempts(clock) -> None:  # type: ignore[no-untyped-def]
    job = Job.objects.create(name="gone.task", run_at=clock.now, max_attempts=2)
    run_pending()
    clock.advance(hours=1)
    run_pending()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.last_error.startswith("UnknownTask: ")


def test_an_expired_lease_is_taken_again(clock) -> None:  # type: ignore[no-untyped-def]
    job = enqueue("tests.noop", {"key": "lease"})
    claimed = claim_next(worker_id="dead-worker")
    assert claimed is not None
    assert claimed.pk == job.pk
    assert claimed.locked_by == "dead-worker"
    assert claimed.locked_until == clock.now + timedelta(minutes=10)
    # The worker "dies" here. While its lease holds, nobody else takes the job.
    assert run_pending(worker_id="w2") == 0
    clock.advance(minutes=10)
    assert run_pending(worker_id="w2") == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.attempts == 2
    assert tasks.calls["lease"] == 1


def test_a_job_whose_worker_dies_every_time_ends_failed(clock) -> None:  # type: ignore[no-untyped-def]
    job = enqueue("tests.flaky", {"key": "dies", "fail": 0})
    for _ in range(3):
        assert claim_next(worker_id="dies") is not None
        clock.advance(minutes=11)
    assert run_pending() == 0
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.last_error.startswith("LeaseExpired: ")
    assert tasks.calls["dies"] == 0


def test_a_stale_worker_cannot_overwrite_the_attempt_that_took_over(clock) -> None:  # type: ignore[no-untyped-def]
    from safehold.jobs.worker import run_job

    job = enqueue("tests.noop", {"key": "stale"})
    stale = claim_next(worker_id="slow")
    assert stale is not None
    clock.advance(minutes=11)
    fresh = claim_next(worker_id="fast")
    assert fresh is not None
    outcome = run_job(stale)  # the slow worker finally finishes
    assert outcome.status == "lost"
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert job.locked_by == "fast"
    assert run_job(fresh).status == "done"


def test_a_dedupe_key_keeps_one_pending_job(clock) -> None:  # type: ignore[no-untyped-def]
    first = enqueue("tests.noop", {"key": "d1"}, dedupe_key="export:7")
    again = enqueue("tests.noop", {"key": "d2"}, dedupe_key="export:7")
    assert again.pk == first.pk
    assert Job.objects.filter(dedupe_key="export:7").count() == 1
    run_pending()
    # Once the first is done, the key is free for a new job.
    later = enqueue("tests.noop", {"key": "d3"}, dedupe_key="export:7")
    assert later.pk != first.pk
    assert later.status == Job.Status.QUEUED


def test_enqueue_refuses_an_unknown_task() -> None:
    with pytest.raises(LookupError):
        enqueue("no.such.task")


def test_a_retried_job_that_fails_again_needs_staff_again(clock) -> None:  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor
    from safehold.jobs.services import retry_jobs

    job = enqueue("tests.permanent", {"key": "again"})
    run_pending()
    job.refresh_from_db()
    assert retry_jobs([job], actor=Actor.system()) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.QUEUED, 0)
    assert job.acknowledged_at is not None
    run_pending()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.acknowledged_at is None
    assert tasks.calls["again"] == 2


def test_run_out_leases_go_first_but_are_looked_for_only_every_few_seconds(
    clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import time

    from safehold.jobs import worker

    abandoned = enqueue("tests.noop", {"key": "abandoned"})
    assert claim_next(worker_id="dead") is not None
    clock.advance(minutes=11)
    fresh = enqueue("tests.noop", {"key": "fresh"})
    # Looked at just now: the queued job first (one query a job fewer while busy).
    monkeypatch.setattr(worker, "_lease_checked_at", time.monotonic())
    assert run_pending(limit=1) == 1
    assert Job.objects.get(pk=fresh.pk).status == Job.Status.DONE
    assert Job.objects.get(pk=abandoned.pk).status == Job.Status.RUNNING
    # And when nothing is queued, the run-out lease is taken at once.
    assert run_pending() == 1
    assert Job.objects.get(pk=abandoned.pk).status == Job.Status.DONE
    # When the look is due, a run-out lease goes before queued work.
    first = enqueue("tests.noop", {"key": "first"})
    assert claim_next(worker_id="dead") is not None
    clock.advance(minutes=11)
    later = enqueue("tests.noop", {"key": "later"})
    monkeypatch.setattr(worker, "_lease_checked_at", -worker.LEASE_CHECK_SECONDS)
    assert run_pending(limit=1) == 1
    assert Job.objects.get(pk=first.pk).status == Job.Status.DONE
    assert Job.objects.get(pk=later.pk).status == Job.Status.QUEUED
