"""The fixtures every app's tests share: users, money, the fakes of the external services, a
live ASGI server and a browser. Plain helper functions are in tests/helpers.py; an app's own
conftest adds only what is particular to it and imports no other conftest.

Tests run against whatever DATABASE_URL / REDIS_URL point at (SQLite and local memory when
unset; PostgreSQL and Redis in CI).
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from config.celery import app as celery_app
from tests import helpers
from tests.fakes.casdoor import CLIENT_ID as CASDOOR_CLIENT_ID
from tests.fakes.casdoor import CLIENT_SECRET as CASDOOR_CLIENT_SECRET
from tests.fakes.casdoor import CasdoorHandler
from tests.fakes.fal import FAL_KEY, FakeFal, FalHandler
from tests.fakes.oauth import PROVIDERS, ProviderEdge
from tests.fakes.openrouter import API_KEY as OPENROUTER_API_KEY
from tests.fakes.openrouter import FakeOpenRouter, OpenRouterHandler
from tests.fakes.s3 import FakeS3, MotoServer
from tests.fakes.server import FakeHandler, FakeServer
from tests.fakes.yookassa import YOOKASSA_IP, FakeYooKassa, YooKassaHandler

is_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(skip)
    # Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    # for the rest of the session, which asyncio tests after it would trip over.
    items.sort(key=lambda item: "_playwright_browser" in getattr(item, "fixturenames", ()))


# The whole session ------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline() -> None:
    # Tasks run in the test process, with their real retry logic; no worker is needed.
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True, scope="session")
def _messages_compiled() -> None:
    """The translation catalogues as `make assets` compiles them, when a .po is newer than its
    .mo (a test run straight after editing a .po, or in a fresh checkout)."""
    stale = [
        po
        for po in helpers.ROOT.glob("locale/*/LC_MESSAGES/*.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        from django.core.management import call_command
        from django.utils.translation import trans_real

        call_command("compilemessages", locale=[po.parents[1].name for po in stale], verbosity=0)
        trans_real._translations = {}  # catalogues read before the compile are read again


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    # Staff users in admin tests have passwords; PBKDF2's deliberate slowness buys a test nothing.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# What post_migrate writes and nothing else changes: kept across the flush below, so the signal
# Django sends after it finds them there instead of writing them again.
_METADATA_TABLES = {"django_content_type", "auth_permission"}


@pytest.fixture(autouse=True, scope="session")
def _quick_flush() -> Iterator[None]:
    """A transactional test (live server, threads) ends with Django's flush of every table, then
    post_migrate rebuilds content types and permissions. Measured per test: PostgreSQL's TRUNCATE
    of our tables took 0.9 s (it gives each table and index new files) and the rebuild 0.3-0.5 s;
    over a hundred such tests, that was a third of the suite's time on PostgreSQL.

    The tables hold one test's few rows, so on PostgreSQL they are emptied by DELETE, with
    triggers (the ledger's append-only guard) and foreign keys set aside for that transaction
    (`session_replication_role`, which needs the superuser CI connects as; otherwise TRUNCATE
    stays). The metadata tables are left as they are on both databases: what post_migrate
    would write back is what they already hold.
    """
    ops_class = type(connection.ops)
    flush = ops_class.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        tables = [table for table in tables if table not in _METADATA_TABLES]
        if reset_sequences or not _may_set_triggers_aside(self.connection):
            return flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [
            "SET LOCAL session_replication_role = replica",
            # Names from Django's introspection of our own tables, quoted.
            *(f"DELETE FROM {self.quote_name(table)}" for table in tables),  # noqa: S608
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ops_class, "sql_flush", sql_flush)
        yield


@functools.cache
def _may_set_triggers_aside(db) -> bool:
    if db.vendor != "postgresql":
        return False
    with db.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser')")
        return cursor.fetchone()[0] == "on"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(request) -> Iterator[None]:
    """After every test that used the database: each balance is the sum of its ledger entries
    and each `held` the sum of its open holds, whatever the test did to the money."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker and marker.kwargs.get("transaction")
    )
    uses_db = marker or transactional or "db" in request.fixturenames
    if uses_db:
        # Set up the database before this fixture so that it is still there at its teardown.
        request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    if uses_db:
        assert helpers.ledger_mismatches() == []


# People -----------------------------------------------------------------------------------------
@pytest.fixture
def make_user(db) -> Callable[..., object]:
    from accounts.models import User

    def make(casdoor_id: str, **fields) -> User:
        return User.objects.create_user(casdoor_id=casdoor_id, **fields)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("email_alice", email="alice@example.com", name="Alice")


@pytest.fixture
def bob(make_user):
    return make_user("email_bob", email="bob@example.com", name="Bob")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def funded(alice):
    """Alice with 100 ₽ in her wallet."""
    helpers.fund(alice, "100.00")
    return alice


@pytest.fixture
def client_factory(db) -> type[Client]:
    """New browsers: each call returns a fresh test client with its own cookies."""
    return Client


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit(execute=True):` runs what the block queued on commit (tasks, the live
    balance push) at its end, as a real commit would."""
    return django_capture_on_commit_callbacks


# The catalog ------------------------------------------------------------------------------------
@pytest.fixture
def chat_settings(settings) -> None:
    """Round prices: 1 USD = 90 ₽ with a 1.5 markup, and small completion budgets."""
    settings.USD_RUB_RATE = Decimal("90")
    settings.PRICE_MARKUP = Decimal("1.5")
    settings.CHAT_MAX_COMPLETION_TOKENS = 100
    settings.CHAT_MIN_COMPLETION_TOKENS = 10


@pytest.fixture
def catalog(db) -> None:
    helpers.seed_catalog()


@pytest.fixture
def chat_model(db):
    """$100 / $1000 per 1M tokens: with `chat_settings`, 1 prompt token = 0.0135 ₽, 1 reply
    token = 0.135 ₽."""
    from catalog.models import AIModel

    return AIModel.objects.create(
        model_id="test/pricey",
        name="Pricey",
        group="Test",
        cost_input=Decimal("100"),
        cost_output=Decimal("1000"),
        context_length=100_000,
    )


@pytest.fixture
def vision_model(db):
    from catalog.models import AIModel

    return AIModel.objects.create(
        model_id="test/vision",
        name="Vision",
        group="Test",
        cost_input=Decimal("1"),
        cost_output=Decimal("2"),
        supports_vision=True,
        context_length=100_000,
    )


def _media_model(model_id: str, name: str, kind: str):
    from catalog.models import AIModel

    model, _ = AIModel.objects.update_or_create(
        model_id=model_id,
        defaults={"name": name, "group": name, "kind": kind, "price_per_generation": helpers.MEDIA_PRICE},
    )
    return model


@pytest.fixture
def image_model(db):
    return _media_model("fal-ai/test-image", "Test Image", "image")


@pytest.fixture
def video_model(db):
    return _media_model("fal-ai/test-video", "Test Video", "video")


# Fakes of the external services ---------------------------------------------------------------------
@pytest.fixture
def fake_server() -> Iterator[Callable[[type[FakeHandler]], FakeServer]]:
    """Start fakes with `fake_server(MyHandler)`; all are stopped after the test."""
    started: list[FakeServer] = []

    def start(handler_class: type[FakeHandler]) -> FakeServer:
        server = FakeServer(handler_class).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def casdoor(fake_server, settings) -> Iterator[FakeServer]:
    """A fake Casdoor the real client talks to over HTTP; it knows nobody yet (`.users`)."""
    server = fake_server(CasdoorHandler)
    server.users = {}
    server.down = 0
    server.answer = None
    server.release = threading.Event()
    settings.CASDOOR_INTERNAL_URL = server.url
    settings.CASDOOR_CLIENT_ID = CASDOOR_CLIENT_ID
    settings.CASDOOR_CLIENT_SECRET = CASDOOR_CLIENT_SECRET
    settings.CASDOOR_ORG = "built-in"
    settings.CASDOOR_APP_NAME = "Myservice"
    settings.CASDOOR_TIMEOUT = 2
    yield server
    server.release.set()


@pytest.fixture
def openrouter(fake_server, settings) -> Iterator[FakeOpenRouter]:
    """The fake OpenRouter, with the settings pointed at it."""
    server = fake_server(OpenRouterHandler)
    server.openrouter = state = FakeOpenRouter(server)
    settings.OPENROUTER_BASE_URL = state.base_url
    settings.OPENROUTER_API_KEY = OPENROUTER_API_KEY
    yield state
    state.release.set()


@pytest.fixture
def fal(fake_server, settings) -> Iterator[FakeFal]:
    """The fake Fal queue, polled every 10 ms."""
    server = fake_server(FalHandler)
    server.fal = state = FakeFal(server)
    settings.FAL_KEY = FAL_KEY
    settings.FAL_QUEUE_URL = server.url
    # The fake serves result files itself: its origin is the file host.
    settings.FAL_FILE_HOSTS = [server.url]
    settings.MEDIA_POLL_INTERVAL_SECONDS = 0.01
    yield state
    state.release.set()


@pytest.fixture
def yookassa(fake_server, settings) -> Iterator[FakeYooKassa]:
    """The fake YooKassa API, with the shop's keys set."""
    server = fake_server(YooKassaHandler)
    server.yookassa = fake = FakeYooKassa(server)
    settings.YOOKASSA_API_URL = fake.url
    settings.YOOKASSA_SHOP_ID = fake.shop_id
    settings.YOOKASSA_SECRET_KEY = fake.secret_key
    yield fake
    fake.release.set()


@pytest.fixture
def post_notification(client: Client):
    """Posts a notification body to the webhook as YooKassa would (from its address)."""

    def post(body, remote_addr: str = YOOKASSA_IP, **extra):
        return client.post(
            reverse("payment_webhook"),
            data=body,
            content_type="application/json",
            REMOTE_ADDR=remote_addr,
            **extra,
        )

    return post


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3(_moto_server, settings) -> FakeS3:
    """A fresh bucket behind the default storage; no public domain (set S3_PUBLIC_DOMAIN to test
    the CDN branch of the URL rule)."""
    fake = _moto_server.bucket()
    settings.S3_ACCESS_KEY = fake.access_key
    settings.S3_SECRET_KEY = fake.secret_key
    settings.S3_BUCKET_NAME = fake.bucket
    settings.S3_ENDPOINT_URL = fake.endpoint_url
    settings.S3_REGION_NAME = fake.region
    settings.S3_PUBLIC_DOMAIN = ""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "media.storage.PublicS3Storage"}}
    return fake


@pytest.fixture
def providers(settings) -> dict:
    """All four sign-in providers configured, as the environment would configure them."""
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS
    return PROVIDERS


@pytest.fixture
def provider_edge(monkeypatch, providers) -> ProviderEdge:
    """The providers' HTTP answers, canned at `requests`' edge (tests/fakes/oauth.py)."""
    import requests

    edge = ProviderEdge()
    monkeypatch.setattr(
        requests.Session, "request", lambda session, method, url, **kw: edge(method, url, **kw)
    )
    return edge


# Live ASGI server -------------------------------------------------------------------------------
class LiveServer:
    """config.asgi.application under uvicorn in a thread: HTTP streaming and websockets work as
    in production (Django's own live_server is WSGI and would buffer streams)."""

    def __init__(self) -> None:
        import uvicorn

        from config.asgi import application

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        # The lifespan runs as in production: its shutdown closes the upstream connections.
        config = uvicorn.Config(application, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()
        return f"http://{host}:{port}"

    def start(self) -> LiveServer:
        self.thread.start()
        helpers.wait_until(lambda: self.server.started, timeout=10, message="uvicorn did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def asgi_server(transactional_db, settings) -> Iterator[LiveServer]:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture
def client_for(asgi_server) -> Iterator[Callable[..., httpx.Client]]:
    """`client_for(user)`: an HTTP client of the live server signed in as `user` (None: signed
    out), with a CSRF cookie and header; closed after the test."""
    clients: list[httpx.Client] = []

    def make(user=None, **kwargs) -> httpx.Client:
        client = helpers.http_client(asgi_server.url, user, timeout=30, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# Browser --------------------------------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def _playwright_browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while it waits; Django would then
    # refuse ORM calls made by the test itself between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class BrowserPage:
    """A Playwright page that records console errors and every request leaving 127.0.0.1."""

    def __init__(self, page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self.failed_responses: list[str] = []
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed_responses.append(f"{response.status} {response.url}")

    def _on_request(self, request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in (
            "127.0.0.1",
            "localhost",
        ):
            self.external_requests.append(request.url)

    def __getattr__(self, name: str):
        return getattr(self.page, name)


@pytest.fixture
def browser_page(_playwright_browser, asgi_server) -> Iterator[BrowserPage]:
    context = _playwright_browser.new_context(base_url=asgi_server.url, locale="ru-RU")
    context.set_default_timeout(10_000)
    page = BrowserPage(context.new_page())
    yield page
    context.close()


@pytest.fixture
def login_browser(asgi_server):
    """Signs `user` in inside the browser context by planting a real session cookie."""

    def login(page: BrowserPage, user) -> None:
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": helpers.session_key_for(user),
                    "url": asgi_server.url,
                }
            ]
        )

    return login
