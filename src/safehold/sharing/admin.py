"""Staff screens: the registry of recipients (and their purposes), and a read-only list
of disclosures (without the sealed justification). Legal requests have their own
pages under /staff/sharing/legal/ (the two-person rule needs more than a change form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from safehold.core.admin import ReadOnlyAdmin
from safehold.sharing import services
from safehold.sharing.models import Category, Disclosure, LegalRequest, Recipient, SharingPurpose


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
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ("released_at", "recipient_name", "basis", "categories", "user")
    list_filter = ("basis",)
    fields = ("released_at", "recipient_name", "basis", "categories", "user", "legal_request")
    readonly_fields = fields


@admin.register(LegalRequest)
class LegalRequestAdmin(ReadOnlyAdmin):
    """A read-only index that leads to the legal request pages (where the work is done)."""

    list_display = ("pk", "requested_at", "authority_type", "status", "open_link")
    list_filter = ("status", "authority_type")
    fields = ("open_link",)
    readonly_fields = ("open_link",)

    @admin.display(description=_("Open"))
    def open_link(self, obj: LegalRequest) -> str:
        url = reverse("sharing_legal_detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open the legal request"))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra_context = (extra_context or {}) | {"title": _("Legal requests")}
        return super().changelist_view(request, extra_context)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return services.is_legal_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return services.is_legal_staff(request.user)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        return redirect("sharing_legal_new")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        return redirect("sharing_legal_detail", pk=int(object_id))
