from django.urls import path

from wallets import views

urlpatterns = [
    path("wallet/", views.statement, name="wallet_statement"),
]
