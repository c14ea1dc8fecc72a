from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    name = "safehold.activity"
    label = "activity"
    verbose_name = _("Activity")

    def ready(self) -> None:
        from safehold.activity import (  # noqa: F401  # receivers connect on import
            checks,
            receivers,
            services,
            views,
        )
        from safehold.core import promises, registry
        from safehold.jobs.retention import retention_rule

        registry.account_link("activity_records", _("Activity"), order=40)
        registry.account_link("activity_devices", _("Devices"), order=41)
        registry.account_link("activity_payments", _("Payments"), order=42)

        registry.centre_section(
            "activity", "activity/_centre_section.html", views.centre_context, order=40
        )

        registry.exporter(
            "access_records",
            "Sign-ins, failed sign-ins and visits to account pages, with browser, "
            "operating system, IP address and approximate place.",
            services.export_access_records,
            schema=services.ACCESS_RECORD_SCHEMA,
            order=40,
        )
        registry.exporter(
            "devices",
            "Browsers the person signed in from: name, browser, operating system, "
            "last IP address, approximate place, first and last seen.",
            services.export_devices,
            schema=services.DEVICE_SCHEMA,
            order=41,
        )
        registry.exporter(
            "payments",
            "Payments: time, amount, currency, status, the processor's token and the "
            "card's brand and last four digits (never the card number).",
            services.export_payments,
            schema=services.PAYMENT_SCHEMA,
            order=42,
        )
        registry.eraser("access_records", services.erase_access_records, order=40)
        registry.eraser("devices", services.erase_devices, order=41)
        registry.eraser("payments", services.erase_payments, order=42)

        retention_rule(
            "access-records",
            description="Access records (sign-ins, failed sign-ins, visits to account pages)",
            setting="SAFEHOLD_RETAIN_ACCESS_RECORDS_DAYS",
            default_days=180,
            purge=services.purge_access_records,
            count=services.count_access_records,
        )
        retention_rule(
            "device-ips",
            description="IP addresses of devices (the device itself is kept)",
            setting="SAFEHOLD_RETAIN_DEVICE_IPS_DAYS",
            default_days=90,
            purge=services.purge_device_ips,
            count=services.count_device_ips,
        )

        promises.register(
            "payments-no-card-number",
            clause="transactions",
            title=_("No card number is stored: only a token, the brand and last four digits"),
            check=checks.check_no_card_number,
        )
        promises.register(
            "device-data-encrypted",
            clause="devices",
            title=_("Device data (IP address, browser, operating system) is stored encrypted"),
            check=checks.check_device_data_encrypted,
        )
