from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from safehold.accounts.models import SignedInSession, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    # The password hint is deliberately absent: it is never shown on any page.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("name", "email", "mailing_address", "phone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    list_display = ("username", "email", "name", "is_staff", "is_active")
    search_fields = ("username", "email", "name")
    ordering = ("username",)


@admin.register(SignedInSession)
class SignedInSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "browser", "os", "place", "last_seen_at")
    exclude = ("session_key",)
    readonly_fields = (
        "user",
        "browser",
        "os",
        "device",
        "ip_address",
        "place",
        "created_at",
        "last_seen_at",
    )

    def has_add_permission(self, request):
        return False
