"""Chaos against the live app: six people, ten requests at a time, for a while — replies that
finish, fail before any content, fail mid-stream, lose their connection, are abandoned by the
browser; top-ups whose notification arrives one to three times; replays of old notifications
and of canceled payments — under three behaviours of OpenRouter's generation record (as it is:
404 then the record; down: 500; an HTML page under 200). Then the database must explain itself:
every wallet by its ledger, no hold left open, no reply left pending or given away free, every
paid top-up credited exactly once."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from django.db.models import Sum

from chats.models import Message
from payments.models import Payment
from tests.fakes.yookassa import FakeYooKassa
from tests.helpers import http_client, in_threads, ledger_mismatches, wait_until
from wallets.models import Hold, LedgerEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PEOPLE = 6
AT_ONCE = 10
OPERATIONS = 90
REPLIES = ["ok", "ok", "fail-before", "fail-mid", "drop", "abandon"]


def plan(body: dict) -> dict:
    """How the fake OpenRouter ends a reply: the prompt says (`chaos:<how>`)."""
    prompt = body["messages"][-1]["content"]
    how = prompt.split(":", 2)[1] if isinstance(prompt, str) and prompt.startswith("chaos:") else "ok"
    return {
        "fail-before": {"status": 502},
        "fail-mid": {"error_after": 3},
        "drop": {"drop_after": 4},
    }.get(how, {})


class Chaos:
    def __init__(self, *, server_url: str, people, model_id: str, yookassa: FakeYooKassa, seed: int):
        self.server_url = server_url
        self.people = people
        self.model_id = model_id
        self.yookassa = yookassa
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.notifications: list[dict] = []
        self.done: Counter = Counter()

    def _pick(self, options):
        with self.lock:
            return self.random.choice(options)

    def run_one(self, index: int) -> None:
        person = self._pick(self.people)
        action = self._pick(["reply"] * 6 + ["top-up", "top-up", "replay", "canceled"])
        with http_client(self.server_url, person, timeout=30) as client:
            if action == "reply":
                self.reply(client, self._pick(REPLIES))
            elif action == "top-up":
                self.top_up(client, times=self._pick([1, 2, 3]))
            elif action == "replay" and self.notifications:
                self.deliver(self._pick(self.notifications))
            elif action == "canceled":
                self.canceled(client)
        with self.lock:
            self.done[action] += 1

    def reply(self, client: httpx.Client, how: str) -> None:
        body = {"model": self.model_id, "message": f"chaos:{how}: tell me something"}
        with client.stream("POST", "/api/chats/send", json=body) as response:
            if how == "abandon" and response.status_code == 200:
                lines = response.iter_lines()
                next(lines, None)  # meta
                next(lines, None)  # a first piece of the reply, then the browser goes away
                return
            response.read()

    def top_up(self, client: httpx.Client, *, times: int) -> None:
        created = client.post("/api/payment/create", json={"amount": self._pick([100, 250, 500])})
        assert created.status_code == 200, created.text
        provider_id = Payment.objects.get(pk=created.json()["payment_id"]).yookassa_payment_id
        self.yookassa.succeed(provider_id)
        notification = self.yookassa.notification("payment.succeeded", provider_id)
        with self.lock:
            self.notifications.append(notification)
        for _ in range(times):
            self.deliver(notification)

    def canceled(self, client: httpx.Client) -> None:
        created = client.post("/api/payment/create", json={"amount": 100})
        assert created.status_code == 200, created.text
        provider_id = Payment.objects.get(pk=created.json()["payment_id"]).yookassa_payment_id
        self.yookassa.cancel(provider_id)
        self.deliver(self.yookassa.notification("payment.canceled", provider_id))

    def deliver(self, notification: dict) -> None:
        answer = httpx.post(f"{self.server_url}/api/payment/webhook", json=notification, timeout=30)
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("record", ["as-openrouter-does", "down", "html-under-200"])
def test_under_chaos_the_ledger_explains_every_wallet_and_every_hold_closes(
    make_user, chat_model, chat_settings, openrouter, yookassa, asgi_server, settings, record
):
    settings.YOOKASSA_WEBHOOK_IPS = ["127.0.0.1"]  # the live server sees the test as its peer
    # Six people send far faster than the per-user limits allow (tests/config/test_rate_limits.py
    # proves those); here every request must reach the money paths.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "chat_send": "1000/m", "payment_create": "1000/m"}
    settings.PAYMENTS_MAX_PENDING = 1000
    openrouter.tokens = [f"word{i} " for i in range(12)]
    openrouter.pace = 0.005
    openrouter.plan = plan
    if record == "as-openrouter-does":
        openrouter.generation_misses = 1
    else:
        openrouter.generation_answer = {"down": "error", "html-under-200": "html"}[record]
    people = [make_user(f"email_chaos{i}", email=f"chaos{i}@example.com") for i in range(PEOPLE)]
    chaos = Chaos(
        server_url=asgi_server.url, people=people, model_id=chat_model.model_id, yookassa=yookassa, seed=19
    )
    for person in people:
        with http_client(asgi_server.url, person, timeout=30) as client:
            chaos.top_up(client, times=1)

    # Each of the AT_ONCE threads closes its database connection when done (the pool is shared
    # with the live server in this process).
    outcomes = in_threads(
        AT_ONCE, lambda thread: [chaos.run_one(index) for index in range(thread, OPERATIONS, AT_ONCE)]
    )
    assert [outcome for outcome in outcomes if isinstance(outcome, Exception)] == []

    # Abandoned replies finish their bookkeeping on the server a moment after the client left.
    wait_until(
        lambda: (
            not Hold.objects.filter(status=Hold.Status.OPEN).exists()
            and not Message.objects.filter(status=Message.Status.PENDING).exists()
        ),
        timeout=60,
        message="holds or replies left open",
    )
    assert chaos.done["reply"] > 30 and chaos.done["top-up"] > 5
    assert ledger_mismatches() == []
    # No reply that delivered text went free: each has its charge, never more than its hold.
    for message in Message.objects.filter(role=Message.Role.ASSISTANT).exclude(content=""):
        hold = Hold.objects.get(reference=f"msg:{message.pk}")
        assert hold.status == Hold.Status.SETTLED, (message.pk, message.status, hold.status)
        charge = LedgerEntry.objects.get(reference=f"msg:{message.pk}")
        assert 0 < -charge.amount <= hold.amount
    # Every paid top-up credited once, whatever arrived how often; canceled ones never.
    succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED)
    credits = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.TOPUP)
    assert credits.count() == succeeded.count()
    assert (
        credits.aggregate(total=Sum("amount"))["total"] == succeeded.aggregate(total=Sum("amount"))["total"]
    )
    assert not LedgerEntry.objects.filter(
        reference__in=[
            f"yookassa:{p.yookassa_payment_id}"
            for p in Payment.objects.filter(status=Payment.Status.CANCELED)
        ]
    ).exists()
    for person in people:
        person.wallet.refresh_from_db()
        assert person.wallet.balance >= Decimal(0)
