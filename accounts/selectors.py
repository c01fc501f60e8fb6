"""Reads for accounts."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialAccount
from django.http import HttpRequest

from accounts.models import User


def profile_providers(*, request: HttpRequest, user: User) -> tuple[list[SocialAccount], list]:
    """The user's connected social accounts, and the configured providers not connected yet."""
    accounts = list(SocialAccount.objects.filter(user=user).order_by("provider", "pk"))
    connected = {account.provider for account in accounts}
    available = [p for p in get_social_adapter().list_providers(request) if p.id not in connected]
    return accounts, available
