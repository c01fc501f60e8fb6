"""Fixtures shared by every app's tests: users, fake external servers, a live ASGI server and a
browser. Tests run against whatever DATABASE_URL / REDIS_URL point at (SQLite and local memory
when unset; PostgreSQL and Redis in CI)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from config.celery import app as celery_app
from tests.fakes.server import FakeHandler, FakeServer

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


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline() -> None:
    # Tasks run in the test process, with their real retry logic; no worker is needed.
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    # Staff users in admin tests have passwords; PBKDF2's deliberate slowness buys a test nothing.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


# Users ----------------------------------------------------------------------------------------
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


# Fake external servers ------------------------------------------------------------------------
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
        config = uvicorn.Config(application, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()
        return f"http://{host}:{port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
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
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.base import SessionBase

    def login(page: BrowserPage, user) -> None:
        store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": asgi_server.url}]
        )

    return login
