"""Chat test helpers: catalog models with round prices, money in wallets, and an HTTP client
signed in as a user against the live ASGI server (the stream is tested through uvicorn, as it
runs in production). The ledger invariant is checked after every test, as in tests/wallets."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import import_module

import httpx
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils.crypto import get_random_string

from chats.models import AIModel
from tests.fakes.fal import fal  # noqa: F401  (the fixture)
from tests.fakes.openrouter import openrouter  # noqa: F401  (the fixture)
from tests.fakes.s3 import _moto_server, s3  # noqa: F401  (the fixtures)
from tests.wallets.conftest import _ledger_stays_consistent, in_threads, ledger_mismatches  # noqa: F401
from wallets.services import wallet_credit


@pytest.fixture(autouse=True)
def _chat_settings(settings):
    settings.USD_RUB_RATE = Decimal("90")
    settings.PRICE_MARKUP = Decimal("1.5")
    settings.CHAT_MAX_COMPLETION_TOKENS = 100
    settings.CHAT_MIN_COMPLETION_TOKENS = 10


@pytest.fixture
def catalog(db) -> None:
    """The seeded catalog. Transactional tests flush the database, migration data included, so
    tests that need it seed it again with the migration's own function (it skips existing rows)."""
    from django.apps import apps

    import_module("chats.migrations.0003_seed_catalog").seed(apps, None)


@pytest.fixture
def chat_model(db) -> AIModel:
    """$100 / $1000 per 1M tokens: 1 prompt token = 0.0135 ₽, 1 reply token = 0.135 ₽."""
    return AIModel.objects.create(
        model_id="test/pricey",
        name="Pricey",
        group="Test",
        cost_input=Decimal("100"),
        cost_output=Decimal("1000"),
        context_length=100_000,
    )


@pytest.fixture
def vision_model(db) -> AIModel:
    return AIModel.objects.create(
        model_id="test/vision",
        name="Vision",
        group="Test",
        cost_input=Decimal("1"),
        cost_output=Decimal("2"),
        supports_vision=True,
        context_length=100_000,
    )


@pytest.fixture
def fund():
    def fund(user, amount: str) -> None:
        wallet_credit(user=user, amount=Decimal(amount), reference=f"test:fund:{user.pk}:{amount}")

    return fund


def signed_in_cookies(user) -> dict[str, str]:
    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {django_settings.SESSION_COOKIE_NAME: store.session_key}


def http_client(base_url: str, user=None, **kwargs) -> httpx.Client:
    """A browser-like client: session cookie of `user` (if any) and a CSRF cookie + header."""
    token = get_random_string(32)
    cookies = {django_settings.CSRF_COOKIE_NAME: token, **(signed_in_cookies(user) if user else {})}
    return httpx.Client(base_url=base_url, cookies=cookies, headers={"X-CSRFToken": token}, **kwargs)


@pytest.fixture
def client_for(asgi_server):
    clients: list[httpx.Client] = []

    def make(user=None, **kwargs) -> httpx.Client:
        client = http_client(asgi_server.url, user, timeout=30, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def send(client: httpx.Client, **body) -> tuple[int, list[dict] | dict]:
    """POSTs to the stream; returns the status and the NDJSON lines (or the JSON error)."""
    response = client.post("/api/chats/send", json=body)
    if response.headers["content-type"].startswith("application/x-ndjson"):
        return response.status_code, [json.loads(line) for line in response.text.splitlines()]
    return response.status_code, response.json()
