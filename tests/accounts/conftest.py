import pytest

from tests.fakes import casdoor as fake_casdoor


@pytest.fixture
def casdoor(fake_server, settings):
    """A fake Casdoor that the real client talks to over HTTP."""
    server = fake_casdoor.start(fake_server)
    settings.CASDOOR_INTERNAL_URL = server.url
    settings.CASDOOR_CLIENT_ID = fake_casdoor.CLIENT_ID
    settings.CASDOOR_CLIENT_SECRET = fake_casdoor.CLIENT_SECRET
    settings.CASDOOR_ORG = "built-in"
    settings.CASDOOR_APP_NAME = "Myservice"
    settings.CASDOOR_TIMEOUT = 2
    return server


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Runs on_commit callbacks (queued tasks) at the end of each `with commit(execute=True)`."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def client_factory(db):
    """New browsers: each call returns a fresh test client with its own cookies."""
    from django.test import Client

    return Client


PROVIDERS = {
    "vk": {"APP": {"client_id": "vk-client", "secret": "vk-secret"}},
    "google": {"APP": {"client_id": "google-client", "secret": "google-secret"}},
    "yandex": {"APP": {"client_id": "yandex-client", "secret": "yandex-secret"}},
    "telegram": {
        "APP": {"client_id": "7000000001", "secret": "7000000001:telegram-bot-token"},
        "AUTH_PARAMS": {"auth_date_validity": 300},
    },
}


@pytest.fixture
def providers(settings):
    """All four providers configured, as the environment would configure them."""
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS
    return PROVIDERS


@pytest.fixture
def provider_edge(monkeypatch, providers):
    import requests

    from tests.accounts.provider_edge import ProviderEdge

    edge = ProviderEdge()
    monkeypatch.setattr(
        requests.Session, "request", lambda session, method, url, **kw: edge(method, url, **kw)
    )
    return edge
