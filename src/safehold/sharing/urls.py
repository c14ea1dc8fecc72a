from django.urls import path

from safehold.sharing import views

urlpatterns = [
    path("account/sharing/", views.account_sharing, name="sharing_account"),
    path("account/sharing/consent/", views.account_consent, name="sharing_consent"),
    path("transparency", views.transparency, name="sharing_transparency"),
    path("staff/sharing/legal/", views.legal_list, name="sharing_legal_list"),
    path("staff/sharing/legal/new/", views.legal_new, name="sharing_legal_new"),
    path("staff/sharing/legal/<int:pk>/", views.legal_detail, name="sharing_legal_detail"),
    path("staff/sharing/legal/<int:pk>/decide/", views.legal_decide, name="sharing_legal_decide"),
    path("staff/sharing/legal/<int:pk>/reopen/", views.legal_reopen, name="sharing_legal_reopen"),
    path(
        "staff/sharing/legal/<int:pk>/release/", views.legal_release, name="sharing_legal_release"
    ),
    path(
        "staff/sharing/legal/<int:pk>/document/",
        views.legal_document,
        name="sharing_legal_document",
    ),
    path("staff/sharing/legal/<int:pk>/order/", views.legal_order, name="sharing_legal_order"),
]
