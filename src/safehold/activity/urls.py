from django.urls import path

from safehold.activity import views

urlpatterns = [
    path("account/activity/", views.activity, name="activity_records"),
    path("account/payments/", views.payments, name="activity_payments"),
    path("account/payments/new/", views.new_payment, name="activity_payment_new"),
    path("account/devices/", views.devices, name="activity_devices"),
    path("account/devices/rename/", views.rename_device, name="activity_device_rename"),
    path("account/devices/forget/", views.forget_device, name="activity_device_forget"),
    path("account/devices/sign-out/", views.sign_out_device, name="activity_device_sign_out"),
]
