"""Staff screens: the registry of recipients (and their purposes), and a read-only list
of disclosures (without the sealed justification). Legal requests have their own
pages under /staff/sharing/legal/ (the two-person rule needs more than a change form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from safehold.sharing.models import Category, Disclosure, Recipient, SharingPurpose


class RecipientForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("Categories it may receive"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Recipient
        fields = ("slug", "name", "country", "contact", "basis", "categories", "is_active")

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError(_("Use the two-letter ISO 3166-1 code, for example CN."))
        return country


class PurposeInline(admin.TabularInline):
    model = SharingPurpose
    extra = 1
    fields = ("code", "description")


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    form = RecipientForm
    inlines = (PurposeInline,)
    list_display = ("name", "slug", "country", "basis", "is_active")
    list_filter = ("basis", "is_active")
    search_fields = ("name", "slug")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A recipient that received data stays in the registry (deactivate it instead).
        if obj is not None and obj.disclosures.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    list_display = ("released_at", "recipient_name", "basis", "categories", "user")
    list_filter = ("basis",)
    fields = ("released_at", "recipient_name", "basis", "categories", "user", "legal_request")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
