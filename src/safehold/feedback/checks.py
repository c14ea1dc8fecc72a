"""The promise map's checks for the clause "contact": "please contact us"."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safehold.core.promises import Result, Status

_SENDING_BACKENDS = {"django.core.mail.backends.smtp.EmailBackend"}
_DEAD_BACKENDS = {
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}


def check_channel_open() -> Result:
    """HOLDS if the contact form's page resolves, someone can read the inbox, and mail is
    sent by SMTP.

    BROKEN if the page is gone, no active staff member can read the inbox, or mail goes
    nowhere; NOT_CHECKED if mail is written to
    files or the console (a development set-up: we cannot tell whether it is delivered).
    """
    try:
        reverse("feedback_contact")
        reverse("feedback_inbox")
    except NoReverseMatch:
        return Result(Status.BROKEN, _("The contact form's page is not served."))
    from safehold.feedback.services import staff_who_can_answer

    if not staff_who_can_answer().exists():
        return Result(
            Status.BROKEN,
            _(
                "Nobody can read the contact inbox: give a staff member the "
                "feedback.view_inbox permission (or make one a superuser)."
            ),
        )
    backend = settings.EMAIL_BACKEND
    if backend in _DEAD_BACKENDS:
        return Result(
            Status.BROKEN, _("Mail is discarded: acknowledgements and replies reach nobody.")
        )
    if backend not in _SENDING_BACKENDS:
        return Result(
            Status.NOT_CHECKED,
            _(
                "The contact form is open, but mail is not sent by SMTP (SAFEHOLD_SMTP_HOST "
                "is not set): acknowledgements and replies are written to files."
            ),
        )
    return Result(
        Status.HOLDS, _("The contact form is open and mail is sent through an SMTP server.")
    )


def check_answered_in_time() -> Result:
    """BROKEN if an open message has waited longer than SAFEHOLD_CONTACT_ANSWER_DAYS
    for its first answer; HOLDS otherwise."""
    from safehold.feedback.services import overdue

    days = settings.SAFEHOLD_CONTACT_ANSWER_DAYS
    waiting = overdue()
    if waiting:
        return Result(
            Status.BROKEN,
            ngettext(
                "%(count)d message has waited more than %(days)d days for an answer.",
                "%(count)d messages have waited more than %(days)d days for an answer.",
                waiting,
            )
            % {"count": waiting, "days": days},
        )
    return Result(
        Status.HOLDS,
        _("Every message has been answered within %(days)d days, or is younger.") % {"days": days},
    )
