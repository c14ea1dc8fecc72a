from django.urls import path

from safehold.api.api import api

urlpatterns = [path("", api.urls)]
