"""Regenerate and edit-and-resend: `POST /api/chats/send` with `resend_from` (a question's id).
The chat from that question on is replaced by the new question and its reply; each new reply is
billed like any other, and the earlier charges stay in the ledger. A failed reply keeps what the
reader was told (the messages API's `error`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chats.models import Chat, Message
from chats.pricing import reply_cost
from tests.helpers import balance, fund, send
from wallets.models import LedgerEntry
from wallets.services import wallet_debit

pytestmark = pytest.mark.django_db(transaction=True)


def charge_of(model, tokens_out: int) -> Decimal:
    return reply_cost(
        cost_input=model.cost_input, cost_output=model.cost_output, tokens_in=20, tokens_out=tokens_out
    )


def ask(client, model, **body) -> list[dict]:
    status, lines = send(client, model=model.model_id, **body)
    assert status == 200, lines
    assert lines[-1]["type"] == "balance", lines
    return lines


def test_regenerating_replaces_the_last_reply_and_bills_the_new_one(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    openrouter.tokens = ["Первый", " ответ"]
    chat_id = ask(client, chat_model, message="Вопрос")[0]["chat_id"]
    question = Message.objects.get(role=Message.Role.USER)

    openrouter.tokens = ["Второй", " ответ", "!"]
    lines = ask(client, chat_model, message="Вопрос", chat_id=chat_id, resend_from=question.pk)

    assert lines[0] == {"type": "meta", "chat_id": chat_id}
    messages = list(Chat.objects.get(pk=chat_id).messages.values_list("role", "content"))
    assert messages == [("user", "Вопрос"), ("assistant", "Второй ответ!")]
    # The old reply is not sent upstream again: the prompt is the question alone.
    assert openrouter.chat_requests()[-1].json()["messages"] == [{"role": "user", "content": "Вопрос"}]
    charges = LedgerEntry.objects.filter(wallet_id=alice.pk, kind=LedgerEntry.Kind.CHARGE).order_by("id")
    assert [entry.amount for entry in charges] == [-charge_of(chat_model, 2), -charge_of(chat_model, 3)]
    assert all(entry.metadata["chat_id"] == chat_id for entry in charges)
    assert balance(alice) == Decimal("100.00") - charge_of(chat_model, 2) - charge_of(chat_model, 3)


def test_editing_an_earlier_question_drops_what_followed_and_answers_the_new_text(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    openrouter.tokens = ["Ответ 1"]
    chat_id = ask(client, chat_model, message="Вопрос 1")[0]["chat_id"]
    openrouter.tokens = ["Ответ 2"]
    ask(client, chat_model, message="Вопрос 2", chat_id=chat_id)
    openrouter.tokens = ["Ответ 3"]
    ask(client, chat_model, message="Вопрос 3", chat_id=chat_id)
    second = Message.objects.get(content="Вопрос 2")

    openrouter.tokens = ["Новый", " ответ"]
    ask(client, chat_model, message="Вопрос 2, исправленный", chat_id=chat_id, resend_from=second.pk)

    messages = list(Chat.objects.get(pk=chat_id).messages.values_list("content", flat=True))
    assert messages == ["Вопрос 1", "Ответ 1", "Вопрос 2, исправленный", "Новый ответ"]
    assert [m["content"] for m in openrouter.chat_requests()[-1].json()["messages"]] == [
        "Вопрос 1",
        "Ответ 1",
        "Вопрос 2, исправленный",
    ]
    assert LedgerEntry.objects.filter(wallet_id=alice.pk, kind=LedgerEntry.Kind.CHARGE).count() == 4


def test_a_resend_refused_for_money_leaves_the_chat_as_it_was(alice, chat_model, openrouter, client_for):
    fund(alice, "10.00")
    client = client_for(alice)
    openrouter.tokens = ["Ответ"]
    chat_id = ask(client, chat_model, message="Вопрос")[0]["chat_id"]
    question = Message.objects.get(role=Message.Role.USER)
    wallet_debit(user=alice, amount=balance(alice), reference="test:drain")

    status, answer = send(
        client, model=chat_model.model_id, message="Ещё раз", chat_id=chat_id, resend_from=question.pk
    )

    assert status == 402
    assert "Недостаточно средств" in answer["detail"]
    messages = list(Chat.objects.get(pk=chat_id).messages.values_list("content", flat=True))
    assert messages == ["Вопрос", "Ответ"]


def test_nobody_resends_from_another_users_message(alice, bob, chat_model, openrouter, client_for):
    fund(alice, "10.00")
    fund(bob, "10.00")
    chat_id = ask(client_for(alice), chat_model, message="Секрет Алисы")[0]["chat_id"]
    question = Message.objects.get(content="Секрет Алисы")
    bobs_chat = ask(client_for(bob), chat_model, message="Вопрос Боба")[0]["chat_id"]

    for target in (chat_id, bobs_chat):
        status, answer = send(
            client_for(bob), model=chat_model.model_id, message="x", chat_id=target, resend_from=question.pk
        )
        assert status == 404, answer
    assert Message.objects.filter(content="Секрет Алисы").exists()
    assert Chat.objects.get(pk=bobs_chat).messages.count() == 2


@pytest.mark.parametrize("resend_from", ["1", 1.5, True, [1]])
def test_a_resend_from_that_is_not_a_message_id_is_a_bad_request(
    alice, chat_model, openrouter, client_for, resend_from
):
    fund(alice, "10.00")
    client = client_for(alice)
    chat_id = ask(client, chat_model, message="Вопрос")[0]["chat_id"]

    status, answer = send(
        client, model=chat_model.model_id, message="x", chat_id=chat_id, resend_from=resend_from
    )

    assert status == 400
    assert answer["detail"]


def test_a_resend_needs_the_chat(alice, chat_model, openrouter, client_for):
    fund(alice, "10.00")

    status, _answer = send(client_for(alice), model=chat_model.model_id, message="x", resend_from=1)

    assert status == 400
    assert Chat.objects.count() == 0


def test_a_failed_reply_keeps_what_the_reader_was_told_and_a_retry_bills_only_the_answer(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    openrouter.status = 500
    _status, lines = send(client, model=chat_model.model_id, message="Вопрос")
    assert lines[-1]["type"] == "error"
    chat_id = lines[0]["chat_id"]

    messages = client.get(f"/api/chats/{chat_id}/messages").json()
    assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"), ("assistant", "error")]
    assert messages[1]["error"].startswith("Модель сейчас недоступна. Деньги не списаны")
    assert messages[0]["error"] == ""
    assert balance(alice) == Decimal("100.00")

    openrouter.status = 200
    openrouter.tokens = ["Готово"]
    ask(client, chat_model, message="Вопрос", chat_id=chat_id, resend_from=messages[0]["id"])

    messages = client.get(f"/api/chats/{chat_id}/messages").json()
    assert [(m["content"], m["status"], m["error"]) for m in messages] == [
        ("Вопрос", "complete", ""),
        ("Готово", "complete", ""),
    ]
    assert balance(alice) == Decimal("100.00") - charge_of(chat_model, 1)


def test_a_reply_cut_by_a_provider_error_is_labelled_as_an_error_not_as_stopped(
    alice, chat_model, openrouter, client_for
):
    fund(alice, "100.00")
    client = client_for(alice)
    openrouter.tokens = ["один ", "два ", "три "]
    openrouter.error_after = 2
    _status, lines = send(client, model=chat_model.model_id, message="Вопрос")

    reply = client.get(f"/api/chats/{lines[0]['chat_id']}/messages").json()[1]

    assert (reply["content"], reply["status"]) == ("один два ", "partial")
    assert reply["error"] == "Ответ прервался из-за ошибки модели. Списана стоимость только полученной части."
