"""The audit log's promise check (registered by the policy app, which owns the promise map)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from safehold.core.promises import Result, Status


def check_audit_log_verifies() -> Result:
    """The whole log recomputed against every signed checkpoint (``safehold audit verify``)."""
    from safehold.audit.verify import verify_log

    report = verify_log()
    if not report.ok:
        return Result(Status.BROKEN, report.problems[0])
    return Result(
        Status.HOLDS,
        _("%(events)d events verified against %(checkpoints)d signed checkpoints.")
        % {"events": report.events, "checkpoints": report.checkpoints},
    )
