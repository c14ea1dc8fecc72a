"""The jobs app's own tasks: the daily retention purge, and its built-in rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from safehold.audit.services import Actor
from safehold.jobs import purges, services
from safehold.jobs.queue import periodic, task
from safehold.jobs.retention import retention_rule

RETENTION_TASK = "jobs.retention"


@task(RETENTION_TASK, max_attempts=3, lease=timedelta(hours=1))
def run_retention(payload: dict[str, Any]) -> None:
    """Purge everything past its retention limit; one audit event per rule."""
    services.run_retention(actor=Actor.system())


periodic(RETENTION_TASK, every=timedelta(days=1))

retention_rule(
    "finished-jobs",
    description="Finished background jobs (done, or failed and seen by staff)",
    setting="SAFEHOLD_RETAIN_FINISHED_JOBS_DAYS",
    default_days=30,
    purge=purges.purge_finished_jobs,
    count=lambda cutoff: purges.finished_jobs(cutoff).count(),
)
retention_rule(
    "api-idempotency",
    description="API idempotency records, counted from the end of their replay window",
    setting="SAFEHOLD_RETAIN_API_IDEMPOTENCY_DAYS",
    default_days=0,
    purge=purges.purge_expired_idempotency_records,
    count=lambda cutoff: purges.expired_idempotency_records(cutoff).count(),
)
