"""The jobs app's own retention rules: finished jobs, and expired API idempotency records."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from safehold.jobs.models import Job

BATCH = 1000


def _delete_in_batches(qs: QuerySet) -> int:
    """Delete what ``qs`` selects, ``BATCH`` rows a statement (short write locks)."""
    total = 0
    while True:
        ids = list(qs.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        deleted, _ = qs.model._default_manager.filter(pk__in=ids).delete()
        total += deleted


def finished_jobs(cutoff: datetime) -> QuerySet[Job]:
    """Done jobs, and failed ones staff have acknowledged, finished before ``cutoff``.

    An unacknowledged failure is kept whatever its age: staff have not seen it yet.
    """
    return Job.objects.filter(finished_at__lt=cutoff).filter(
        Q(status=Job.Status.DONE) | Q(status=Job.Status.FAILED, acknowledged_at__isnull=False)
    )


def purge_finished_jobs(cutoff: datetime) -> int:
    return _delete_in_batches(finished_jobs(cutoff))


def expired_idempotency_records(cutoff: datetime) -> QuerySet:
    """API idempotency records whose replay window ended before ``cutoff``."""
    from safehold.api.models import IdempotencyRecord

    return IdempotencyRecord.objects.filter(expires_at__lt=cutoff)


def purge_expired_idempotency_records(cutoff: datetime) -> int:
    return _delete_in_batches(expired_idempotency_records(cutoff))
