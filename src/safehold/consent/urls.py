"""The consent app's pages: ``/cookies/`` (settings), the banner's form, GPC's
well-known file, and the person's choices in the account centre."""

from django.urls import path

from safehold.consent import views

urlpatterns = [
    path("cookies/", views.settings_page, name="consent_settings"),
    path("cookies/choose/", views.choose, name="consent_choose"),
    path("cookies/enable/", views.enable, name="consent_enable"),
    path(".well-known/gpc.json", views.gpc_json, name="consent_gpc_json"),
    path("account/cookies/", views.history, name="consent_history"),
]
