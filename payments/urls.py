from django.urls import path

from payments import views

urlpatterns = [
    path("topup/", views.topup_page, name="topup"),
    path("payments/", views.history_page, name="payment_history"),
    path("api/payment/create", views.payment_create, name="payment_create"),
    path("api/payment/webhook", views.webhook, name="payment_webhook"),
    path("api/payment/<uuid:payment_id>", views.payment_status, name="payment_status"),
]
