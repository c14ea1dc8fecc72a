from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "safehold.rights"
    label = "rights"
    verbose_name = _("Your data")

    def ready(self) -> None:
        from safehold.core import promises, registry
        from safehold.jobs.retention import retention_rule
        from safehold.rights import checks, profile, services, signals, tasks  # noqa: F401  # registers

        registry.account_link("rights_data", _("Download my data"), order=80)
        registry.account_link("rights_delete", _("Delete my account"), order=90)
        registry.exporter(
            "profile",
            "Your account: user name, name, primary e-mail, mailing address, phone.",
            profile.export_profile,
            schema=profile.PROFILE_SCHEMA,
            order=10,
        )
        registry.exporter(
            "email_addresses",
            "Your e-mail addresses and whether each is verified.",
            profile.export_email_addresses,
            schema=profile.EMAIL_SCHEMA,
            order=11,
        )
        registry.exporter(
            "signed_in_sessions",
            "The browsers signed in to your account: browser, system, IP address, place.",
            profile.export_sessions,
            schema=profile.SESSION_SCHEMA,
            order=12,
        )
        registry.exporter(
            "two_factor",
            "Your second factors for signing in (which kinds, never their secrets).",
            profile.export_two_factor,
            schema=profile.TWO_FACTOR_SCHEMA,
            order=13,
        )
        registry.exporter(
            "audit_events",
            "The audit log's events about you: what was done with your data, by whom, why.",
            profile.export_audit_events,
            schema=profile.AUDIT_SCHEMA,
            order=1000,
        )
        registry.eraser("exports", services.erase_exports, order=900)
        registry.eraser("signed_in_sessions", profile.erase_sessions, order=910)
        registry.eraser("two_factor", profile.erase_two_factor, order=920)
        registry.eraser("email_addresses", profile.erase_email_addresses, order=930)
        retention_rule(
            "unverified-sign-ups",
            description="Accounts whose e-mail address was never verified",
            setting="SAFEHOLD_RETAIN_UNVERIFIED_SIGNUPS_DAYS",
            default_days=7,
            purge=services.purge_unverified_signups,
        )
        promises.register(
            "erasure-done",
            clause="collection",
            title=_("People who delete their account are erased when the grace period ends"),
            check=checks.check_erasures_done,
        )
        promises.register(
            "export-archives-expire",
            clause="collection",
            title=_("Archives of 'download my data' are sealed and deleted when the link expires"),
            check=checks.check_archives_expire,
        )
