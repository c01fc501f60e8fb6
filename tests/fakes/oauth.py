"""The sign-in providers' side of OAuth, at the network edge.

allauth talks to VK, Google and Yandex with `requests`; like allauth's own tests we replace only
`requests.Session.request`, so allauth's real login and callback views run end to end and only
the providers' HTTP answers are canned. Unrouted URLs fail loudly. The `provider_edge` fixture
(tests/conftest.py) installs it with `PROVIDERS` configured.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

import requests

# All four providers configured, as the environment would configure them.
PROVIDERS = {
    "vk": {"APP": {"client_id": "vk-client", "secret": "vk-secret"}},
    "google": {"APP": {"client_id": "google-client", "secret": "google-secret"}},
    "yandex": {"APP": {"client_id": "yandex-client", "secret": "yandex-secret"}},
    "telegram": {
        "APP": {"client_id": "7000000001", "secret": "7000000001:telegram-bot-token"},
        "AUTH_PARAMS": {"auth_date_validity": 300},
    },
}


class ProviderEdge:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, dict]] = {}
        self.calls: list[tuple[str, str, dict]] = []

    def answer(self, method: str, url: str, body: dict, status: int = 200) -> None:
        self.routes[(method.upper(), url)] = (status, body)

    def __call__(self, method: str, url: str, **kwargs) -> requests.Response:
        bare = urlunsplit(urlsplit(url)._replace(query="", fragment=""))
        self.calls.append((method.upper(), bare, kwargs))
        try:
            status, body = self.routes[(method.upper(), bare)]
        except KeyError:
            raise AssertionError(f"unexpected request to {method} {url}") from None
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response
