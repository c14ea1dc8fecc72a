"""The promise map's live checks for operations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from safehold.core.promises import Result, Status

#: A backup may be this much later than its schedule before the promise is broken.
GRACE = timedelta(hours=6)
#: A new installation has this long to make its first backup.
FIRST_BACKUP_DUE = timedelta(days=1)


def _installed_at() -> datetime | None:
    from django.db.migrations.recorder import MigrationRecorder

    first = MigrationRecorder.Migration.objects.order_by("applied").first()
    return first.applied if first else None


def check_backups() -> Result:
    """HOLDS while the newest verified backup is younger than the schedule (daily by
    default) plus a grace period. BROKEN when it is older, when the newest backup
    failed verification, or when there is none and the installation is over a day old.
    NOT_CHECKED only during an installation's first day, before its first backup."""
    from safehold.ops.models import Backup
    from safehold.ops.services import _now, last_verified_backup

    now = _now()
    hours = int(settings.SAFEHOLD_BACKUP_EVERY_HOURS) or 24
    allowed = timedelta(hours=hours) + GRACE
    latest = Backup.objects.order_by("-created_at").first()
    if latest is not None and latest.verified_ok is False:
        return Result(
            Status.BROKEN,
            _("The latest backup (%(when)s) failed verification.")
            % {"when": latest.created_at.strftime("%Y-%m-%d %H:%M UTC")},
        )
    verified = last_verified_backup()
    if verified is None:
        installed = _installed_at()
        if installed is not None and now - installed < FIRST_BACKUP_DUE:
            return Result(
                Status.NOT_CHECKED,
                _("No backup yet: the first is due by %(when)s.")
                % {"when": (installed + FIRST_BACKUP_DUE).strftime("%Y-%m-%d %H:%M UTC")},
            )
        return Result(Status.BROKEN, _("No verified backup has been made."))
    when = verified.created_at.strftime("%Y-%m-%d %H:%M UTC")
    if now - verified.created_at > allowed:
        return Result(
            Status.BROKEN,
            _("The last verified backup was made %(when)s, more than %(hours)d hours ago.")
            % {"when": when, "hours": int(allowed.total_seconds() // 3600)},
        )
    return Result(Status.HOLDS, _("The last verified backup was made %(when)s.") % {"when": when})


def _now() -> datetime:
    """The time seam for tests."""
    from django.utils import timezone

    return timezone.now()


def check_incidents() -> Result:
    """HOLDS while no breach incident has passed its deadline to notify the authority
    without the notification recorded. BROKEN for each one that has (the statement
    admits no security is perfect; the promise is that a breach is answered in time)."""
    from safehold.ops.models import Incident

    late = Incident.objects.filter(
        authority_notified_at__isnull=True, notify_authority_by__lt=_now()
    ).count()
    if late:
        return Result(
            Status.BROKEN,
            _(
                "%(count)d breach incidents are past their deadline to notify the authority "
                "without a notification recorded."
            )
            % {"count": late},
        )
    total = Incident.objects.count()
    return Result(
        Status.HOLDS,
        _("%(count)d breach incidents recorded; none is past its deadline to notify the authority.")
        % {"count": total},
    )
