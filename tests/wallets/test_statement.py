import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import AIModel
from wallets.services import hold_place, hold_settle, wallet_adjust, wallet_credit

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    return re.findall(r'data-testid="entry" data-kind="(\w+)"', response.content.decode())


def test_the_statement_needs_a_signed_in_user(client):
    response = client.get("/wallet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_empty_wallet_says_there_is_nothing_yet(alice_client):
    response = alice_client.get("/wallet/")
    assert response.status_code == 200
    assert 'data-testid="entries-empty"' in response.content.decode()


def test_the_statement_lists_the_users_entries_newest_first_with_the_balance_after(alice, alice_client):
    wallet_credit(user=alice, amount=Decimal("500"), reference="yookassa:1")
    hold_place(
        user=alice,
        amount=Decimal("10"),
        reference="msg:1",
        metadata={"chat_id": 42, "model": "openai/gpt-4o"},
    )
    hold_settle(reference="msg:1", amount=Decimal("1.25"))

    response = alice_client.get("/wallet/")

    page = response.content.decode()
    assert rows(response) == ["charge", "topup"]
    # Russian number format: decimal comma.
    assert "-1,25\xa0₽" in page
    assert "+500,00\xa0₽" in page
    assert "498,75\xa0₽" in page


def test_a_chat_message_names_its_model_and_links_to_the_chat_it_paid_for(alice, alice_client, settings):
    from chats import openrouter, services

    settings.OPENROUTER_API_KEY = "key"  # the reply is recorded, never sent anywhere
    AIModel.objects.update_or_create(
        model_id="openai/gpt-4o", defaults={"name": "GPT-4o", "group": "OpenAI", "enabled": True}
    )
    wallet_credit(user=alice, amount=Decimal("50"), reference="yookassa:1")
    turn = services.reply_start(user=alice, model_id="openai/gpt-4o", text="Привет")
    services.reply_finish(
        turn=turn, end=services.StreamEnd(text="Здравствуйте", usage=openrouter.Usage(20, 4))
    )
    # An admin renames the model afterwards: the statement keeps the name it was charged under.
    AIModel.objects.filter(model_id="openai/gpt-4o").update(name="GPT-4o (old)")

    page = alice_client.get(reverse("wallet_statement")).content.decode()
    [link] = re.findall(r'href="([^"]+)"[^>]*data-testid="entry-chat-link"', page)
    chat_page = alice_client.get(link)

    assert "Сообщение в чате" in page
    assert "· GPT-4o<" in page
    assert chat_page.status_code == 200
    assert chat_page.context["chat_config"]["chat"] == turn.chat_id


def test_a_link_to_somebody_elses_chat_opens_no_chat(alice, bob, client):
    from chats.models import Chat

    bobs = Chat.objects.create(user=bob, model="openai/gpt-4o")
    client.force_login(alice)

    response = client.get(f"{reverse('chat')}?chat={bobs.pk}")

    assert response.context["chat_config"]["chat"] is None


def test_generations_refunds_and_adjustments_say_what_they_were(alice, alice_client, make_user):
    staff = make_user("email_staff", is_staff=True)
    wallet_credit(user=alice, amount=Decimal("50"), reference="yookassa:1")
    hold_place(
        user=alice, amount=Decimal("5"), reference="fal:1", metadata={"generation": True, "model": "x/flux"}
    )
    hold_settle(reference="fal:1", amount=Decimal("5"))
    wallet_credit(user=alice, amount=Decimal("3"), reference="refund:msg:1", kind="refund")
    wallet_adjust(
        user=alice, amount=Decimal("7"), reason="Компенсация за сбой", staff=staff, reference="adj:1"
    )

    page = alice_client.get("/wallet/").content.decode()

    assert "Генерация" in page
    assert "Возврат" in page
    assert "Корректировка" in page
    assert "Компенсация за сбой" in page


def lines(response) -> list[str]:
    """Each statement line's operation cell as text, whitespace collapsed."""
    cells = re.findall(r'data-testid="entry".*?</td>\s*<td[^>]*>(.*?)</td>', response.content.decode(), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def test_each_line_says_what_it_was_once_with_the_models_name(alice, alice_client, settings):
    from chats import openrouter, services

    settings.OPENROUTER_API_KEY = "key"  # the reply is recorded, never sent anywhere
    AIModel.objects.update_or_create(
        model_id="openai/gpt-4o", defaults={"name": "GPT-4o", "group": "OpenAI", "enabled": True}
    )
    wallet_credit(
        user=alice, amount=Decimal("50"), reference="yookassa:1", description="Пополнение через ЮKassa"
    )
    turn = services.reply_start(user=alice, model_id="openai/gpt-4o", text="Привет")
    services.reply_finish(
        turn=turn, end=services.StreamEnd(text="Здравствуйте", usage=openrouter.Usage(20, 4))
    )
    hold_place(
        user=alice,
        amount=Decimal("5"),
        reference="fal:1",
        description="Генерация: Flux",
        metadata={"generation": True, "model": "fal-ai/flux", "model_name": "Flux"},
    )
    hold_settle(reference="fal:1", amount=Decimal("5"))

    response = alice_client.get("/wallet/")

    generation, reply, topup = (line.rsplit(" ", 2)[0] for line in lines(response))
    assert generation == "Генерация · Flux"
    assert reply == "Сообщение в чате · GPT-4o открыть чат"
    assert topup == "Пополнение через ЮKassa"
    assert "openai/gpt-4o" not in response.content.decode()


def test_a_pending_reply_names_its_model_not_its_id(alice, alice_client, settings):
    from chats import services

    settings.OPENROUTER_API_KEY = "key"
    AIModel.objects.update_or_create(
        model_id="openai/gpt-4o", defaults={"name": "GPT-4o", "group": "OpenAI", "enabled": True}
    )
    wallet_credit(user=alice, amount=Decimal("50"), reference="yookassa:1")
    services.reply_start(user=alice, model_id="openai/gpt-4o", text="Привет")

    page = alice_client.get("/wallet/").content.decode()

    [pending] = re.findall(r'data-testid="pending-hold">(.*?)</li>', page, re.S)
    assert 'Сообщение в чате</span> <span class="text-slate-500">· GPT-4o' in pending
    assert "openai/gpt-4o" not in page


def test_open_holds_are_shown_as_pending(alice, alice_client):
    wallet_credit(user=alice, amount=Decimal("50"), reference="yookassa:1")
    hold_place(user=alice, amount=Decimal("12"), reference="msg:1", description="Ответ GPT-4o")

    page = alice_client.get("/wallet/").content.decode()

    assert page.count('data-testid="pending-hold"') == 1
    assert "Ответ GPT-4o" in page
    assert "в ожидании" in page


def test_another_users_entries_and_holds_never_appear_on_alices_statement(alice, alice_client, bob):
    wallet_credit(user=alice, amount=Decimal("10"), reference="yookassa:alice")
    wallet_credit(user=bob, amount=Decimal("777.77"), reference="yookassa:bob")
    hold_place(user=bob, amount=Decimal("123.45"), reference="msg:bob", description="Боб спрашивает")

    page = alice_client.get("/wallet/").content.decode()

    assert "777,77" not in page
    assert "123,45" not in page
    assert "Боб спрашивает" not in page
    assert 'data-testid="pending-hold"' not in page


def test_the_statement_is_paginated_25_to_a_page(alice, alice_client, django_assert_max_num_queries):
    for i in range(30):
        wallet_credit(user=alice, amount=Decimal(i + 1), reference=f"yookassa:{i}")

    with django_assert_max_num_queries(12):
        first = alice_client.get("/wallet/")
    second = alice_client.get("/wallet/?page=2")

    assert len(rows(first)) == 25
    assert len(rows(second)) == 5
    assert "+30,00\xa0₽" in first.content.decode()
    assert "+1,00\xa0₽" in second.content.decode()
    assert "+1,00\xa0₽" not in first.content.decode()


def test_every_signed_in_page_shows_the_live_balance_in_the_header(alice, alice_client):
    wallet_credit(user=alice, amount=Decimal("1234.5"), reference="yookassa:1")

    page = alice_client.get("/wallet/").content.decode()

    assert 'data-testid="header-balance"' in page
    assert '<script id="header-balance-data" type="application/json">"1234.50"</script>' in page
    assert "js/wallets.js" in page


def test_signed_out_pages_have_no_balance_and_no_socket_script(client):
    page = client.get("/").content.decode()
    assert 'data-testid="header-balance"' not in page
    assert "js/wallets.js" not in page
