"""Staff: configure the cookie categories; read and export the proof-of-consent records."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safehold.audit.services import Actor
from safehold.consent import services
from safehold.consent.models import Category, ConsentRecord
from safehold.core.admin import ReadOnlyAdmin


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name_en", "name_zh", "slug", "is_necessary", "is_sale_or_sharing", "order")
    list_editable = ("order",)
    fieldsets = (
        (None, {"fields": ("slug", "order", "is_necessary", "is_sale_or_sharing")}),
        (_("English"), {"fields": ("name_en", "description_en")}),
        (_("Chinese"), {"fields": ("name_zh", "description_zh")}),
        (_("What it covers"), {"fields": ("cookies", "scripts")}),
    )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Category | None = None
    ) -> tuple[str, ...]:
        # Records and embedding sites name categories by slug: it never changes.
        return ("slug",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Category, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.record_category_change(obj, actor=Actor.from_request(request))

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.record_category_change(obj, actor=Actor.from_request(request), deleted=True)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "short_visitor", "method", "allowed_list", "gpc", "site", "user")
    list_filter = ("method", "gpc", "site", "created_at")
    search_fields = ("visitor_id",)
    date_hierarchy = "created_at"
    actions = ["export_csv", "export_json"]
    readonly_fields = [f.name for f in ConsentRecord._meta.fields]

    @admin.display(description=_("visitor"))
    def short_visitor(self, obj: ConsentRecord) -> str:
        return f"{obj.visitor_id[:10]}…"

    @admin.display(description=_("allowed"))
    def allowed_list(self, obj: ConsentRecord) -> str:
        return ", ".join(obj.allowed)

    def _export(
        self, request: HttpRequest, queryset: QuerySet[ConsentRecord], fmt: str
    ) -> HttpResponse:
        text = services.export_records(
            queryset.order_by("id").iterator(), fmt=fmt, actor=Actor.from_request(request)
        )
        content_type = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
        response = HttpResponse(text, content_type=content_type)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="consent-records-{stamp}.{fmt}"'
        return response

    @admin.action(description=_("Export the selected records as CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> HttpResponse:
        return self._export(request, queryset, "csv")

    @admin.action(description=_("Export the selected records as JSON"), permissions=["view"])
    def export_json(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> HttpResponse:
        return self._export(request, queryset, "json")
