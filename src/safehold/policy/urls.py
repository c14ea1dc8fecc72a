"""The privacy statement's pages: all under /privacy/."""

from django.urls import path

from safehold.policy import views

urlpatterns = [
    path("privacy/", views.statement, name="policy_statement"),
    path("privacy/history/", views.history, name="policy_history"),
    path("privacy/v<int:number>/", views.version, name="policy_version"),
    path("privacy/diff/", views.diff_form, name="policy_diff_form"),
    path("privacy/diff/<int:old>...<int:new>/", views.diff, name="policy_diff"),
    path("privacy/promises/", views.promise_map, name="policy_promises"),
    path("privacy/acknowledge/", views.acknowledge, name="policy_acknowledge"),
    path("privacy/account/", views.account, name="policy_account"),
    path("privacy/draft/<int:pk>/", views.preview, name="policy_preview"),
]
