"""Staff screens: exports and erasures at a glance, and erasure on a person's request.

Staff erase someone through "Add erasure": the person's account number, a reason
code and a stated reason (sealed in the audit event, like any note). It is the same
erasure as the person's own, with the same audit trail; staff choose whether the
grace period applies.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from safehold.accounts.models import User
from safehold.audit.services import Actor
from safehold.core.admin import ReadOnlyAdmin
from safehold.rights import services
from safehold.rights.exceptions import CannotErase, PersonNotFound
from safehold.rights.models import Erasure, Export, Tombstone


class StaffErasureForm(forms.ModelForm):
    user_id = forms.IntegerField(label=_("Account number"), min_value=1)
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            (Erasure.Reason.STAFF.value, Erasure.Reason.STAFF.label),
            (Erasure.Reason.LEGAL.value, Erasure.Reason.LEGAL.label),
        ],
    )
    note = forms.CharField(
        label=_("Stated reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why, and how the request reached you. Kept sealed in the audit log."),
    )
    immediately = forms.BooleanField(
        label=_("Erase at once (no grace period)"),
        required=False,
        help_text=_("Otherwise the person can still cancel by signing in during the grace period."),
    )

    class Meta:
        model = Erasure
        fields = ["reason"]

    def clean_user_id(self) -> int:
        user_id = int(self.cleaned_data["user_id"])
        user = User.objects.filter(pk=user_id).first()
        if user is None or services.is_erased(user_id):
            raise forms.ValidationError(_("No account that is not erased has this number."))
        if user.is_superuser:
            raise forms.ValidationError(_("An administrator's account cannot be erased."))
        return user_id


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "user_id",
        "status",
        "reason",
        "requested_at",
        "erase_after",
        "completed_at",
    )
    list_filter = ("status", "reason")
    search_fields = ("=user__id",)
    readonly_fields = (
        "user_id",
        "status",
        "reason",
        "requested_at",
        "erase_after",
        "requested_by",
        "cancelled_at",
        "completed_at",
        "counts",
    )
    fields = readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            return StaffErasureForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("user_id", "reason", "note", "immediately")
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        user = User.objects.get(pk=data["user_id"])
        try:
            erasure, _created = services.request_erasure(
                user,
                actor=Actor.from_request(request),
                reason=data["reason"],
                requested_by=request.user,  # type: ignore[arg-type]  # staff, signed in
                grace=timedelta(0) if data["immediately"] else None,
                note=data["note"],
            )
        except (CannotErase, PersonNotFound) as exc:
            messages.error(request, str(exc))
            return
        obj.pk = erasure.pk
        obj.user = user


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "user_id",
        "status",
        "via",
        "requested_at",
        "ready_at",
        "expires_at",
    )
    list_filter = ("status", "via")
    fields = (
        "public_id",
        "user_id",
        "status",
        "via",
        "requested_at",
        "ready_at",
        "expires_at",
        "downloaded_at",
        "size",
        "counts",
    )
    readonly_fields = fields


@admin.register(Tombstone)
class TombstoneAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "erased_at", "reason")
    list_filter = ("reason",)
    readonly_fields = ("user_id", "erased_at", "reason")
