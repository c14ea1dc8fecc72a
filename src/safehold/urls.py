from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from safehold.core import views as core_views

# The admin's own login has no rate limit and no second factor: send it through
# allauth's sign-in, which has both.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # documented allauth recipe
admin.site.site_header = "Safehold"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/", include("safehold.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("safehold.api.urls")),
    # Feature apps: each app's urls.py owns its own prefixes (docs in each module).
    path("", include("safehold.consent.urls")),
    path("", include("safehold.policy.urls")),
    path("", include("safehold.feedback.urls")),
    path("", include("safehold.sharing.urls")),
    path("", include("safehold.activity.urls")),
    path("", include("safehold.rights.urls")),
    path("", include("safehold.ops.urls")),
]

handler400 = "safehold.core.views.bad_request"
handler403 = "safehold.core.views.permission_denied"
handler404 = "safehold.core.views.page_not_found"
handler500 = "safehold.core.views.server_error"
