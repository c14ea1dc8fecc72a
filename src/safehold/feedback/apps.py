"""The contact form and the staff inbox (issue 6)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "safehold.feedback"
    label = "feedback"
    verbose_name = _("Contact")

    def ready(self) -> None:
        from safehold.core import promises, registry
        from safehold.feedback import checks, services, views
        from safehold.jobs.retention import retention_rule

        registry.footer_link("feedback_contact", _("Contact us"), order=50)
        registry.account_link("feedback_messages", _("Messages to us"), order=60)
        registry.centre_section(
            "feedback", "feedback/_centre_section.html", views.centre_context, order=60
        )
        registry.exporter(
            "contact_messages",
            "Messages sent through 'Contact us' (while signed in, or from one of the "
            "account's verified addresses), with the replies; staff's internal notes are "
            "not included.",
            services.export_rows,
            schema=services.EXPORT_SCHEMA,
        )
        registry.eraser("contact_messages", services.erase_messages_of)
        retention_rule(
            "contact-messages",
            description="Contact messages, once closed, with their replies and notes",
            setting="SAFEHOLD_RETAIN_CONTACT_DAYS",
            default_days=730,
            purge=services.purge_closed,
        )
        promises.register(
            "contact-open",
            clause="contact",
            title=_("You can contact us, and our answers reach you"),
            check=checks.check_channel_open,
        )
        promises.register(
            "contact-answered",
            clause="contact",
            title=_("No message waits too long for an answer"),
            check=checks.check_answered_in_time,
            order=110,
        )
