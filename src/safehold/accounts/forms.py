from __future__ import annotations

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from safehold.accounts.models import ADDRESS_MAX, HINT_MAX, NAME_MAX


def normalise_phone(raw: str, region: str | None) -> str:
    """Return ``raw`` as an E.164 number, or raise ``forms.ValidationError``."""
    raw = raw.strip()
    if not raw:
        return ""
    if len(raw) > 40:
        raise forms.ValidationError(_("This phone number is too long."), code="phone_too_long")
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException:
        if region is None and not raw.startswith("+"):
            raise forms.ValidationError(
                _("Enter the number in international form, starting with + and the country code."),
                code="phone_needs_country",
            ) from None
        raise forms.ValidationError(
            _("Enter a valid phone number."), code="phone_invalid"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(_("Enter a valid phone number."), code="phone_invalid")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def display_phone(e164: str) -> str:
    """An E.164 number in the international form a person reads."""
    if not e164:
        return ""
    try:
        return str(
            phonenumbers.format_number(
                phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        )
    except phonenumbers.NumberParseException:
        return e164


class ProfileForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    mailing_address = forms.CharField(
        label=_("Mailing address"),
        max_length=ADDRESS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("With the country code, for example +86 138 0013 8000."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_mailing_address(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["mailing_address"].splitlines()]
        return "\n".join(line for line in lines if line)

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"], settings.SAFEHOLD_PHONE_REGION)


class PasswordHintForm(forms.Form):
    hint = forms.CharField(
        label=_("Password hint"),
        max_length=HINT_MAX,
        required=False,
        help_text=_(
            "Something that reminds you of your password without giving it away. "
            "Leave empty to remove your hint. It is never shown on a page: we only "
            "e-mail it to your verified primary address when you ask."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class HintRequestForm(forms.Form):
    login = forms.CharField(
        label=_("User name or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )


class SignOutSessionForm(forms.Form):
    """Sign out one other session (``session``), or all others when it is empty."""

    session = forms.IntegerField(required=False, min_value=1)
