"""Forms of the activity pages. Card fields are never rendered back into a page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from safehold.activity import services
from safehold.activity.models import AccessRecord
from safehold.activity.payments import Card


class NoEchoInput(forms.TextInput):
    """A text input that never renders its value: card data typed is not sent back."""

    def format_value(self, value: Any) -> str | None:
        return None


class ActivityFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *AccessRecord.Kind.choices],
    )
    result = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("All results")), *AccessRecord.Result.choices],
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(
                _("The start date must be on or before the end date."), code="date_order"
            )
        return data

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """The date range as UTC instants: from the start of ``since`` to the end of ``until``."""
        data = self.cleaned_data
        since = data.get("since")
        until = data.get("until")
        utc = datetime.UTC
        return (
            datetime.datetime.combine(since, datetime.time.min, utc) if since else None,
            (
                datetime.datetime.combine(
                    until + datetime.timedelta(days=1), datetime.time.min, utc
                )
                if until
                else None
            ),
        )


_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class PaymentForm(forms.Form):
    """Amount, currency and card. ``card()`` gives the card for the processor.

    The card number, expiry and security code are checked here only for shape
    (digits, length, a month); the processor checks the rest. None of them is
    ever rendered back into the page.
    """

    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label=_("Currency"))
    card_number = forms.CharField(
        label=_("Card number"),
        max_length=30,
        widget=NoEchoInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry (MM/YY)"),
        max_length=7,
        widget=NoEchoInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        max_length=4,
        help_text=_("The 3 digits on the back of the card (4 on the front for American Express)."),
        widget=NoEchoInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)  # noqa: S101  # declared above
        currency.choices = [(c, c) for c in services.currencies()]

    @sensitive_variables("number")
    def clean_card_number(self) -> str:
        number = re.sub(r"[\s-]", "", self.cleaned_data["card_number"])
        if not number.isdigit() or not 12 <= len(number) <= 19:
            raise forms.ValidationError(
                _("Enter the card number: 12 to 19 digits."), code="card_number"
            )
        return number

    @sensitive_variables("match")
    def clean_expiry(self) -> tuple[int, int]:
        match = _EXPIRY.match(self.cleaned_data["expiry"])
        if not match or not 1 <= int(match.group(1)) <= 12:
            raise forms.ValidationError(
                _("Enter the expiry date as MM/YY, for example 04/29."), code="expiry"
            )
        year = int(match.group(2))
        return int(match.group(1)), year + 2000 if year < 100 else year

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"].strip()
        if not cvc.isdigit() or len(cvc) not in (3, 4):
            raise forms.ValidationError(_("Enter the 3 or 4 digit security code."), code="cvc")
        return cvc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount, currency = data.get("amount"), data.get("currency")
        limit = Decimal(settings.SAFEHOLD_PAYMENT_MAX_AMOUNT)
        if amount is not None and amount > limit:
            self.add_error(
                "amount",
                forms.ValidationError(
                    _("The most you can pay at once is %(limit)s.") % {"limit": limit},
                    code="too_much",
                ),
            )
        elif amount is not None and currency:
            try:
                services.minor_units(amount, currency)
            except ValueError:
                self.add_error(
                    "amount",
                    forms.ValidationError(
                        _("%(currency)s amounts have no decimal places.") % {"currency": currency},
                        code="decimals",
                    ),
                )
        return data

    @sensitive_variables("data")
    def card(self) -> Card:
        data = self.cleaned_data
        month, year = data["expiry"]
        return Card(number=data["card_number"], exp_month=month, exp_year=year, cvc=data["cvc"])


class RenameDeviceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, required=False, strip=True)
