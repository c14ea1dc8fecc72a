"""Backups, restore, crash safety, incidents, maintenance mode (issue 10)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "safehold.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from safehold.core import promises
        from safehold.ops import checks, ledger, tasks
        from safehold.vault import signals as vault_signals

        # Every shredded key goes into the erasure ledger, which outlives any restore.
        vault_signals.data_key_shredded.connect(ledger.on_key_shredded, dispatch_uid="ops.ledger")
        tasks.schedule()
        promises.register(
            "backups-verified",
            clause="security",
            title=_("The last backup is recent and verified"),
            check=checks.check_backups,
        )
        promises.register(
            "breach-answered-in-time",
            clause="no-perfect-security",
            title=_("A breach is reported to the authority before its deadline"),
            check=checks.check_incidents,
        )
