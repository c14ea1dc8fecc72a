from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    name = "safehold.activity"
    label = "activity"
    verbose_name = _("Activity")

    def ready(self) -> None:
        from safehold.activity import services
        from safehold.core import registry

        registry.exporter(
            "access_records",
            "Sign-ins, failed sign-ins and visits to account pages, with browser, "
            "operating system, IP address and approximate place.",
            services.export_access_records,
            schema=services.ACCESS_RECORD_SCHEMA,
            order=40,
        )
        registry.eraser("access_records", services.erase_access_records, order=40)
