"""Staff screens for API keys: create one (its key is shown once), see them, revoke them.

Keys are never deleted, only revoked, so that what a key did stays attributable.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safehold.api import origins, services
from safehold.api.exceptions import ApiKeyError, InvalidKeySettings
from safehold.api.models import ApiKey
from safehold.api.scopes import SITE_KEY_SCOPES, Scope
from safehold.audit.services import Actor


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the key is for."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ApiKey.Kind.choices, initial="server")
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(scope.value, f"{scope.value}: {scope.label}") for scope in Scope],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A public site key may hold only %(scopes)s.")
        % {"scopes": ", ".join(sorted(SITE_KEY_SCOPES))},
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        help_text=_("Optional, in UTC, e.g. 2027-01-01 00:00. Empty: never."),
    )
    allowed_origins = forms.CharField(
        label=_("Allowed origins"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Site keys only: the web origins whose pages embed the consent script, one per "
            "line, e.g. https://www.example.com. A site key is refused from any other origin."
        ),
    )

    def clean_allowed_origins(self) -> list[str]:
        try:
            return origins.parse_origins(self.cleaned_data.get("allowed_origins") or "")
        except ApiKeyError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "key",
        "scope_list",
        "origin_list",
        "created_at",
        "expires_at",
        "last_used_at",
        "status",
    )
    list_filter = ("kind",)
    search_fields = ("name", "prefix")
    fields = (
        "name",
        "kind",
        "key",
        "scope_list",
        "origin_list",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description=_("key"))
    def key(self, obj: ApiKey) -> str:
        return f"{obj.display_prefix}_…"

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description=_("allowed origins"))
    def origin_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.allowed_origins or []) or "-"

    @admin.display(description=_("status"))
    def status(self, obj: ApiKey) -> str:
        return obj.status_at(timezone.now())

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # a key is made once and then only revoked

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("api.change_apikey")

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset:
            _key, revoked = services.revoke_api_key(key.pk, actor=request.user)  # type: ignore[arg-type]  # staff are Users
            count += revoked
        self.message_user(request, _("Revoked %(count)d key(s).") % {"count": count})

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Add API key"),
        }
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["allowed_origins"] and data["kind"] != ApiKey.Kind.SITE:
                    raise InvalidKeySettings("only a public site key has allowed origins")
                with transaction.atomic():
                    issued = services.create_api_key(
                        name=data["name"],
                        scopes=data["scopes"],
                        kind=data["kind"],
                        expires_at=data["expires_at"],
                        actor=request.user,  # type: ignore[arg-type]  # staff are Users
                    )
                    if data["allowed_origins"]:
                        issued.api_key.refresh_from_db()
                        origins.set_allowed_origins(
                            issued.api_key.pk,
                            data["allowed_origins"],
                            actor=Actor.from_request(request),
                        )
                        issued.api_key.refresh_from_db()
            except ApiKeyError as exc:
                form.add_error(None, str(exc))
            else:
                # Shown in this response only: not in a message, a cookie or the session.
                context |= {"api_key": issued.api_key, "token": issued.token}
                return TemplateResponse(request, "admin/api/apikey/created.html", context)
        context["form"] = form
        return TemplateResponse(request, "admin/api/apikey/add.html", context)
