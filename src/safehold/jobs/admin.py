"""Staff screens for background jobs: what is queued, running, done and failed.

Failed jobs show their error's kind (never personal data); staff with the
``change_job`` permission retry them or acknowledge them as seen. Jobs are not
edited or added by hand: the payload is read-only.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from safehold.audit.services import Actor
from safehold.jobs import services
from safehold.jobs.models import Job, PeriodicSchedule


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("failed", str(_("Failed, not yet acknowledged")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        if self.value() == "failed":
            return queryset.filter(status=Job.Status.FAILED, acknowledged_at__isnull=True)
        return queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "status",
        "attempts_shown",
        "run_at",
        "finished_at",
        "last_error",
        "acknowledged_at",
    )
    list_filter = (NeedsAttentionFilter, "status", "name")
    search_fields = ("name", "dedupe_key")
    ordering = ("-id",)
    fields = (
        "name",
        "status",
        "payload_shown",
        "dedupe_key",
        "run_at",
        "attempts",
        "max_attempts",
        "locked_by",
        "locked_until",
        "last_error",
        "created_at",
        "finished_at",
        "acknowledged_at",
    )
    readonly_fields = fields
    actions = ["retry_selected", "acknowledge_selected"]

    @admin.display(description=_("attempts"))
    def attempts_shown(self, obj: Job) -> str:
        return f"{obj.attempts}/{obj.max_attempts}"

    @admin.display(description=_("payload"))
    def payload_shown(self, obj: Job) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from the code that needs them

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        # Viewing needs view_job; the fields are read-only whatever the permission.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False  # finished jobs go by the retention rule "finished-jobs"

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.change_job")

    @admin.action(description=_("Retry the selected failed jobs"), permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        count = services.retry_jobs(queryset, actor=Actor.from_request(request))
        self.message_user(
            request,
            ngettext(
                "%(count)d failed job queued again.", "%(count)d failed jobs queued again.", count
            )
            % {"count": count},
        )

    @admin.action(
        description=_("Acknowledge the selected failed jobs (seen, not retried)"),
        permissions=["retry"],
    )
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        count = services.acknowledge_failures(queryset, actor=Actor.from_request(request))
        self.message_user(
            request,
            ngettext(
                "%(count)d failed job acknowledged.", "%(count)d failed jobs acknowledged.", count
            )
            % {"count": count},
        )


@admin.register(PeriodicSchedule)
class PeriodicScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "next_run_at", "last_enqueued_at")
    readonly_fields = ("name", "next_run_at", "last_enqueued_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: PeriodicSchedule | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: PeriodicSchedule | None = None
    ) -> bool:
        return False
