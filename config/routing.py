"""Websocket routes, one list for the whole site (each app contributes its consumers here)."""

websocket_urlpatterns: list = []
