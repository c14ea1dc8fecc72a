from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "safehold.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from safehold.audit import receivers  # noqa: F401  # connects the receivers

        post_migrate.connect(
            _reinstall_triggers, sender=self, dispatch_uid="safehold.audit.triggers"
        )


def _reinstall_triggers(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """After every migrate, make sure the append-only triggers are there: on SQLite a
    migration that alters an audit table rebuilds it, and the rebuilt table has none."""
    from django.db import connections

    from safehold.audit import triggers

    triggers.install(connections[using])
