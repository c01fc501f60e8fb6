"""Websocket routes, one list for the whole site (each app contributes its consumers here)."""

from django.urls import path

from wallets.consumers import BalanceConsumer

websocket_urlpatterns: list = [
    path("ws/balance/", BalanceConsumer.as_asgi()),
]
