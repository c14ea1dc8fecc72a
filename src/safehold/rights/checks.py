"""The rights app's live promise checks (registered in ``RightsConfig.ready()``)."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safehold.accounts.models import User
from safehold.core.promises import Result, Status
from safehold.rights import services
from safehold.rights.models import Erasure, Export, Tombstone
from safehold.vault import keys

#: How late an erasure or an expiry may run before the promise is broken (the worker
#: sweeps hourly; a day means it has not run).
LATE = timedelta(days=1)


def check_erasures_done() -> Result:
    """Everyone whose grace period ended is erased: no erasure overdue, and every erased
    person's key shredded, e-mail addresses gone and account inactive."""
    now = timezone.now()
    overdue = Erasure.objects.filter(
        status__in=[Erasure.Status.PENDING, Erasure.Status.ERASING], erase_after__lt=now - LATE
    ).count()
    if overdue:
        return Result(
            Status.BROKEN,
            ngettext(
                "%(n)d erasure is more than a day overdue: is `safehold worker` running?",
                "%(n)d erasures are more than a day overdue: is `safehold worker` running?",
                overdue,
            )
            % {"n": overdue},
        )
    erased = list(Tombstone.objects.values_list("user_id", flat=True))
    left = 0
    for user in User.objects.filter(pk__in=erased).only("pk", "data_key", "is_active", "email"):
        if user.is_active or user.email or (user.data_key and not keys.is_shredded(user.data_key)):
            left += 1
    left += EmailAddress.objects.filter(user_id__in=erased).values("user_id").distinct().count()
    if left:
        return Result(Status.BROKEN, _("Some erased people still have readable data."))
    return Result(
        Status.HOLDS,
        ngettext(
            "%(n)d person erased, nothing readable left.",
            "%(n)d people erased, nothing readable left.",
            len(erased),
        )
        % {"n": len(erased)},
    )


def check_archives_expire() -> Result:
    """Archives of 'download my data' are kept no longer than their link, and sealed."""
    now = timezone.now()
    stale = Export.objects.filter(status=Export.Status.READY, expires_at__lt=now - LATE).count()
    if stale:
        return Result(
            Status.BROKEN, _("Expired archives are still kept: is `safehold worker` running?")
        )
    directory = services.export_dir()
    for export in Export.objects.filter(status=Export.Status.READY).only("archive_name"):
        path = directory / export.archive_name
        if path.exists():
            with path.open("rb") as archive:
                if archive.read(4) != b"SHX1":
                    return Result(Status.BROKEN, _("An archive is not sealed."))
    return Result(Status.HOLDS, _("Every archive is sealed and removed when its link expires."))
