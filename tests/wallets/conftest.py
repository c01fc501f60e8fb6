"""Wallet test helpers: the ledger invariant is checked after every test that touched the
database, and `in_threads` runs a function from many threads at once (own connections each)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from wallets.models import Hold, Wallet


def ledger_mismatches() -> list[str]:
    """Wallets whose balance is not the sum of their entries or held not the sum of open holds."""
    problems = []
    for wallet in Wallet.objects.annotate(
        entries_sum=Sum("entries__amount", default=Decimal(0)),
    ):
        if wallet.balance != wallet.entries_sum:
            problems.append(f"wallet {wallet.pk}: balance {wallet.balance} != entries {wallet.entries_sum}")
        open_held = Hold.objects.filter(wallet=wallet, status=Hold.Status.OPEN).aggregate(
            total=Sum("amount", default=Decimal(0))
        )["total"]
        if wallet.held != open_held:
            problems.append(f"wallet {wallet.pk}: held {wallet.held} != open holds {open_held}")
    return problems


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(request) -> Iterator[None]:
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
        assert ledger_mismatches() == []


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Runs `work(i)` for i in range(count) from `count` threads released together.

    Returns each call's result or the exception it raised, in order.
    """
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


@pytest.fixture
def funded(alice):
    """Alice with 100 ₽ in her wallet."""
    from wallets.services import wallet_credit

    wallet_credit(user=alice, amount=Decimal("100.00"), reference="test:seed")
    return alice


@pytest.fixture
def casdoor(fake_server, settings):
    """A fake Casdoor the real client talks to over HTTP, knowing Alice and Bob."""
    from tests.fakes import casdoor as fake_casdoor

    server = fake_casdoor.start(fake_server)
    settings.CASDOOR_INTERNAL_URL = server.url
    settings.CASDOOR_CLIENT_ID = fake_casdoor.CLIENT_ID
    settings.CASDOOR_CLIENT_SECRET = fake_casdoor.CLIENT_SECRET
    settings.CASDOOR_ORG = "built-in"
    settings.CASDOOR_TIMEOUT = 2
    for name in ("email_alice", "email_bob"):
        server.users[("built-in", name)] = {"owner": "built-in", "name": name, "displayName": name}
    return server


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Runs on_commit callbacks (the live push, queued tasks) at the end of `with commit(execute=True)`."""
    return django_capture_on_commit_callbacks
