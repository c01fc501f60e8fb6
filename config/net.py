"""Who is calling: the client's address as our own proxy saw it.

The app believes `X-Forwarded-For` only from TRUSTED_PROXIES (Caddy's network in the shipped
compose); anybody else could write any address there. Used wherever an address decides
something: the YooKassa webhook's allowlist, and allauth's per-address limits on the sign-in
forms (accounts.adapters.AccountAdapter.get_client_ip).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address; X-Forwarded-For counts only when our own proxy sent the request."""
    peer = request.META.get("REMOTE_ADDR", "")
    if in_networks(peer, settings.TRUSTED_PROXIES):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The proxy appends the address it saw last: the rightmost entry is the one it vouches for.
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return peer or None


def in_networks(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)
