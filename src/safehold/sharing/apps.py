from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "safehold.sharing"
    label = "sharing"
    verbose_name = _("Sharing")

    def ready(self) -> None:
        from safehold.core import promises, registry
        from safehold.sharing import checks, services, tasks, views  # noqa: F401  # tasks registers

        registry.account_link("sharing_account", _("Sharing your data"), order=40)
        registry.footer_link("sharing_transparency", _("Transparency report"), order=60)
        registry.centre_section(
            "sharing", "sharing/_centre_section.html", views.centre_context, order=40
        )
        registry.exporter(
            "sharing",
            "Your consents to share with third parties (with their history) and every "
            "disclosure of your data: to whom, what, when and on which basis.",
            services.export_rows,
            schema={
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["consent", "disclosure"]},
                    "recipient": {"type": "string"},
                    "purpose": {"type": "string"},
                    "action": {"enum": ["granted", "withdrawn"]},
                    "at": {"type": "string", "format": "date-time"},
                    "categories": {"type": "array", "items": {"type": "string"}},
                    "basis": {"type": "string"},
                    "released_at": {"type": "string", "format": "date-time"},
                },
            },
        )
        registry.eraser("sharing", services.erase_person)
        promises.register(
            "sharing-has-basis",
            clause="sharing",
            title=_("Every disclosure has the person's consent or a recorded legal basis"),
            check=checks.check_disclosures_have_a_basis,
        )
