"""State changes of the job queue: retention purges, and staff retrying or
acknowledging failed jobs. Each writes its audit event in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from safehold.audit.events import EventType
from safehold.audit.services import Actor, record_event
from safehold.jobs import queue
from safehold.jobs.exceptions import RetentionFailed
from safehold.jobs.models import Job
from safehold.jobs.retention import RetentionRule, rules

logger = logging.getLogger("safehold.jobs")


@dataclass(frozen=True)
class Purged:
    rule: str
    count: int
    cutoff: datetime


def cutoff_for(rule: RetentionRule, now: datetime) -> datetime:
    return now - timedelta(days=rule.days)


def purge_rule(rule: RetentionRule, *, actor: Actor, now: datetime | None = None) -> Purged:
    """Run one retention rule with cutoff ``now - days`` and record
    ``retention:purged`` (rule, count, cutoff) in the same transaction."""
    cutoff = cutoff_for(rule, now or queue._now())
    with transaction.atomic():
        count = int(rule.purge(cutoff))
        record_event(
            EventType.RETENTION_PURGED,
            actor=actor,
            detail={"rule": rule.name, "count": count, "cutoff": cutoff.isoformat()},
        )
    return Purged(rule.name, count, cutoff)


def run_retention(*, actor: Actor, now: datetime | None = None) -> list[Purged]:
    """Run every registered retention rule, each in its own transaction.

    A failing rule does not stop the others; afterwards ``RetentionFailed`` names
    the rules that failed (so the job is retried; purges are safe to run twice).
    """
    now = now or queue._now()
    done: list[Purged] = []
    failed: list[str] = []
    for rule in rules():
        try:
            purged = purge_rule(rule, actor=actor, now=now)
        except Exception as exc:
            logger.error("retention %s: failed, %s", rule.name, type(exc).__name__)
            failed.append(rule.name)
            continue
        logger.info("retention %s: %d purged (limit %d days)", rule.name, purged.count, rule.days)
        done.append(purged)
    if failed:
        raise RetentionFailed(failed)
    return done


def retry_jobs(jobs: Iterable[Job], *, actor: Actor) -> int:
    """Put failed jobs back in the queue, due now, with their attempts reset.

    Only failed jobs are touched; returns how many. The caller checks that the
    actor may change jobs (the admin's ``change`` permission).
    """
    ids = [job.pk for job in jobs if job.status == Job.Status.FAILED]
    if not ids:
        return 0
    now = queue._now()
    with transaction.atomic():
        count = Job.objects.filter(pk__in=ids, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED,
            attempts=0,
            run_at=now,
            locked_by="",
            locked_until=None,
            finished_at=None,
            acknowledged_at=now,
        )
        record_event(EventType.JOBS_RETRIED, actor=actor, detail={"jobs": sorted(ids)})
    return count


def acknowledge_failures(jobs: Iterable[Job], *, actor: Actor) -> int:
    """Mark failed jobs as seen by staff (the promise check stops reporting them)."""
    ids = [job.pk for job in jobs if job.status == Job.Status.FAILED and not job.acknowledged_at]
    if not ids:
        return 0
    with transaction.atomic():
        count = Job.objects.filter(
            pk__in=ids, status=Job.Status.FAILED, acknowledged_at__isnull=True
        ).update(acknowledged_at=queue._now())
        record_event(EventType.JOBS_ACKNOWLEDGED, actor=actor, detail={"jobs": sorted(ids)})
    return count
