"""Signal receivers, connected in AccountsConfig.ready(): each hands over to a service."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in

from accounts import middleware, services


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    # Django has already rotated the session key; the absolute lifetime starts now.
    if request is not None and hasattr(request, "session"):
        middleware.mark_signed_in(request.session)
    services.user_casdoor_sync_schedule(user_ids=[user.pk])


def connect() -> None:
    user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.on_user_logged_in")
