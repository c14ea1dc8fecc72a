from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CompareForm(forms.Form):
    """Pick two published versions to compare."""

    old = forms.TypedChoiceField(label=_("From version"), coerce=int)
    new = forms.TypedChoiceField(label=_("To version"), coerce=int)

    def __init__(self, *args: Any, numbers: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(n, _("Version %(number)d") % {"number": n}) for n in numbers]
        self.fields["old"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField
        self.fields["new"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("old") is not None and data.get("old") == data.get("new"):
            raise forms.ValidationError(_("Choose two different versions."))
        return data


class AcknowledgeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NoticeForm(forms.Form):
    email_on_new_version = forms.BooleanField(
        label=_("E-mail me when a new version of the privacy statement takes effect"),
        required=False,
    )


class PublishForm(forms.Form):
    effective_at = forms.DateTimeField(
        label=_("Effective from"),
        required=False,
        help_text=_("Leave empty, or give a time in the past, to put it in force now (UTC)."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    )
