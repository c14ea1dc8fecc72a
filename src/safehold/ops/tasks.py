"""Background tasks: the scheduled backup (verify, then prune by the retention rule)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from safehold.jobs.queue import periodic, task

BACKUP_TASK = "ops.backup"


@task(BACKUP_TASK, max_attempts=3, lease=timedelta(hours=2))
def run_scheduled_backup(payload: dict[str, Any]) -> None:
    """Back up, verify the new file, prune old ones. Safe to run twice: each run makes
    its own file, and pruning keeps what the rule keeps."""
    from safehold.ops import services

    services.scheduled_backup()


def schedule() -> None:
    hours = int(settings.SAFEHOLD_BACKUP_EVERY_HOURS)
    if hours > 0:
        periodic(BACKUP_TASK, every=timedelta(hours=hours))
