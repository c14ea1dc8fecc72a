from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _install_default_statement(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """After migrate (first start, ``safehold init``, each test database): version 1."""
    from django.db import connections

    from safehold.policy import services, triggers

    if using != "default":
        return
    triggers.install(connections[using])
    services.install_default_statement()


def _account_context(request: Any) -> dict[str, Any]:
    from safehold.policy import services

    user = request.user
    return {
        "current": services.current_version(),
        "last_ack": services.last_acknowledged(user),
        "pending": services.pending_acknowledgement(user),
        "notices": services.wants_notices(user),
    }


class PolicyConfig(AppConfig):
    name = "safehold.policy"
    label = "policy"
    verbose_name = _("Privacy statement")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from safehold.accounts.checks import check_password_protection, check_passwords_argon2id
        from safehold.audit.checks import check_audit_log_verifies
        from safehold.core import promises, registry
        from safehold.policy import checks, services, tasks  # noqa: F401  # registers the tasks
        from safehold.vault.checks import check_no_plaintext

        post_migrate.connect(
            _install_default_statement, sender=self, dispatch_uid="policy-default-statement"
        )
        registry.footer_link("policy_statement", _("Privacy statement"), order=10)
        registry.footer_link("policy_promises", _("Our promises, checked"), order=11)
        registry.account_link("policy_account", _("Privacy statement"), order=60)
        registry.centre_section("policy", "policy/_centre_section.html", _account_context, order=60)
        registry.exporter(
            "privacy_statement",
            "Your acknowledgements of the privacy statement's versions, and whether you "
            "asked to be e-mailed about new versions.",
            services.export_rows,
            schema=services.EXPORT_SCHEMA,
        )
        registry.eraser("privacy_statement", services.erase)

        promises.register(
            "passwords-argon2id",
            clause="passwords",
            title=_("Passwords are stored only as argon2id hashes"),
            check=check_passwords_argon2id,
        )
        promises.register(
            "password-protection",
            clause="your-password",
            title=_("Weak passwords are refused and a second factor is offered"),
            check=check_password_protection,
        )
        promises.register(
            "no-plaintext",
            clause="security",
            title=_("No personal field is stored in plain text"),
            check=check_no_plaintext,
            order=10,
        )
        promises.register(
            "audit-log-verifies",
            clause="security",
            title=_("The audit log of every access is intact and signed"),
            check=check_audit_log_verifies,
            order=20,
        )
        promises.register(
            "no-third-party-host",
            clause="own-server",
            title=_("No page loads anything from another host"),
            check=checks.check_no_third_party_host,
        )
        promises.register(
            "statement-published",
            clause="updates",
            title=_("The statement in force is published, with its history"),
            check=checks.check_statement_published,
            order=10,
        )
        promises.register(
            "statement-updates-acknowledged",
            clause="updates",
            title=_("People are asked to acknowledge material changes"),
            check=checks.check_updates_acknowledged,
            order=20,
        )
