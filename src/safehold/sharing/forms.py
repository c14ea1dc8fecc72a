"""Forms of the account centre's sharing page and of the staff's legal requests."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from safehold.sharing.models import Category, LegalRequest


class ConsentForm(forms.Form):
    purpose = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("grant", "grant"), ("withdraw", "withdraw")])


class LegalRequestForm(forms.Form):
    person = forms.CharField(label=_("Whose data (user name or e-mail address)"), max_length=254)
    authority_name = forms.CharField(label=_("Requesting authority"), max_length=200)
    authority_type = forms.ChoiceField(
        label=_("Type of authority"), choices=LegalRequest.AuthorityType.choices
    )
    instrument = forms.CharField(
        label=_("Legal instrument"),
        max_length=200,
        help_text=_("For example: court order, warrant, production order, statutory notice."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=200)
    categories = forms.MultipleChoiceField(
        label=_("Categories requested"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    period_start = forms.DateField(
        label=_("Period from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    document = forms.FileField(
        label=_("The request's document"),
        help_text=_("Stored encrypted. PDF or image of the order, warrant or notice."),
    )
    order_review_date = forms.DateField(
        label=_("Non-disclosure order: review date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Only if the request comes with an order forbidding to tell the person. "
            "Leave empty otherwise: the person is told by e-mail when their data is released."
        ),
    )

    def clean_document(self) -> Any:
        document = self.cleaned_data["document"]
        if document.size > settings.SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES:
            limit = settings.SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(
                _("The document is larger than %(limit)d MiB."), params={"limit": limit}
            )
        if document.size == 0:
            raise forms.ValidationError(_("The document is empty."))
        return document

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class OrderForm(forms.Form):
    review_date = forms.DateField(
        label=_("New review date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
