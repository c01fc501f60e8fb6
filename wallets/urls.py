from django.urls import path

from wallets import api, views

urlpatterns = [
    path("wallet/", views.statement, name="wallet_statement"),
    path("api/wallet", api.wallet, name="wallet_api"),
]
