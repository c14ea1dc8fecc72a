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
    its own file, and pruning keeps what the rule keeps.

    A brand-new installation is backed up ``SAFEHOLD_BACKUP_FIRST_DELAY_MINUTES`` after
    it was set up (not at the worker's first start, when there is nothing to keep yet):
    until then the run puts itself off to that time.
    """
    from safehold.jobs.queue import enqueue
    from safehold.ops import checks, services
    from safehold.ops.models import Backup

    delay = timedelta(minutes=int(settings.SAFEHOLD_BACKUP_FIRST_DELAY_MINUTES))
    installed = checks._installed_at()
    if (
        delay
        and installed is not None
        and services._now() - installed < delay
        and not Backup.objects.exists()
    ):
        enqueue(BACKUP_TASK, {}, run_at=installed + delay, dedupe_key="ops.backup:first")
        return
    services.scheduled_backup()


def schedule() -> None:
    hours = int(settings.SAFEHOLD_BACKUP_EVERY_HOURS)
    if hours > 0:
        periodic(BACKUP_TASK, every=timedelta(hours=hours))
