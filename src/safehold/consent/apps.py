from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "safehold.consent"
    label = "consent"
    verbose_name = _("Cookies and consent")

    def ready(self) -> None:
        from django.conf import settings

        from safehold.consent import checks, services, signals  # noqa: F401  # connects the receivers
        from safehold.core import promises, registry
        from safehold.jobs.retention import retention_rule

        registry.footer_link("consent_settings", _("Cookie settings"), order=10)
        registry.account_link("consent_history", _("Cookie choices"), order=30)
        registry.centre_section(
            "consent", "consent/_centre_section.html", checks.centre_context, order=30
        )
        registry.exporter(
            "consent",
            "Your cookie choices: when, what you allowed, how, and under which texts.",
            services.export_rows,
            schema=services.ROW_SCHEMA,
        )
        registry.eraser("consent", services.erase_person)
        retention_rule(
            "consent-records",
            description="Proof-of-consent records (cookie choices)",
            setting="SAFEHOLD_RETAIN_CONSENT_RECORDS_DAYS",
            default_days=settings.SAFEHOLD_RETAIN_CONSENT_RECORDS_DAYS,
            purge=services.purge_records,
        )
        promises.register(
            "cookie-choice",
            clause="cookies",
            title=_("Visitors can accept or reject cookies, and each choice is kept as proof"),
            check=checks.check_categories,
        )
        promises.register(
            "cookie-reject-as-easy",
            clause="cookies",
            title=_("Rejecting cookies is as easy as accepting them, and honours GPC"),
            check=checks.check_banner,
        )
