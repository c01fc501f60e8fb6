"""`POST /api/chats/send` through uvicorn against the fake OpenRouter: the NDJSON protocol, the
answers before any stream, and what each ending of a reply costs."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from websockets.sync.client import connect as websocket_connect

from accounts.middleware import SEEN_KEY, STARTED_KEY
from chats.models import Chat, Message
from chats.pricing import reply_cost
from tests.helpers import balance, fund, send, session_key_for
from wallets.models import Hold, LedgerEntry, Wallet

pytestmark = pytest.mark.django_db(transaction=True)


def expected_charge(model, *, tokens_in: int, tokens_out: int) -> Decimal:
    return reply_cost(
        cost_input=model.cost_input, cost_output=model.cost_output, tokens_in=tokens_in, tokens_out=tokens_out
    )


def test_a_reply_streams_as_meta_content_balance_and_is_charged_by_the_formula(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    openrouter.tokens = ["Привет", ", ", "мир", "!"]
    openrouter.prompt_tokens = 20

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Здравствуй")

    assert status == 200
    assert [line["type"] for line in lines] == ["meta", "content", "content", "content", "content", "balance"]
    chat = Chat.objects.get(user=alice)
    assert lines[0] == {"type": "meta", "chat_id": chat.pk}
    assert "".join(line["text"] for line in lines if line["type"] == "content") == "Привет, мир!"
    # (20 × $100 + 4 × $1000) / 1M × 90 × 1.5 = 0.81 ₽
    charge = expected_charge(chat_model, tokens_in=20, tokens_out=4)
    assert charge == Decimal("0.81")
    assert balance(alice) == Decimal("100.00") - charge
    assert lines[-1] == {"type": "balance", "balance": float(Decimal("100.00") - charge)}
    reply = chat.messages.get(role=Message.Role.ASSISTANT)
    assert (reply.content, reply.status, reply.tokens_in, reply.tokens_out, reply.cost) == (
        "Привет, мир!",
        Message.Status.COMPLETE,
        20,
        4,
        charge,
    )
    entry = LedgerEntry.objects.get(wallet_id=alice.pk, kind=LedgerEntry.Kind.CHARGE)
    assert (entry.reference, entry.amount) == (f"msg:{reply.pk}", -charge)
    assert entry.metadata["chat_id"] == chat.pk
    assert entry.metadata["model"] == chat_model.model_id


def test_the_settled_balance_reaches_the_users_open_pages(
    alice, chat_model, openrouter, client_for, asgi_server
):
    # The settle runs on a pooled thread and hands the push to the event loop without waiting.
    fund(alice, "100.00")
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={session_key_for(alice)}"
    url = asgi_server.url.replace("http://", "ws://") + "/ws/balance/"
    with websocket_connect(url, additional_headers={"Cookie": cookie, "Origin": asgi_server.url}) as socket:
        assert json.loads(socket.recv(timeout=5))["balance"] == "100.00"

        status, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

        assert status == 200
        pushed = json.loads(socket.recv(timeout=5))
    left = str(balance(alice))
    assert left != "100.00"
    assert pushed == {"balance": left, "held": "0.00", "available": left}
    assert lines[-1] == {"type": "balance", "balance": float(left)}


def test_deltas_that_arrive_in_one_read_are_all_relayed_in_order(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    openrouter.tokens = ["Один", " два", " три", " четыре", " пять"]
    openrouter.together = True

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Считай")

    assert status == 200
    assert [line["type"] for line in lines] == ["meta"] + ["content"] * 5 + ["balance"]
    assert [line["text"] for line in lines[1:-1]] == openrouter.tokens
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.content == "Один два три четыре пять"
    assert reply.cost == expected_charge(chat_model, tokens_in=20, tokens_out=5)


def test_the_request_upstream_streams_with_a_budget_the_hold_can_pay(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100000.00")

    send(client_for(alice), model=chat_model.model_id, message="Hi")

    body = openrouter.chat_requests()[0].json()
    assert body["stream"] is True
    assert body["model"] == chat_model.model_id
    assert body["max_tokens"] == 100  # CHAT_MAX_COMPLETION_TOKENS
    # However rich the user, the reply went through a hold that covers its whole budget.
    hold = Hold.objects.get(wallet_id=alice.pk)
    assert hold.status == Hold.Status.SETTLED
    assert hold.amount >= expected_charge(
        chat_model, tokens_in=hold.metadata["prompt_tokens"], tokens_out=100
    )
    assert hold.metadata["max_tokens"] == 100


def test_a_small_balance_cuts_the_reply_budget_instead_of_refusing(alice, chat_model, openrouter, client_for):
    # Enough for ~30 reply tokens (0.135 ₽ each) after the prompt.
    fund(alice, "4.50")
    openrouter.tokens = ["tok "] * 60

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert status == 200
    max_tokens = openrouter.chat_requests()[0].json()["max_tokens"]
    assert 10 <= max_tokens < 40
    assert len([line for line in lines if line["type"] == "content"]) == max_tokens
    assert balance(alice) >= 0
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.cost == expected_charge(chat_model, tokens_in=20, tokens_out=max_tokens)


def test_previous_messages_go_upstream_in_order(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    client = client_for(alice)
    openrouter.tokens = ["Первый ответ"]
    _, lines = send(client, model=chat_model.model_id, message="Первый вопрос")
    chat_id = lines[0]["chat_id"]
    openrouter.tokens = ["Второй ответ"]
    send(client, model=chat_model.model_id, message="Второй вопрос", chat_id=chat_id)

    send(client, model=chat_model.model_id, message="Третий вопрос", chat_id=chat_id)

    assert openrouter.chat_requests()[-1].json()["messages"] == [
        {"role": "user", "content": "Первый вопрос"},
        {"role": "assistant", "content": "Первый ответ"},
        {"role": "user", "content": "Второй вопрос"},
        {"role": "assistant", "content": "Второй ответ"},
        {"role": "user", "content": "Третий вопрос"},
    ]


def test_history_is_trimmed_to_the_models_context(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    client = client_for(alice)
    _, lines = send(client, model=chat_model.model_id, message="старый " * 100)
    chat_id = lines[0]["chat_id"]
    chat_model.context_length = 200  # room for the new question and the short reply only
    chat_model.save()

    send(client, model=chat_model.model_id, message="новый вопрос", chat_id=chat_id)

    messages = openrouter.chat_requests()[-1].json()["messages"]
    assert messages[-1] == {"role": "user", "content": "новый вопрос"}
    assert messages[0] == {"role": "assistant", "content": "Hello, world!"}
    assert all("старый" not in str(message["content"]) for message in messages)


def test_images_go_upstream_as_image_parts_for_vision_models(alice, vision_model, openrouter, client_for):
    from media.models import Upload

    fund(alice, "100.00")
    url = "https://cdn.example.com/uploads/cat.png"
    Upload.objects.create(
        owner=alice, url=url, name="uploads/cat.png", size=10, content_type="image/png", width=1, height=1
    )

    status, _ = send(client_for(alice), model=vision_model.model_id, message="Кто это?", image_urls=[url])

    assert status == 200
    assert openrouter.chat_requests()[0].json()["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Кто это?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]
    question = Message.objects.get(role=Message.Role.USER)
    assert (question.image_url, question.image_urls) == (url, [url])


def test_somebody_elses_image_is_refused(alice, bob, vision_model, openrouter, client_for):
    from media.models import Upload

    fund(alice, "100.00")
    url = "https://cdn.example.com/uploads/bobs.png"
    Upload.objects.create(
        owner=bob, url=url, name="uploads/bobs.png", size=10, content_type="image/png", width=1, height=1
    )

    status, body = send(client_for(alice), model=vision_model.model_id, message="?", image_urls=[url])

    assert status == 400
    assert "detail" in body
    assert openrouter.chat_requests() == []


# Answers before any stream ---------------------------------------------------------------------
def test_a_signed_out_caller_gets_401_json(chat_model, openrouter, client_for):
    status, body = send(client_for(), model=chat_model.model_id, message="Hi")

    assert status == 401
    assert "detail" in body
    assert openrouter.chat_requests() == []


def test_a_wallet_that_cannot_pay_a_minimal_reply_gets_402_and_nothing_is_kept(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "1.00")  # a minimal reply (10 tokens) costs 1.35 ₽

    status, body = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert status == 402
    assert "detail" in body
    assert balance(alice) == Decimal("1.00")
    assert Hold.objects.count() == 0
    assert Chat.objects.count() == 0
    assert openrouter.chat_requests() == []


def test_a_user_without_a_wallet_gets_402(alice, chat_model, openrouter, client_for):
    status, _ = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert status == 402


def test_another_users_chat_is_404_and_nothing_is_charged(alice, bob, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    bobs_chat = Chat.objects.create(user=bob, model=chat_model.model_id)

    status, body = send(client_for(alice), model=chat_model.model_id, message="Hi", chat_id=bobs_chat.pk)

    assert status == 404
    assert "detail" in body
    assert balance(alice) == Decimal("100.00")
    assert bobs_chat.messages.count() == 0
    assert Hold.objects.count() == 0


@pytest.mark.parametrize("model_id", ["nobody/unknown", "test/disabled"])
def test_an_unknown_or_disabled_model_is_404(alice, chat_model, openrouter, client_for, model_id):
    fund(alice, "100.00")
    chat_model.model_id, chat_model.enabled = "test/disabled", False
    chat_model.save()

    status, body = send(client_for(alice), model=model_id, message="Hi")

    assert status == 404
    assert "detail" in body
    assert Hold.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"message": ""},
        {"message": "   "},
        {"message": "x" * 32001},
        {"message": 5},
        {"message": "Hi", "chat_id": "1"},
        {"message": "Hi", "image_urls": "https://x"},
    ],
)
def test_a_bad_message_is_400(alice, chat_model, openrouter, client_for, body):
    fund(alice, "100.00")

    status, answer = send(client_for(alice), model=chat_model.model_id, **body)

    assert status == 400
    assert "detail" in answer
    assert Hold.objects.count() == 0


def test_a_body_that_is_not_json_is_400(alice, chat_model, openrouter, client_for):
    response = client_for(alice).post("/api/chats/send", content=b"{oops")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_images_for_a_model_without_vision_are_400(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")

    status, _ = send(
        client_for(alice), model=chat_model.model_id, message="?", image_urls=["https://x/y.png"]
    )

    assert status == 400


# Failures ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("upstream_status", [401, 402, 429, 502])
def test_an_upstream_error_before_content_charges_nothing(
    alice, chat_model, openrouter, client_for, upstream_status
):
    fund(alice, "100.00")
    openrouter.status = upstream_status

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert status == 200
    assert [line["type"] for line in lines] == ["meta", "error"]
    assert lines[-1]["text"]
    assert "Деньги не списаны" in lines[-1]["text"]
    assert balance(alice) == Decimal("100.00")
    assert Wallet.objects.get(pk=alice.pk).held == 0
    assert Hold.objects.get().status == Hold.Status.RELEASED
    assert Message.objects.get(role=Message.Role.ASSISTANT).status == Message.Status.ERROR


def test_a_hanging_upstream_is_bounded_by_the_read_timeout(
    alice, chat_model, openrouter, client_for, settings
):
    fund(alice, "100.00")
    settings.OPENROUTER_READ_TIMEOUT = 0.5
    openrouter.hang = True

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert status == 200
    assert [line["type"] for line in lines] == ["meta", "error"]
    assert balance(alice) == Decimal("100.00")
    assert Hold.objects.get().status == Hold.Status.RELEASED


def test_an_unreachable_upstream_charges_nothing(alice, chat_model, openrouter, client_for, settings):
    fund(alice, "100.00")
    settings.OPENROUTER_BASE_URL = "http://127.0.0.1:9/api/v1"  # the discard port: refused

    _, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert [line["type"] for line in lines] == ["meta", "error"]
    assert balance(alice) == Decimal("100.00")


def test_an_error_event_mid_stream_charges_only_the_streamed_part(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    openrouter.tokens = ["один ", "два ", "три ", "четыре "]
    openrouter.error_after = 2

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert status == 200
    assert [line["type"] for line in lines] == ["meta", "content", "content", "error"]
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert (reply.content, reply.status) == ("один два ", Message.Status.PARTIAL)
    # No usage came: the charge is what OpenRouter recorded for the generation (2 tokens).
    charge = expected_charge(chat_model, tokens_in=20, tokens_out=2)
    assert (reply.tokens_out, reply.cost) == (2, charge)
    assert balance(alice) == Decimal("100.00") - charge
    assert openrouter.generation_requests()[0].query == {"id": ["gen-1"]}


def test_a_dropped_connection_mid_stream_keeps_the_partial_reply_and_charges_it(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    openrouter.tokens = ["a", "b", "c", "d", "e"]
    openrouter.drop_after = 3

    _, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert [line["type"] for line in lines] == ["meta", "content", "content", "content", "error"]
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert (reply.content, reply.status) == ("abc", Message.Status.PARTIAL)
    assert reply.cost == expected_charge(chat_model, tokens_in=20, tokens_out=3)


def test_a_reply_without_usage_ends_with_the_balance_and_is_charged_from_openrouters_record(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    openrouter.usage_in_stream = False

    _, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert [line["type"] for line in lines] == ["meta", "content", "content", "content", "content", "balance"]
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert (reply.status, reply.tokens_out) == (Message.Status.COMPLETE, 4)
    assert reply.cost == expected_charge(chat_model, tokens_in=20, tokens_out=4)
    assert balance(alice) == Decimal("100.00") - reply.cost


def test_without_openrouters_record_the_partial_reply_is_charged_by_estimate(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    openrouter.tokens = ["abcd", "efgh", "ijkl"]
    openrouter.error_after = 2
    openrouter.generation_misses = 1000

    send(client_for(alice), model=chat_model.model_id, message="Hi")

    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    hold = Hold.objects.get()
    # Retried, then estimated: the prompt estimate and 8 bytes of text ≈ 2 tokens.
    assert len(openrouter.generation_requests()) == 7
    assert hold.status == Hold.Status.SETTLED
    assert reply.cost == expected_charge(chat_model, tokens_in=hold.metadata["prompt_tokens"], tokens_out=2)
    assert reply.cost <= hold.amount


def test_the_settle_task_charges_once_however_often_it_runs(alice, chat_model, openrouter, client_for):
    from chats import tasks

    fund(alice, "100.00")
    openrouter.tokens = ["a", "b", "c"]
    openrouter.error_after = 2
    send(client_for(alice), model=chat_model.model_id, message="Hi")
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    after_first = balance(alice)

    tasks.reply_settle_from_generation.delay(reply.pk, "gen-1")

    assert balance(alice) == after_first
    assert LedgerEntry.objects.filter(reference=f"msg:{reply.pk}").count() == 1


def test_ndjson_lines_are_json_objects_with_a_content_type(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")

    response = client_for(alice).post("/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"})

    assert response.headers["content-type"] == "application/x-ndjson"
    assert all(isinstance(json.loads(line), dict) for line in response.text.splitlines())


def test_a_post_without_the_csrf_token_is_refused(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    client = client_for(alice)
    del client.headers["X-CSRFToken"]

    status, body = send(client, model=chat_model.model_id, message="Hi")

    assert status == 403
    assert "detail" in body
    assert Hold.objects.count() == 0
    assert openrouter.chat_requests() == []


def test_without_an_openrouter_key_a_chat_model_answers_503_and_holds_nothing(
    alice, chat_model, client_for, settings
):
    fund(alice, "100.00")
    settings.OPENROUTER_API_KEY = ""

    status, lines = send(client_for(alice), model=chat_model.model_id, message="Здравствуй")

    assert status == 503
    assert lines == {"detail": "Чат пока не настроен: обратитесь в поддержку."}
    assert not Hold.objects.exists()
    assert balance(alice) == Decimal("100.00")


# The stream's own middleware chain (config/stream.py) ------------------------------------------
def _session_key(client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME]


def test_a_session_past_its_absolute_lifetime_cannot_stream(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    client = client_for(alice)
    session = import_module(django_settings.SESSION_ENGINE).SessionStore(_session_key(client))
    long_ago = time.time() - django_settings.SESSION_ABSOLUTE_LIFETIME - 60
    session[STARTED_KEY] = long_ago
    session[SEEN_KEY] = time.time()
    session.save()

    status, body = send(client, model=chat_model.model_id, message="Hi")

    assert status == 401
    assert "detail" in body
    assert openrouter.chat_requests() == []
    assert not Hold.objects.exists()


def test_a_session_from_before_a_password_change_cannot_stream(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    client = client_for(alice)
    alice.set_password("a new password, so the session's auth hash is stale")
    alice.save()

    status, body = send(client, model=chat_model.model_id, message="Hi")

    assert status == 401
    assert "detail" in body
    assert openrouter.chat_requests() == []
    assert not Hold.objects.exists()


def test_a_session_missing_from_the_cache_is_read_from_the_database(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    cache.clear()

    status, lines = send(client, model=chat_model.model_id, message="Hi")

    assert status == 200
    assert [line["type"] for line in lines][-1] == "balance"


def test_the_stream_carries_the_security_headers_and_no_session_rewrite(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    send(client, model=chat_model.model_id, message="Hi")  # the first request stamps the lifetime
    response = client.post("/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"})

    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    # Within SESSION_TOUCH_INTERVAL a reply does not write the session again.
    assert django_settings.SESSION_COOKIE_NAME not in response.headers.get("set-cookie", "")


def test_a_reply_starts_no_thread_of_its_own(alice, chat_model, openrouter, client_for, monkeypatch):
    # Django's ASGI handler sends request_started and closes the response through a new
    # thread per request (and joins it from another); the stream's handler does that
    # bookkeeping in the loop, and its database work goes to a pool that is already running.
    fund(alice, "100.00")
    client = client_for(alice)
    for _ in range(3):  # the pools (threads, connections) fill up
        assert send(client, model=chat_model.model_id, message="Hi")[0] == 200
    started: list[str] = []
    start = threading.Thread.start

    def record(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", record)

    for _ in range(3):
        status, lines = send(client, model=chat_model.model_id, message="Hi")
        assert (status, lines[-1]["type"]) == (200, "balance")

    assert started == []


def test_the_request_signals_have_only_receivers_that_may_run_in_the_loop():
    # The stream's handler calls these signals' receivers in the event loop (config/stream.py):
    # a new receiver must be sync and do no I/O there, or the handler must change with it.
    def names(signal) -> set[str]:
        return {receiver().__qualname__ for _, receiver, _ in signal.receivers}

    assert names(request_started) == {"reset_queries", "close_old_connections"}
    assert names(request_finished) == {"close_old_connections", "close_caches", "reset_urlconf"}
