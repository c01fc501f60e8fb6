"""The test toolkit's plain functions; its fixtures are in tests/conftest.py.

Money goes into wallets through the wallet service (real ledger entries); sessions are real
session-store rows; fresh processes run with a chosen environment. Nothing here replaces our
own code: these are the steps a test would otherwise write out again.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import httpx
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core import mail
from django.db import connection
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.crypto import get_random_string
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# The fixed price of the media models the tests create (tests/conftest.py).
MEDIA_PRICE = Decimal("12.50")


# Money ----------------------------------------------------------------------------------------
def fund(user, amount: str = "100.00"):
    """Tops `user` up by `amount` through the wallet service; returns the wallet."""
    from wallets.services import wallet_credit

    wallet_credit(user=user, amount=Decimal(amount), reference=f"test:fund:{uuid.uuid4()}")
    return wallet_of(user)


def wallet_of(user):
    from wallets.models import Wallet

    return Wallet.objects.get(pk=user.pk)


def balance(user) -> Decimal:
    return wallet_of(user).balance


def ledger_mismatches() -> list[str]:
    """Wallets whose balance is not the sum of their entries or held not the sum of open holds."""
    from wallets.models import Hold, LedgerEntry, Wallet

    def total(rows) -> Coalesce:
        summed = rows.values("wallet").annotate(total=Sum("amount")).values("total")
        return Coalesce(Subquery(summed), Value(Decimal(0)), output_field=DecimalField())

    problems = []
    wallets = Wallet.objects.annotate(
        entries_sum=total(LedgerEntry.objects.filter(wallet=OuterRef("pk"))),
        open_held=total(Hold.objects.filter(wallet=OuterRef("pk"), status=Hold.Status.OPEN)),
    )
    for wallet in wallets:
        # Compared in Python: SQLite sums decimals as floats.
        if wallet.balance != Decimal(wallet.entries_sum).quantize(Decimal("0.01")):
            problems.append(f"wallet {wallet.pk}: balance {wallet.balance} != entries {wallet.entries_sum}")
        if wallet.held != Decimal(wallet.open_held).quantize(Decimal("0.01")):
            problems.append(f"wallet {wallet.pk}: held {wallet.held} != open holds {wallet.open_held}")
    return problems


# SQL ----------------------------------------------------------------------------------------------
class StatementLog:
    """Every SQL statement any thread sends while it is open (`with StatementLog() as log:`):
    Django's execute wrapper on each connection, which a thread's (re)connect picks up. Server
    code runs on pooled threads whose connections come and go; this sees them all."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def _wrapper(self, execute, sql, params, many, context):
        with self._lock:
            self.statements.append(sql)
        return execute(sql, params, many, context)

    def _attach(self, sender=None, connection=connection, **kwargs) -> None:
        if self._wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(self._wrapper)

    def __enter__(self) -> StatementLog:
        from django.db.backends.signals import connection_created

        connection_created.connect(self._attach)
        self._attach(connection=connection)
        return self

    def __exit__(self, *exc) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        connection_created.disconnect(self._attach)
        for conn in connections.all(initialized_only=True):
            if self._wrapper in conn.execute_wrappers:
                conn.execute_wrappers.remove(self._wrapper)

    def __len__(self) -> int:
        return len(self.statements)


# Concurrency and time -----------------------------------------------------------------------------
def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Runs `work(i)` for i in range(count) from `count` threads released together, each with its
    own database connection. Returns each call's result or the exception it raised, in order."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on (for a server started next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    """Returns once something accepts connections on the loopback's `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float = 15.0,
    pause: Callable[[float], object] = time.sleep,
    message: str = "condition not met in time",
):
    """Polls `condition()` until it is true and returns its value; the deadline only bounds a
    broken test. `pause` waits between polls: a Playwright page's `wait_for_timeout` (in
    milliseconds, see `browser_pause`) lets the browser's events arrive meanwhile."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, message
        pause(0.02)
    return value


def browser_pause(page) -> Callable[[float], object]:
    """`wait_until`'s pause for a test driving `page`: Playwright's sync API delivers events
    (frames, requests) only while it is waited on."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


# Sessions and clients -----------------------------------------------------------------------------
def session_key_for(user) -> str:
    """A real session of `user` in the configured session store, as signing in leaves it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def http_client(base_url: str, user=None, **kwargs) -> httpx.Client:
    """A browser-like client for a live server: `user`'s session cookie (if any) and a CSRF
    cookie with its header."""
    token = get_random_string(32)
    cookies = {settings.CSRF_COOKIE_NAME: token}
    if user is not None:
        cookies[settings.SESSION_COOKIE_NAME] = session_key_for(user)
    return httpx.Client(base_url=base_url, cookies=cookies, headers={"X-CSRFToken": token}, **kwargs)


def send(client: httpx.Client, **body) -> tuple[int, list[dict] | dict]:
    """POSTs a chat message to the stream; returns the status and the NDJSON lines (or the JSON
    answer when there is no stream)."""
    response = client.post(reverse("chats-send"), json=body)
    if response.headers["content-type"].startswith("application/x-ndjson"):
        return response.status_code, [json.loads(line) for line in response.text.splitlines()]
    return response.status_code, response.json()


# Signing in by email ------------------------------------------------------------------------------
CODE_LINE = re.compile(r"^[A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*$")


def code_from_outbox(email: str) -> str:
    """The code in the last message sent to `email`."""
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    codes = [line.strip() for line in message.body.splitlines() if CODE_LINE.match(line.strip())]
    assert codes, message.body
    return codes[-1]


def request_code(client, email: str, commit):
    """Posts the sign-in form; `commit` (the fixture) runs the mail task queued on commit."""
    with commit(execute=True):
        return client.post(reverse("email_sign_in"), {"email": email})


def sign_in_by_email(client, email: str, commit):
    """Requests a code for `email`, reads it from the outbox and confirms it."""
    response = request_code(client, email, commit)
    assert response.status_code == 302, response.content
    with commit(execute=True):
        return client.post(response["Location"], {"code": code_from_outbox(email)})


# Data ---------------------------------------------------------------------------------------------
def seed_catalog() -> None:
    """The catalog the migrations seed. Transactional tests flush the database, migration data
    included; this runs the seeding migration's own function again (it skips existing rows)."""
    from catalog.models import AIModel

    seeding = import_module("chats.migrations.0003_seed_catalog")
    seeding.seed(SimpleNamespace(get_model=lambda app_label, name: AIModel), None)


def image_bytes(image_format: str, size: tuple[int, int] = (40, 30), **save) -> bytes:
    out = io.BytesIO()
    mode = "P" if image_format == "GIF" else "RGB"
    Image.new(mode, size, "orange" if mode == "RGB" else 3).save(out, format=image_format, **save)
    return out.getvalue()


# Processes ----------------------------------------------------------------------------------------
# Set by this test session (the browser fixture) or by the caller's shell; a fresh process must
# start from the deployment's point of view.
_NOT_INHERITED = ("DEBUG", "SECRET_KEY", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")


def run_python(*args: str, **environ: str) -> subprocess.CompletedProcess:
    """Runs Python in a fresh process with a chosen environment: settings are read at import, so
    configurations (production, an unreachable database) are tested the way they are deployed."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **environ)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
