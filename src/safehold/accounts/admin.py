"""Staff screens. Personal fields are shown masked; revealing one is a separate,
deliberate action with a stated purpose (``reveal`` below). The password hint is
absent altogether: it is never shown on any page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from safehold.accounts import services
from safehold.accounts.forms import display_phone, normalise_phone
from safehold.accounts.geo import place_name
from safehold.accounts.models import SignedInSession, User
from safehold.audit.events import Purpose
from safehold.vault.masking import mask_email, mask_ip, mask_phone, mask_text

REVEALABLE = {
    "name": _("Name"),
    "email": _("E-mail"),
    "mailing_address": _("Mailing address"),
    "phone": _("Phone"),
}


class RevealForm(forms.Form):
    PURPOSES = [
        (Purpose.SUPPORT.value, _("Support request from this person")),
        (Purpose.LEGAL.value, _("Legal request")),
        (Purpose.SECURITY.value, _("Security investigation")),
        (Purpose.OTHER.value, _("Other (explain below)")),
    ]
    purpose = forms.ChoiceField(label=_("Purpose"), choices=PURPOSES)
    explanation = forms.CharField(
        label=_("Explanation"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose") == "other" and not (data.get("explanation") or "").strip():
            self.add_error("explanation", _("Say why you need to see this."))
        return data


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal info (masked)"),
            {"fields": ("masked_name", "masked_email", "masked_address", "masked_phone")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("masked_name", "masked_email", "masked_address", "masked_phone")
    list_display = ("username", "masked_email", "masked_name", "is_staff", "is_active")
    # E-mail is a sign-in identifier, kept in plain text, but found only by the whole
    # address (no guessing a masked one letter by letter); a phone number is found
    # through its blind index (see get_search_results); other fields cannot be searched.
    search_fields = ("username", "=email")
    ordering = ("username",)

    def _reveal_link(self, obj: User, field: str, masked: str) -> str:
        if not masked:
            return "—"
        url = reverse("admin:accounts_user_reveal", args=[obj.pk, field])
        return format_html('{} <a href="{}">{}</a>', masked, url, _("Reveal"))

    @admin.display(description=_("Name"))
    def masked_name(self, obj: User) -> str:
        return self._reveal_link(obj, "name", mask_text(obj.name))

    @admin.display(description=_("E-mail"))
    def masked_email(self, obj: User) -> str:
        return self._reveal_link(obj, "email", mask_email(obj.email))

    @admin.display(description=_("Mailing address"))
    def masked_address(self, obj: User) -> str:
        return self._reveal_link(obj, "mailing_address", mask_text(obj.mailing_address))

    @admin.display(description=_("Phone"))
    def masked_phone(self, obj: User) -> str:
        return self._reveal_link(obj, "phone", mask_phone(obj.phone))

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        results, distinct = super().get_search_results(request, queryset, search_term)
        if search_term.strip().startswith("+"):
            try:
                phone = normalise_phone(search_term, None)
            except forms.ValidationError:
                return results, distinct
            match = services.find_account_by_phone(phone)
            if match is not None:
                results = results | queryset.filter(pk=match.pk)
        return results, distinct

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:user_id>/reveal/<str:field>/",
                self.admin_site.admin_view(self.reveal),
                name="accounts_user_reveal",
            ),
            *super().get_urls(),
        ]

    def reveal(self, request: HttpRequest, user_id: int, field: str) -> HttpResponse:
        """Show one personal field unmasked, after the staff member states why.

        Permission: ``accounts.reveal_personal_data``. Each reveal is recorded in the
        audit log with its purpose, and the person sees it on their access page.
        """
        if not request.user.has_perm("accounts.reveal_personal_data"):
            raise PermissionDenied
        if field not in REVEALABLE:
            raise PermissionDenied
        person = get_object_or_404(User, pk=user_id)
        value = None
        form = RevealForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            value = services.reveal_personal_field(
                person,
                field,
                purpose=form.cleaned_data["purpose"],
                explanation=form.cleaned_data["explanation"],
                request=request,
            )
            if field == "phone":
                value = display_phone(value)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal personal data"),
            "person": person,
            "field_label": REVEALABLE[field],
            "form": form,
            "value": value,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/accounts/user/reveal.html", context)


@admin.register(SignedInSession)
class SignedInSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "masked_ip", "created_at", "last_seen_at")
    fields = ("user", "masked_ip", "approximate_place", "created_at", "last_seen_at")
    readonly_fields = fields

    @admin.display(description=_("IP address"))
    def masked_ip(self, obj: SignedInSession) -> str:
        return mask_ip(obj.ip_address)

    @admin.display(description=_("Approximate place"))
    def approximate_place(self, obj: SignedInSession) -> str:
        return place_name(obj.place)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# allauth's own e-mail admin lists every address unmasked: staff see addresses on the
# user screens, masked, and reveal them with a purpose.
from allauth.account.models import EmailAddress  # noqa: E402  # after our registrations

if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)
