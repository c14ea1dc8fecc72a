"""Staff edit drafts here, preview them, and publish them (``policy.publish_version``).

A published version and its texts are read-only: the admin shows them but offers
no way to change or delete them (and the models refuse it anyway).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from safehold.audit.services import Actor
from safehold.policy import rendering, services
from safehold.policy.exceptions import PolicyError
from safehold.policy.forms import PublishForm
from safehold.policy.models import StatementText, StatementVersion


class TextInline(admin.StackedInline):
    model = StatementText
    extra = 0
    min_num = 1
    fields = ("language", "summary", "body")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(StatementVersion)
class StatementVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "state", "effective_at", "material", "cookie_section_changed")
    list_filter = ("material",)
    fields = (
        "number",
        "material",
        "cookie_section_changed",
        "effective_at",
        "published_at",
        "links",
    )
    readonly_fields = ("number", "effective_at", "published_at", "links")
    inlines = [TextInline]

    @admin.display(description=gettext_lazy("status"))
    def state(self, obj: StatementVersion) -> str:
        return services.version_status(obj)

    @admin.display(description=gettext_lazy("preview and publish"))
    def links(self, obj: StatementVersion) -> str:
        if obj.pk is None:
            return "-"
        if obj.is_published:
            return format_html(
                '<a href="{}">{}</a>', reverse("policy_version", args=[obj.number]), _("View")
            )
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("policy_preview", args=[obj.pk]),
            _("Preview"),
            reverse("admin:policy_statementversion_publish", args=[obj.pk]),
            _("Publish…"),
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False  # shown read-only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="policy_statementversion_publish",
            )
        ]
        return extra + super().get_urls()

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Publish a draft with an effective date (permission ``policy.publish_version``)."""
        if not request.user.has_perm("policy.publish_version"):
            raise PermissionDenied
        version = get_object_or_404(StatementVersion.objects.prefetch_related("texts"), pk=pk)
        change_url = reverse("admin:policy_statementversion_change", args=[pk])
        if version.is_published:
            messages.error(request, _("This version is already published."))
            return HttpResponseRedirect(change_url)
        form = PublishForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.publish_version(
                    version,
                    actor=Actor.from_request(request),
                    effective_at=form.cleaned_data["effective_at"],
                )
            except PolicyError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, _("Version %(number)d is published.") % {"number": version.number}
                )
                return HttpResponseRedirect(change_url)
        text = services.text_for(version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Publish version %(number)d") % {"number": version.number},
            "version": version,
            "form": form,
            "html": rendering.render_markdown(text.body) if text else "",
        }
        return TemplateResponse(request, "admin/policy/publish.html", context)
