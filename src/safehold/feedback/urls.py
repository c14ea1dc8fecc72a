"""The contact app's pages: /contact/, /account/messages/ and the staff inbox /staff/inbox/."""

from django.urls import path

from safehold.feedback import views

urlpatterns = [
    path("contact/", views.contact, name="feedback_contact"),
    path("contact/sent/", views.sent, name="feedback_sent"),
    path("account/messages/", views.my_messages, name="feedback_messages"),
    path("staff/inbox/", views.inbox, name="feedback_inbox"),
    path("staff/inbox/<str:reference>/", views.message_detail, name="feedback_staff_message"),
    path(
        "staff/inbox/<str:reference>/<slug:action>/",
        views.message_action,
        name="feedback_staff_action",
    ),
]
