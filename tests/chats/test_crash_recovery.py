"""A reply whose server dies mid-stream is finished by the sweeper: charged for what OpenRouter
generated (its record of the generation), what was received kept, the hold closed and the
message `interrupted`, a few minutes at most after the crash instead of the hold's whole TTL.

The crash is real: the app runs as its own process under bin/serve, killed with SIGKILL in the
middle of a reply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.core.cache import cache
from django.db import connection

from chats import services
from chats.models import Message
from chats.pricing import estimate_tokens, reply_cost
from tests.fakes.openrouter import API_KEY
from tests.helpers import (
    ROOT,
    balance,
    free_port,
    fund,
    http_client,
    ledger_mismatches,
    send,
    wait_until,
    wallet_of,
)
from wallets.models import Hold, LedgerEntry

pytestmark = [pytest.mark.django_db(transaction=True)]


class AppProcess:
    """The app as production serves it (bin/serve: uvicorn, one worker here), on this test's
    database and Redis, in its own process."""

    def __init__(self, **environ: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        db = connection.settings_dict
        env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            DEBUG="true",
            APP_HOST="127.0.0.1",
            APP_PORT=str(self.port),
            APP_WORKERS="1",
            UVICORN=str(Path(sys.executable).parent / "uvicorn"),
            **environ,
        )
        self.process = subprocess.Popen(
            [str(ROOT / "bin" / "serve")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(self._up, timeout=30, message="the app process did not start")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.process.stderr.read().decode()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def app_process(openrouter, settings):
    started = []

    def start() -> AppProcess:
        app = AppProcess(
            OPENROUTER_BASE_URL=openrouter.base_url,
            OPENROUTER_API_KEY=API_KEY,
            USD_RUB_RATE=str(settings.USD_RUB_RATE),
            PRICE_MARKUP=str(settings.PRICE_MARKUP),
            CHAT_MAX_COMPLETION_TOKENS=str(settings.CHAT_MAX_COMPLETION_TOKENS),
            CHAT_MIN_COMPLETION_TOKENS=str(settings.CHAT_MIN_COMPLETION_TOKENS),
            CHAT_REPLY_HEARTBEAT_SECONDS="0.1",
        )
        started.append(app)
        return app

    yield start
    for app in started:
        if app.process.poll() is None:
            app.kill()


@pytest.mark.postgres
def test_a_reply_whose_server_is_killed_mid_stream_is_billed_for_what_was_generated(
    alice, chat_model, openrouter, app_process, settings
):
    settings.CHAT_REPLY_GRACE_SECONDS = 3
    fund(alice, "100.00")
    openrouter.tokens = ["tok "] * 100
    openrouter.pace = 0.02
    app = app_process()

    received = []
    body = {"model": chat_model.model_id, "message": "Hi"}
    with (
        http_client(app.url, alice, timeout=10) as client,
        client.stream("POST", "/api/chats/send", json=body) as reply,
    ):
        for line in reply.iter_lines():
            event = json.loads(line)
            if event["type"] == "content":
                received.append(event["text"])
            if len(received) == 50:
                app.kill()
                break
    wait_until(openrouter.closed_early.is_set, timeout=10, message="OpenRouter never saw the client go")

    message = Message.objects.get(role=Message.Role.ASSISTANT)
    hold = Hold.objects.get(reference=f"msg:{message.pk}")
    assert (message.status, hold.status) == (Message.Status.PENDING, Hold.Status.OPEN)
    assert message.upstream_generation_id == "gen-1"
    assert wallet_of(alice).held == hold.amount

    # Within the grace period the reply may still be streaming: the sweeper leaves it alone.
    assert services.replies_sweep() == 0
    time.sleep(settings.CHAT_REPLY_GRACE_SECONDS)
    assert services.replies_sweep() == 1

    message.refresh_from_db()
    hold.refresh_from_db()
    generated = openrouter.generations["gen-1"]["native_tokens_completion"]
    assert 50 <= generated < 100
    cost = reply_cost(
        cost_input=chat_model.cost_input,
        cost_output=chat_model.cost_output,
        tokens_in=openrouter.prompt_tokens,
        tokens_out=generated,
    )
    assert message.status == Message.Status.INTERRUPTED
    # What was saved before the kill (the last heartbeat's text), never more than was relayed.
    assert message.content and "".join(received).startswith(message.content)
    assert (message.tokens_in, message.tokens_out, message.cost) == (
        openrouter.prompt_tokens,
        generated,
        cost,
    )
    assert (hold.status, hold.charged) == (Hold.Status.SETTLED, cost)
    entry = LedgerEntry.objects.get(reference=f"msg:{message.pk}")
    assert entry.amount == -cost
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("100.00") - cost, 0)
    assert ledger_mismatches() == []
    # A second sweep finds nothing: the reply is finished once.
    assert services.replies_sweep() == 0
    assert LedgerEntry.objects.filter(reference=f"msg:{message.pk}").count() == 1


def _pending_reply(user, chat_model, *, generation_id: str = "") -> Message:
    """The state a crash leaves: the reply started (message pending, hold open), then nothing."""
    turn = services.reply_start(user=user, model_id=chat_model.model_id, text="Hi")
    if generation_id:
        services.reply_record_generation(message_id=turn.message_id, generation_id=generation_id)
    return Message.objects.get(pk=turn.message_id)


def _later(settings) -> float:
    return time.time() + settings.CHAT_REPLY_GRACE_SECONDS + 1


def test_a_reply_that_never_reached_openrouter_has_its_hold_released(alice, chat_model, openrouter, settings):
    fund(alice, "100.00")
    message = _pending_reply(alice, chat_model)

    assert services.replies_sweep(now=_later(settings)) == 1

    message.refresh_from_db()
    assert (message.status, message.content) == (Message.Status.INTERRUPTED, "")
    assert Hold.objects.get(reference=f"msg:{message.pk}").status == Hold.Status.RELEASED
    assert (balance(alice), wallet_of(alice).held) == (Decimal("100.00"), 0)
    assert not LedgerEntry.objects.filter(reference=f"msg:{message.pk}").exists()
    assert openrouter.generation_requests() == []


def test_a_reply_without_a_generation_record_is_charged_by_an_estimate_of_what_was_saved(
    alice, chat_model, openrouter, settings
):
    fund(alice, "100.00")
    message = _pending_reply(alice, chat_model, generation_id="gen-unknown")
    openrouter.generation_answer = "error"
    text = "a few words that reached the user"
    cache.set(services.reply_progress_key(message.pk), {"text": text, "at": time.time() - 3600})

    assert services.replies_sweep(now=_later(settings)) == 1

    message.refresh_from_db()
    hold = Hold.objects.get(reference=f"msg:{message.pk}")
    assert (message.status, message.content) == (Message.Status.INTERRUPTED, text)
    assert hold.status == Hold.Status.SETTLED
    assert message.tokens_out == estimate_tokens(text)
    assert 0 < hold.charged == message.cost
    assert wallet_of(alice).held == 0
    assert ledger_mismatches() == []


def test_a_reply_still_streaming_is_left_alone(alice, chat_model, openrouter, settings):
    fund(alice, "100.00")
    message = _pending_reply(alice, chat_model, generation_id="gen-1")
    later = _later(settings)
    cache.set(services.reply_progress_key(message.pk), {"text": "so far", "at": later - 1})

    assert services.replies_sweep(now=later) == 0

    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    assert Hold.objects.get(reference=f"msg:{message.pk}").status == Hold.Status.OPEN


def test_a_finished_reply_is_not_swept(alice, chat_model, openrouter, client_for, settings):
    fund(alice, "100.00")
    send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert services.replies_sweep(now=_later(settings)) == 0
    assert Message.objects.get(role=Message.Role.ASSISTANT).status == Message.Status.COMPLETE


def test_the_sweeper_runs_every_minute_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["chats-replies-sweep"]
    assert (entry["task"], entry["schedule"]) == ("chats.tasks.replies_sweep", 60.0)
    assert settings.CHAT_REPLY_GRACE_SECONDS > settings.OPENROUTER_READ_TIMEOUT
