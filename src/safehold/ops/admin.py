"""Staff screens: breach incidents (open, find the affected, notify, export) and backups.

Permissions: ``ops.add_incident`` / ``ops.change_incident`` to open and describe one;
``ops.notify_incident`` to add people and send notices; ``ops.export_incident`` to
download the timeline for the authority. Every step goes through ``services`` and is
recorded in the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from safehold.audit.services import Actor
from safehold.core.admin import ReadOnlyAdmin
from safehold.ops import services
from safehold.ops.exceptions import IncidentError
from safehold.ops.models import AffectedPerson, Backup, Incident

CATEGORY_CHOICES = [
    ("identity", _("Names and user names")),
    ("contact", _("Contact details")),
    ("credentials", _("Sign-in data")),
    ("devices", _("Device data")),
    ("transactions", _("Access records and payments")),
    ("consents", _("Consent records")),
    ("other", _("Other data")),
]


def _other_languages() -> list[tuple[str, Any]]:
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _field(key: str, code: str) -> str:
    return f"{key}__{code.replace('-', '_')}"


class _IncidentFormBase(forms.ModelForm):
    data_categories = forms.MultipleChoiceField(
        label=_("Data categories"), choices=CATEGORY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    notify_authority_by = forms.DateTimeField(
        label=_("Notify the authority by"),
        required=False,
        help_text=_("Empty: %(hours)d hours after discovery.")
        % {"hours": settings.SAFEHOLD_INCIDENT_NOTIFY_HOURS},
    )

    class Meta:
        model = Incident
        fields = (
            "title",
            "summary",
            "advice",
            "discovered_at",
            "occurred_from",
            "occurred_until",
            "data_categories",
            "notify_authority_by",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translations = (self.instance.translations or {}) if self.instance.pk else {}
        for code, _name in _other_languages():
            given = translations.get(code, {})
            for key in ("summary", "advice"):
                self.fields[_field(key, code)].initial = given.get(key, "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("occurred_from"), data.get("occurred_until")
        if start and end and end < start:
            self.add_error("occurred_until", _("The breach window ends before it starts."))
        return data

    def translations(self) -> dict[str, dict[str, str]]:
        result = {}
        for code, _name in _other_languages():
            entry = {
                key: (self.cleaned_data.get(_field(key, code)) or "").strip()
                for key in ("summary", "advice")
            }
            if any(entry.values()):
                result[code] = entry
        return result


def _translation_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for code, name in _other_languages():
        fields[_field("summary", code)] = forms.CharField(
            label=_("What happened, in %(language)s") % {"language": name},
            widget=forms.Textarea(attrs={"rows": 4}),
            required=False,
        )
        fields[_field("advice", code)] = forms.CharField(
            label=_("What people should do, in %(language)s") % {"language": name},
            widget=forms.Textarea(attrs={"rows": 3}),
            required=False,
        )
    return fields


# The translation fields are declared (not added in __init__), so the admin's
# fieldsets can name them.
IncidentForm = type("IncidentForm", (_IncidentFormBase,), _translation_fields())


class AddPeopleForm(forms.Form):
    people = forms.CharField(
        label=_("People"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("User names or e-mail addresses, one per line."),
    )


class AffectedInline(admin.TabularInline):
    model = AffectedPerson
    extra = 0
    can_delete = False
    fields = ("user", "reason", "language", "added_at", "notified_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = (
        "title",
        "status",
        "discovered_at",
        "notify_authority_by",
        "authority_notified_at",
        "affected_count",
        "notified_count",
    )
    list_filter = ("status",)
    inlines = (AffectedInline,)
    actions = ("add_from_audit_log", "send_notices", "authority_notified", "close")
    change_form_template = "ops/admin/incident_change_form.html"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        base = list(_IncidentFormBase.Meta.fields)
        extra = [
            _field(key, code) for code, _name in _other_languages() for key in ("summary", "advice")
        ]
        fieldsets: list[Any] = [(None, {"fields": base})]
        if extra:
            fieldsets.append((_("Translations"), {"fields": extra}))
        if obj is not None:
            fieldsets.append(
                (_("Progress"), {"fields": ("status", "authority_notified_at", "closed_at")})
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("status", "authority_notified_at", "closed_at") if obj is not None else ()

    @admin.display(description=_("affected"))
    def affected_count(self, obj: Incident) -> int:
        return obj.affected.count()

    @admin.display(description=_("notified"))
    def notified_count(self, obj: Incident) -> int:
        return obj.affected.filter(notified_at__isnull=False).count()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an incident's record is evidence

    def has_notify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ops.notify_incident")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ops.export_incident")

    def save_model(self, request: HttpRequest, obj: Incident, form: Any, change: bool) -> None:
        actor = Actor.from_request(request)
        data = form.cleaned_data
        if not change:
            created = services.open_incident(
                actor=actor,
                title=data["title"],
                summary=data["summary"],
                advice=data.get("advice", ""),
                discovered_at=data["discovered_at"],
                occurred_from=data.get("occurred_from"),
                occurred_until=data.get("occurred_until"),
                data_categories=list(data["data_categories"]),
                notify_authority_by=data.get("notify_authority_by"),
                translations=form.translations(),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        obj.translations = form.translations()
        if obj.notify_authority_by is None:
            obj.notify_authority_by = obj.discovered_at + timedelta(
                hours=settings.SAFEHOLD_INCIDENT_NOTIFY_HOURS
            )
        obj.save()
        services.record_incident_change(obj, actor=actor, fields=list(form.changed_data))

    # --- actions ---------------------------------------------------------------------

    def _run(self, request: HttpRequest, queryset: QuerySet[Incident], step: Any) -> None:
        actor = Actor.from_request(request)
        for incident in queryset:
            try:
                count = step(incident, actor=actor)
            except IncidentError as exc:
                self.message_user(request, f"{incident}: {exc}", messages.ERROR)
            except OSError:
                self.message_user(
                    request,
                    _("%(incident)s: the mail server could not be reached; send again later.")
                    % {"incident": incident},
                    messages.ERROR,
                )
            else:
                if isinstance(count, int):
                    self.message_user(request, f"{incident}: {count}", messages.SUCCESS)
                else:
                    self.message_user(request, _("%(incident)s: done") % {"incident": incident})

    @admin.action(
        description=_("Add the people with audit events in the breach window"),
        permissions=["notify"],
    )
    def add_from_audit_log(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run(request, queryset, services.add_people_from_audit_log)

    @admin.action(
        description=_("Send the notices to everyone not yet told"), permissions=["notify"]
    )
    def send_notices(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run(request, queryset, services.send_notices)

    @admin.action(description=_("Record that the authority was notified"), permissions=["notify"])
    def authority_notified(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run(request, queryset, services.mark_authority_notified)

    @admin.action(description=_("Close the incident"), permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        self._run(request, queryset, services.close_incident)

    # --- extra pages ------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/timeline.<str:fmt>",
                self.admin_site.admin_view(self.timeline_view),
                name="ops_incident_timeline",
            ),
            path(
                "<int:pk>/add-people/",
                self.admin_site.admin_view(self.add_people_view),
                name="ops_incident_add_people",
            ),
            *super().get_urls(),
        ]

    def timeline_view(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        if not self.has_export_permission(request):
            raise PermissionDenied
        incident = get_object_or_404(Incident, pk=pk)
        try:
            content, content_type = services.export_timeline(
                incident, actor=Actor.from_request(request), fmt=fmt
            )
        except IncidentError:
            raise PermissionDenied from None
        response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="incident-{pk}-timeline.{fmt}"'
        return response

    def add_people_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_notify_permission(request):
            raise PermissionDenied
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        incident = get_object_or_404(Incident, pk=pk)
        form = AddPeopleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            wanted = [w.strip() for w in form.cleaned_data["people"].splitlines() if w.strip()]
            query = Q(pk__in=[])
            for word in wanted:
                query |= Q(username__iexact=word) | Q(email__iexact=word)
            users = list(get_user_model().objects.filter(query))
            try:
                added = services.add_people(incident, users, actor=Actor.from_request(request))
            except IncidentError as exc:
                form.add_error(None, str(exc))
            else:
                missing = len(wanted) - len(users)
                self.message_user(
                    request,
                    ngettext("%(count)d person added.", "%(count)d people added.", added)
                    % {"count": added},
                )
                if missing > 0:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d line matched nobody.",
                            "%(count)d lines matched nobody.",
                            missing,
                        )
                        % {"count": missing},
                        messages.WARNING,
                    )
                return HttpResponseRedirect(reverse("admin:ops_incident_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "incident": incident,
            "form": form,
            "title": _("Add affected people"),
        }
        return TemplateResponse(request, "ops/admin/add_people.html", context)


@admin.register(Backup)
class BackupAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "size", "verified_at", "verified_ok", "pruned_at")
    list_filter = ("kind", "verified_ok")
    readonly_fields = (
        "path",
        "backup_id",
        "kind",
        "created_at",
        "size",
        "sha256",
        "verified_at",
        "verified_ok",
        "pruned_at",
    )
