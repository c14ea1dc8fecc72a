"""Claiming and running jobs: the heart of ``safehold worker``.

``run_pending()`` claims due jobs one at a time and runs them in this process. A
claim is a short write transaction: on PostgreSQL ``SELECT ... FOR UPDATE SKIP
LOCKED``, so that several workers never take the same job and never wait on each
other; on SQLite the write transaction is exclusive already (``BEGIN IMMEDIATE``).
A claimed job is leased (``locked_until``): if its worker dies, the lease runs out
and the next worker takes the job again (tasks are idempotent). Every write after
the claim is fenced by the attempt number, so a worker whose lease was taken over
cannot overwrite the newer attempt's outcome.

``schedule_periodic()`` enqueues each ``periodic`` task once per period, under the
same locking, however many workers call it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from safehold.jobs import queue
from safehold.jobs.exceptions import PermanentFailure
from safehold.jobs.models import Job, PeriodicSchedule

logger = logging.getLogger("safehold.jobs")

#: Stored in ``last_error`` after the exception's class name: never ``str(exc)``,
#: which can quote personal data (a database error quotes the offending row).
GENERIC_ERROR = "the task raised an error (the worker's log has the traceback)"
LEASE_ERROR = "the worker stopped during the job (its lease ran out)"


def default_worker_id() -> str:
    """This process's name in ``locked_by``: host and process id."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    """How long to wait before retrying after the ``attempts``-th failed attempt.

    Exponential: ``SAFEHOLD_JOBS_BACKOFF_SECONDS * 2 ** (attempts - 1)``, at most
    ``SAFEHOLD_JOBS_BACKOFF_MAX_SECONDS``.
    """
    base = float(settings.SAFEHOLD_JOBS_BACKOFF_SECONDS)
    cap = float(settings.SAFEHOLD_JOBS_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _locked(qs: QuerySet[Any]) -> QuerySet[Any]:
    """Row locks that other workers skip, where the database has them."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs  # SQLite: the IMMEDIATE write transaction already excludes other writers


def _lease_for(name: str) -> timedelta:
    registered = queue.get_task(name)
    return registered.lease if registered else timedelta(minutes=10)


#: Seconds between looks for run-out leases while a worker finds queued jobs.
LEASE_CHECK_SECONDS = 5.0
_lease_checked_at = -LEASE_CHECK_SECONDS


def _lease_check_due() -> bool:
    """Whether to look for run-out leases before queued jobs now (noted if so)."""
    global _lease_checked_at  # per process: each worker paces its own look
    due = time.monotonic() - _lease_checked_at >= LEASE_CHECK_SECONDS
    if due:
        _lease_checked_at = time.monotonic()
    return due


def _expired_lease(now: datetime) -> Job | None:
    return _locked(
        Job.objects.filter(status=Job.Status.RUNNING, locked_until__lte=now).order_by(
            "locked_until", "id"
        )
    ).first()


def claim_next(*, worker_id: str, now: datetime | None = None) -> Job | None:
    """Claim the next due job for ``worker_id`` and return it, or None if none is due.

    Due means queued with ``run_at`` passed, or running with its lease run out (its
    worker died). An expired job that has used all its attempts is marked failed
    instead of being claimed.
    """
    while True:
        now = now or queue._now()
        # No savepoint inside finish_and_claim's transaction: two round trips fewer a
        # job, and a failed claim rolls the outcome back with it (the job runs again).
        with transaction.atomic(savepoint=False):
            # Leases that ran out first, but looked for at most every few seconds while
            # queued work keeps coming (one query a job fewer), and whenever none is.
            leases_looked_at = _lease_check_due()
            job = _expired_lease(now) if leases_looked_at else None
            if job is None:
                job = _locked(
                    Job.objects.filter(status=Job.Status.QUEUED, run_at__lte=now).order_by(
                        "run_at", "id"
                    )
                ).first()
            if job is None and not leases_looked_at:
                job = _expired_lease(now)
            if job is None:
                return None
            if job.status == Job.Status.RUNNING and job.attempts >= job.max_attempts:
                job.status = Job.Status.FAILED
                job.last_error = f"LeaseExpired: {LEASE_ERROR}"
                job.finished_at = now
                job.locked_until = None
                job.acknowledged_at = None  # staff see it afresh, even after a retry
                job.save(
                    update_fields=[
                        "status",
                        "last_error",
                        "finished_at",
                        "locked_until",
                        "acknowledged_at",
                    ]
                )
                logger.warning(
                    "job %s %s: failed, %s (attempt %s of %s)",
                    job.pk,
                    job.name,
                    LEASE_ERROR,
                    job.attempts,
                    job.max_attempts,
                )
                continue
            if job.status == Job.Status.RUNNING:
                logger.warning(
                    "job %s %s: taken again, %s", job.pk, job.name, LEASE_ERROR.split(" (")[0]
                )
            job.status = Job.Status.RUNNING
            job.attempts += 1
            job.locked_by = worker_id[:100]
            job.locked_until = now + _lease_for(job.name)
            job.save(update_fields=["status", "attempts", "locked_by", "locked_until"])
            return job


@dataclass(frozen=True)
class Outcome:
    job_id: int
    name: str
    status: str  # done, retry, failed, lost (another worker took the job over)
    attempts: int
    seconds: float


def _finish(job: Job, **fields: Any) -> bool:
    """Write the outcome of this attempt unless the job was taken over meanwhile."""
    updated = Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts, locked_by=job.locked_by
    ).update(**fields)
    return updated == 1


@dataclass(frozen=True)
class Result:
    """What running a claimed job's task gave: its error, if it raised, and its time."""

    error: Exception | None
    seconds: float
    unknown: bool = False


def execute(job: Job) -> Result:
    """Run a claimed job's task in this process; the outcome is not written yet."""
    started = time.monotonic()
    registered = queue.get_task(job.name)
    if registered is None:
        return Result(LookupError(job.name), 0.0, unknown=True)
    try:
        registered.fn(dict(job.payload))
    except Exception as exc:
        return Result(exc, time.monotonic() - started)
    return Result(None, time.monotonic() - started)


def run_job(job: Job) -> Outcome:
    """Run one claimed job and record its outcome (done, retried later, or failed)."""
    return record(job, execute(job))


def record(job: Job, result: Result) -> Outcome:
    """Write a job's outcome: done; queued again after a backoff; or failed, when the
    task raised ``PermanentFailure`` or this was its last attempt. Logs one line.

    Written only if the job is still this attempt's ("lost" otherwise: its lease ran
    out and another worker took it over).
    """
    error, seconds = result.error, result.seconds
    now = queue._now()
    if error is None:
        kept = _finish(
            job,
            status=Job.Status.DONE,
            finished_at=now,
            locked_until=None,
            last_error="",
        )
        status = "done"
    else:
        kind = type(error).__name__
        if isinstance(error, PermanentFailure):
            message = f"{kind}: {error.public_message}"
        elif result.unknown:
            message = "UnknownTask: no task is registered under this name in this worker"
        else:
            message = f"{kind}: {GENERIC_ERROR}"
        final = isinstance(error, PermanentFailure) or job.attempts >= job.max_attempts
        if final:
            kept = _finish(
                job,
                status=Job.Status.FAILED,
                finished_at=now,
                locked_until=None,
                last_error=message[:1000],
                acknowledged_at=None,
            )
            status = "failed"
        else:
            kept = _finish(
                job,
                status=Job.Status.QUEUED,
                run_at=now + backoff(job.attempts),
                locked_until=None,
                locked_by="",
                last_error=message[:1000],
            )
            status = "retry"
    if not kept:
        status = "lost"
    _log(job, status, seconds, error)
    return Outcome(job.pk, job.name, status, job.attempts, seconds)


def _log(job: Job, status: str, seconds: float, error: BaseException | None) -> None:
    """One line per job: its id, task name, outcome and time; never its payload."""
    where = f"job {job.pk} {job.name}"
    attempt = f"attempt {job.attempts} of {job.max_attempts}"
    if status == "done":
        logger.info("%s: done in %.2f s (%s)", where, seconds, attempt)
    elif status == "retry":
        logger.warning(
            "%s: %s, retry in %d s (%s)",
            where,
            type(error).__name__,
            backoff(job.attempts).total_seconds(),
            attempt,
        )
    elif status == "failed":
        # The traceback's exception message is withheld by the log formatter.
        logger.error(
            "%s: failed, %s (%s)",
            where,
            type(error).__name__,
            attempt,
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )
    else:
        logger.warning("%s: finished after its lease ran out; the outcome was not kept", where)


def finish_and_claim(
    job: Job, result: Result, *, worker_id: str, claim: bool = True
) -> tuple[Outcome, Job | None]:
    """Record ``job``'s outcome and (if ``claim``) claim the next due job, in one
    transaction: one commit per job instead of two."""
    with transaction.atomic():
        outcome = record(job, result)
        return outcome, claim_next(worker_id=worker_id) if claim else None


def run_pending(*, limit: int | None = None, worker_id: str = "") -> int:
    """Claim and run due jobs in this process until none is due (or ``limit`` ran).

    Returns how many jobs ran (whatever their outcome). A job that fails is put back
    with a later ``run_at`` (backoff), so it does not run again in the same call.
    ``worker_id`` defaults to this host and process. Tests call this to run what
    their code enqueued.
    """
    worker_id = worker_id or default_worker_id()
    ran = 0
    job = claim_next(worker_id=worker_id) if limit is None or limit > 0 else None
    while job is not None:
        result = execute(job)
        ran += 1
        _outcome, job = finish_and_claim(
            job, result, worker_id=worker_id, claim=limit is None or ran < limit
        )
    return ran


def schedule_periodic(*, now: datetime | None = None) -> list[str]:
    """Enqueue every ``periodic`` task whose time has come; return their names.

    Each task has a ``PeriodicSchedule`` row. The row is locked (skipped by other
    workers on PostgreSQL) while its job is enqueued and its next time moved on, in
    one transaction: each period's job is enqueued exactly once. A period missed
    while no worker ran is run once, not once per missed period.
    """
    now = now or queue._now()
    registered = queue.periodic_tasks()
    if not registered:
        return []
    rows: dict[str, datetime] = dict(
        PeriodicSchedule.objects.filter(name__in=registered).values_list("name", "next_run_at")
    )
    missing = [name for name in registered if name not in rows]
    if missing:
        # First start: due now. A concurrent worker may create them first; that is fine.
        PeriodicSchedule.objects.bulk_create(
            [PeriodicSchedule(name=name, next_run_at=now) for name in missing],
            ignore_conflicts=True,
        )
        rows |= dict.fromkeys(missing, now)
    for name, next_run_at in rows.items():
        # A period shortened since the last run takes effect at once.
        soonest = now + registered[name].every
        if next_run_at > soonest:
            PeriodicSchedule.objects.filter(name=name, next_run_at__gt=soonest).update(
                next_run_at=soonest
            )
    if all(next_run_at > now for next_run_at in rows.values()):
        return []  # the common case: one read, no transaction
    enqueued = []
    with transaction.atomic():
        due = list(
            _locked(
                PeriodicSchedule.objects.filter(name__in=registered, next_run_at__lte=now)
            ).order_by("name")
        )
        for row in due:
            spec = registered[row.name]
            queue.enqueue(
                spec.name, spec.payload, run_at=row.next_run_at, dedupe_key=f"periodic:{spec.name}"
            )
            periods = max(1, math.ceil((now - row.next_run_at) / spec.every + 1e-9))
            row.next_run_at = row.next_run_at + periods * spec.every
            if row.next_run_at <= now:
                row.next_run_at = now + spec.every
            row.last_enqueued_at = now
            row.save(update_fields=["next_run_at", "last_enqueued_at"])
            enqueued.append(row.name)
    return enqueued
