from django.urls import path

from safehold.rights import views

urlpatterns = [
    path("account/data/", views.data, name="rights_data"),
    path("account/data/<uuid:public_id>/download/", views.download, name="rights_download"),
    path("account/delete/", views.delete, name="rights_delete"),
    path("account/delete/scheduled/", views.delete_scheduled, name="rights_delete_scheduled"),
]
