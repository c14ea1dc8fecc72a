"""The promise check "background jobs are running"."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safehold.core.promises import Result, Status
from safehold.jobs import queue
from safehold.jobs.models import Job, PeriodicSchedule


def check_jobs_running() -> Result:
    """HOLDS when no job or periodic task is overdue by more than
    ``SAFEHOLD_JOBS_OVERDUE_MINUTES`` and no failed job awaits staff.

    Overdue: a queued job, a leased job whose lease ran out, or a periodic task not
    enqueued that long after its time (a worker would have taken each). Awaiting
    staff: failed and neither retried nor acknowledged in the admin. NOT_CHECKED
    when no worker has ever run here (no periodic task was ever scheduled) and
    nothing is waiting: there is nothing to tell from yet.
    """
    now = queue._now()
    minutes = settings.SAFEHOLD_JOBS_OVERDUE_MINUTES
    late = now - timedelta(minutes=minutes)
    problems = []
    overdue = (
        Job.objects.filter(status=Job.Status.QUEUED, run_at__lt=late).count()
        + Job.objects.filter(status=Job.Status.RUNNING, locked_until__lt=late).count()
    )
    if overdue:
        problems.append(
            ngettext(
                "%(count)d job has waited more than %(minutes)d minutes: is `safehold worker` "
                "running?",
                "%(count)d jobs have waited more than %(minutes)d minutes: is `safehold "
                "worker` running?",
                overdue,
            )
            % {"count": overdue, "minutes": minutes}
        )
    late_periodic = PeriodicSchedule.objects.filter(
        name__in=list(queue.periodic_tasks()), next_run_at__lt=late
    ).count()
    if late_periodic and not overdue:
        problems.append(
            ngettext(
                "%(count)d periodic task is more than %(minutes)d minutes late: is `safehold "
                "worker` running?",
                "%(count)d periodic tasks are more than %(minutes)d minutes late: is "
                "`safehold worker` running?",
                late_periodic,
            )
            % {"count": late_periodic, "minutes": minutes}
        )
    failed = Job.objects.filter(status=Job.Status.FAILED, acknowledged_at__isnull=True).count()
    if failed:
        problems.append(
            ngettext(
                "%(count)d failed job awaits staff (retry or acknowledge it in the admin).",
                "%(count)d failed jobs await staff (retry or acknowledge them in the admin).",
                failed,
            )
            % {"count": failed}
        )
    if problems:
        return Result(Status.BROKEN, " ".join(problems))
    if not PeriodicSchedule.objects.exists():
        return Result(
            Status.NOT_CHECKED,
            _("No worker has run on this installation yet (start `safehold worker`)."),
        )
    return Result(
        Status.HOLDS,
        _("No job is more than %(minutes)d minutes late and no failed job awaits staff.")
        % {"minutes": minutes},
    )
