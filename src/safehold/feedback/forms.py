"""The contact form, with its spam checks, and the staff inbox's forms.

Spam checks without a third-party captcha (no request leaves the site):

- a honeypot field (``website``), hidden from people by the stylesheet and from screen
  readers by ``aria-hidden``; a bot that fills every field fills it;
- a signed timestamp (``started``) written when the form is shown: a form sent back
  faster than ``SAFEHOLD_CONTACT_MIN_SECONDS`` was not typed by a person, and one older
  than ``SAFEHOLD_CONTACT_FORM_HOURS`` gets a fresh stamp and is asked for again;
- size limits, checked here (not by ``maxlength`` in the page, which would silently cut
  pasted text), so the person gets their whole text back with the error;
- the rate limits, in ``services`` (per IP and per address, in the shared cache).

Every refusal re-renders the form with what the person typed.
"""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from safehold.feedback.models import EMAIL_MAX, NAME_MAX, Category, Status

_SALT = "safehold.feedback.contact-form"


def _clock() -> float:
    """The time seam for tests."""
    return time.time()


def new_stamp() -> str:
    return signing.dumps(int(_clock()), salt=_SALT, compress=False)


class ContactForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What is it about?"),
        choices=Category.choices,
        initial=Category.COMMENT,
        help_text=_(
            "To download your data or delete your account you need not wait for us: "
            "your account has Download my data and Delete my account."
        ),
    )
    name = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=EMAIL_MAX,
        help_text=_(
            "We send the acknowledgement and our answer here, and use it for nothing else."
        ),
        error_messages={
            "required": _(
                "Please give an e-mail address, so that we can answer you. "
                "Without an account it is the only way we can reach you."
            ),
            "invalid": _("This does not look like an e-mail address: please check it."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    body = forms.CharField(
        label=_("Your message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        strip=True,
        error_messages={"required": _("Please write your message.")},
    )
    # The honeypot: people never see it (feedback.css), so only a bot fills it.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    #: The stamp to render when the posted one was unusable (expired or altered).
    fresh_stamp: str | None = None

    def __init__(self, *args: object, signed_in: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Form's own signature
        self.signed_in = signed_in
        if signed_in:  # answered at the account's primary address
            del self.fields["email"]
            del self.fields["name"]
        if not self.is_bound:
            self.initial["started"] = new_stamp()
        self.max_chars = settings.SAFEHOLD_CONTACT_MAX_CHARS
        self.fields["body"].help_text = ngettext(
            "At most %(count)d character.", "At most %(count)d characters.", self.max_chars
        ) % {"count": self.max_chars}

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if len(body) > self.max_chars:
            raise forms.ValidationError(
                _(
                    "Your message is %(length)d characters long; the limit is %(limit)d. "
                    "Please shorten it (it is all still here) or send it in parts."
                ),
                code="too_long",
                params={"length": len(body), "limit": self.max_chars},
            )
        return body

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(
                _("This field must stay empty. Clear it and send your message again."),
                code="honeypot",
            )
        return ""

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        self._check_stamp(str(self.data.get("started", "")))
        return cleaned

    def _check_stamp(self, stamp: str) -> None:
        try:
            started = float(signing.loads(stamp, salt=_SALT))
        except (signing.BadSignature, TypeError, ValueError):
            self._restamp()
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "We could not check when this form was opened. Your message is still "
                        "here: please send it again."
                    ),
                    code="stamp",
                ),
            )
            return
        age = _clock() - started
        if age > settings.SAFEHOLD_CONTACT_FORM_HOURS * 3600:
            self._restamp()
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "This form was opened a long time ago. Your message is still here: "
                        "check it and send it again."
                    ),
                    code="expired",
                ),
            )
        elif age < settings.SAFEHOLD_CONTACT_MIN_SECONDS:
            self.add_error(
                None,
                forms.ValidationError(
                    _(
                        "That was sent faster than a person can type, so we took it for a "
                        "robot. Your message is still here: wait a few seconds and send it "
                        "again."
                    ),
                    code="too_fast",
                ),
            )

    def _restamp(self) -> None:
        self.fresh_stamp = new_stamp()
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict when bound
        data["started"] = self.fresh_stamp
        self.data = data


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("Not closed")), ("", _("All")), *Status.choices],
    )
    older_than = forms.TypedChoiceField(
        label=_("Open for"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", _("Any time")),
            ("1", _("More than a day")),
            ("3", _("More than 3 days")),
            ("7", _("More than a week")),
            ("30", _("More than a month")),
        ],
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Sent by e-mail; an account holder also sees it in their account."),
        error_messages={"required": _("Write the reply first.")},
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by staff only: never shown or sent to the person."),
        error_messages={"required": _("Write the note first.")},
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label=_("Assigned to"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: object, choices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Form's own signature
        self.fields["assignee"].choices = [("", _("Nobody")), *choices]  # type: ignore[attr-defined]  # a ChoiceField
