from django.urls import path

from safehold.accounts import views

urlpatterns = [
    path("", views.account_centre, name="account_centre"),
    path("profile/", views.edit_profile, name="account_profile"),
    path("password-hint/", views.password_hint, name="account_password_hint"),
    path("password-hint/send/", views.request_password_hint, name="account_password_hint_request"),
    path("password-hint/sent/", views.password_hint_sent, name="account_password_hint_sent"),
    path("sessions/", views.sessions, name="account_sessions"),
    path("access/", views.data_access, name="account_data_access"),
    path("sessions/sign-out/", views.sign_out_sessions, name="account_sessions_sign_out"),
]
