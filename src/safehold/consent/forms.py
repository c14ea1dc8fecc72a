"""The choice a visitor makes on the banner or the settings page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from safehold.consent.services import Config


class ChoiceForm(forms.Form):
    """``choice``: ``all``, ``none`` or ``custom`` (the ticked ``allow`` categories)."""

    choice = forms.ChoiceField(
        choices=[("all", _("Accept all")), ("none", _("Reject all")), ("custom", _("Save"))]
    )
    allow = forms.MultipleChoiceField(required=False)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, config: Config, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        self.fields["allow"].choices = [  # type: ignore[attr-defined]  # a MultipleChoiceField
            (c.slug, c.name_en) for c in config.categories if not c.is_necessary
        ]

    def choices(self, *, gpc: bool) -> dict[str, bool]:
        """Every optional category's answer. "Accept all" under GPC leaves sale and
        sharing off: the signal is honoured unless the visitor ticks it themselves."""
        choice = self.cleaned_data["choice"]
        optional = [c for c in self.config.categories if not c.is_necessary]
        if choice == "all":
            return {c.slug: not (gpc and c.is_sale_or_sharing) for c in optional}
        if choice == "none":
            return {c.slug: False for c in optional}
        ticked = set(self.cleaned_data["allow"])
        return {c.slug: c.slug in ticked for c in optional}


class EnableForm(forms.Form):
    """Allow one more category (the offer next to a feature that needs it)."""

    category = forms.SlugField(max_length=40)
    next = forms.CharField(required=False, max_length=2000)
