"""The relay's timing and endings through uvicorn: lines leave as they arrive, a client that
hangs up stops the upstream, parallel replies never overspend, media models answer JSON."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import httpx
import pytest

from chats.models import Chat, Message
from chats.pricing import reply_cost
from tests.helpers import fund, http_client, send, wait_until
from wallets.models import Hold, LedgerEntry, Wallet

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_line_arrives_before_the_upstream_has_finished(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    openrouter.tokens = [f"t{i} " for i in range(20)]
    openrouter.pace = 0.1

    with client_for(alice).stream(
        "POST", "/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"}
    ) as response:
        lines = response.iter_lines()
        assert json.loads(next(lines))["type"] == "meta"
        first = json.loads(next(lines))
        assert first == {"type": "content", "text": "t0 "}
        assert not openrouter.finished.is_set()
        rest = [json.loads(line) for line in lines]

    assert openrouter.finished.is_set()
    assert rest[-1]["type"] == "balance"


def test_a_slow_first_byte_still_streams(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    openrouter.first_byte_delay = 0.3

    _, lines = send(client_for(alice), model=chat_model.model_id, message="Hi")

    assert [line["type"] for line in lines][-1] == "balance"


def test_a_client_that_hangs_up_stops_the_upstream_and_the_partial_reply_is_kept_and_charged(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    openrouter.tokens = ["t "] * 500
    openrouter.pace = 0.02

    with client_for(alice).stream(
        "POST", "/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"}
    ) as response:
        lines = response.iter_lines()
        received = [json.loads(next(lines)) for _ in range(4)]  # meta and three tokens

    assert openrouter.closed_early.wait(10)
    assert not openrouter.finished.is_set()
    wait_until(lambda: Hold.objects.filter(status=Hold.Status.SETTLED).exists())
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.status == Message.Status.PARTIAL
    assert reply.content.startswith("t t t ")
    assert len(reply.content) < 2 * 500
    # Billed as OpenRouter recorded the generation: every token it produced, capped by the hold.
    assert reply.tokens_out >= len(received) - 1
    expected = reply_cost(
        cost_input=chat_model.cost_input,
        cost_output=chat_model.cost_output,
        tokens_in=20,
        tokens_out=reply.tokens_out,
    )
    assert reply.cost == min(expected, Hold.objects.get().amount)
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("100.00") - reply.cost
    assert Wallet.objects.get(pk=alice.pk).held == 0


@pytest.mark.postgres
def test_ten_parallel_replies_on_a_wallet_that_pays_for_about_three_never_overspend(
    alice, chat_model, openrouter, asgi_server
):
    # A full reply holds 14 ₽ (100 tokens × 0.135 ₽ + the prompt); 41 ₽ pays for two full
    # budgets and one cut to what is left.
    fund(alice, "41.00")
    openrouter.tokens = ["a", "b", "c", "d"]
    openrouter.pace = 0.2

    async def one(client: httpx.AsyncClient) -> tuple[int, str]:
        response = await client.post("/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"})
        return response.status_code, response.text

    with http_client(asgi_server.url, alice) as signed_in:
        cookies, headers = dict(signed_in.cookies), dict(signed_in.headers)

    async def all_at_once() -> list[tuple[int, str]]:
        async with httpx.AsyncClient(
            base_url=asgi_server.url, cookies=cookies, headers=headers, timeout=30
        ) as client:
            return await asyncio.gather(*(one(client) for _ in range(10)))

    results = asyncio.run(all_at_once())

    started = [text for status, text in results if status == 200]
    refused = [text for status, text in results if status != 200]
    assert 3 <= len(started) < 10
    assert {status for status, _ in results if status != 200} == {402}
    assert all("detail" in json.loads(text) for text in refused)
    for text in started:
        assert [json.loads(line)["type"] for line in text.splitlines()][-1] == "balance"
    # Every reply that started was paid in full: 20 prompt + 4 reply tokens = 0.81 ₽ each.
    full = Decimal("0.81")
    replies = Message.objects.filter(role=Message.Role.ASSISTANT)
    assert replies.count() == len(started)
    assert all(reply.cost == full and reply.status == Message.Status.COMPLETE for reply in replies)
    wallet = Wallet.objects.get(pk=alice.pk)
    assert wallet.balance == Decimal("41.00") - full * len(started)
    assert wallet.balance >= 0
    assert wallet.held == 0
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == len(started)
    assert not Hold.objects.filter(status=Hold.Status.OPEN).exists()


def test_a_media_model_chosen_in_the_chat_answers_json_and_generates_through_the_media_service(
    catalog, alice, openrouter, client_for, fal, s3
):
    fund(alice, "100.00")

    response = client_for(alice).post(
        "/api/chats/send", json={"model": "fal-ai/flux/schnell", "message": "Кот в космосе"}
    )

    assert response.status_code == 202
    body = response.json()
    assert body["type"] == "media"
    chat = Chat.objects.get(pk=body["chat_id"], user=alice)
    assert body["generation"]["model"] == "fal-ai/flux/schnell"
    assert fal.submits()[0].json() == {"prompt": "Кот в космосе"}
    assert [m.role for m in chat.messages.order_by("created_at", "id")] == ["user", "assistant"]
    assert openrouter.chat_requests() == []


def test_a_media_model_without_money_is_402_and_keeps_nothing(catalog, alice, openrouter, client_for, fal):
    fund(alice, "1.00")

    status, body = send(client_for(alice), model="fal-ai/veo3", message="Закат")

    assert status == 402
    assert "detail" in body
    assert Chat.objects.count() == 0
    assert fal.submits() == []


def test_events_received_together_with_a_dropped_connection_are_not_lost(settings):
    """The events and the close arrive in one read: aiohttp reports the broken body before the
    data it had received; the client still hands over every event, then the loss."""
    import asyncio
    import socket
    import threading

    from chats import openrouter
    from tests.fakes.openrouter import PROCESSING, chunk, sse, token_event

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_then_drop() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        events = b"".join(chunk(sse(token_event("gen-9", "m", text))) for text in ("a", "b", "c"))
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunk(PROCESSING)
            + events
        )
        connection.close()

    threading.Thread(target=answer_then_drop, daemon=True).start()
    settings.OPENROUTER_BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.OPENROUTER_API_KEY = "key"

    async def read() -> list:
        async with openrouter.chat_stream(model="m", messages=[], max_tokens=10) as stream:
            # The relay is busy elsewhere meanwhile: the data and the close are both in.
            await asyncio.sleep(0.3)
            events = [event async for batch in stream.batches() for event in batch]
        await openrouter.sessions_close()
        return events

    events = asyncio.run(read())
    listener.close()

    assert [event.text for event in events[:-1]] == ["a", "b", "c"]
    assert isinstance(events[-1], openrouter.Finish) and events[-1].error.startswith("connection lost")
