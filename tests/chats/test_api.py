"""The chats JSON API (the catalog's shape included) and the pages, through Django's test client."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import AIModel
from chats.models import Chat, Message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


# The catalog as the chat serves it ----------------------------------------------------------
def test_the_models_endpoint_returns_the_old_catalog_shape_with_enabled_models_only(client):
    AIModel.objects.filter(model_id="openai/gpt-4o-mini").update(enabled=False)

    response = client.get("/api/chats/models")

    assert response.status_code == 200
    groups = response.json()
    assert all(set(group) == {"name", "icon", "models"} for group in groups)
    openai = next(group for group in groups if group["name"] == "OpenAI")
    assert openai["icon"].startswith("<svg")
    gpt4o = next(model for model in openai["models"] if model["id"] == "openai/gpt-4o")
    # Numbers as the old catalog wrote them: 2.5 and 10, JSON numbers.
    assert gpt4o == {"id": "openai/gpt-4o", "name": "GPT-4o", "cost_input": 2.5, "cost_output": 10}
    assert type(gpt4o["cost_output"]) is int
    ids = [model["id"] for group in groups for model in group["models"]]
    assert "openai/gpt-4o-mini" not in ids
    assert len(ids) == AIModel.objects.filter(enabled=True).count()


def test_sync_models_updates_prices_and_context_lengths_from_openrouter(openrouter):
    openrouter.models = [
        {
            "id": "openai/gpt-4o",
            "name": "OpenAI: GPT-4o",
            "context_length": 256000,
            "pricing": {"prompt": "0.000003", "completion": "0.000012"},
        },
        {
            "id": "anthropic/claude-sonnet-4.5",
            "context_length": 1000000,
            "pricing": {"prompt": "-1", "completion": "-1"},
        },
        {"id": "somebody/new-model", "context_length": 8000, "pricing": {"prompt": "0", "completion": "0"}},
    ]
    out = StringIO()

    call_command("sync_models", stdout=out)

    gpt4o = AIModel.objects.get(model_id="openai/gpt-4o")
    assert (gpt4o.cost_input, gpt4o.cost_output, gpt4o.context_length) == (
        Decimal("3"),
        Decimal("12"),
        256000,
    )
    assert gpt4o.name == "GPT-4o"  # names are the admins'
    sonnet = AIModel.objects.get(model_id="anthropic/claude-sonnet-4.5")
    assert (sonnet.cost_input, sonnet.cost_output) == (
        Decimal("3"),
        Decimal("15"),
    )  # variable prices left alone
    assert not AIModel.objects.filter(model_id="somebody/new-model").exists()
    assert "openai/gpt-4o: cost_input 2.5000 → 3.0000" in out.getvalue()
    assert "openai/gpt-4.1: not offered" in out.getvalue()


def test_sync_models_dry_run_changes_nothing(openrouter):
    openrouter.models = [
        {"id": "openai/gpt-4o", "context_length": 1, "pricing": {"prompt": "1", "completion": "1"}}
    ]

    call_command("sync_models", "--dry-run", stdout=StringIO())

    assert AIModel.objects.get(model_id="openai/gpt-4o").context_length == 128000


# Chats API -------------------------------------------------------------------------------------
def test_chats_are_listed_newest_first_and_paginated(alice_client, alice):
    chats = [Chat.objects.create(user=alice, model="openai/gpt-4o", title=f"Chat {i}") for i in range(25)]

    first = alice_client.get("/api/chats").json()
    second = alice_client.get("/api/chats?page=2").json()

    assert first["count"] == 25
    assert [chat["id"] for chat in first["results"]] == [chat.pk for chat in reversed(chats)][:20]
    assert [chat["id"] for chat in second["results"]] == [chat.pk for chat in reversed(chats)][20:]


def test_chats_are_searched_by_title_in_any_case_and_only_among_ones_own(alice_client, alice, bob):
    Chat.objects.create(user=alice, model="openai/gpt-4o", title="Рецепт Борща")
    Chat.objects.create(user=alice, model="openai/gpt-4o", title="План поездки")
    Chat.objects.create(user=bob, model="openai/gpt-4o", title="Борщ Боба")

    found = alice_client.get("/api/chats", {"q": " борщ "}).json()

    assert [chat["title"] for chat in found["results"]] == ["Рецепт Борща"]
    assert found["count"] == 1
    # A NUL in the query is no error (PostgreSQL cannot take one).
    response = alice_client.get("/api/chats", {"q": "\x00"})
    assert response.status_code == 200
    assert response.json()["count"] == 2
    # The query is text, not a pattern.
    Chat.objects.create(user=alice, model="openai/gpt-4o", title="C++ и (скобки) 100%")
    found = alice_client.get("/api/chats", {"q": "c++ И (СКОБКИ) 100%"}).json()
    assert [chat["title"] for chat in found["results"]] == ["C++ и (скобки) 100%"]
    assert alice_client.get("/api/chats", {"q": ".*"}).json()["count"] == 0


def test_a_chat_can_be_created_renamed_read_and_deleted(alice_client, alice):
    created = alice_client.post(
        "/api/chats", {"model": "openai/gpt-4o", "title": "План"}, content_type="application/json"
    )
    assert created.status_code == 201
    chat_id = created.json()["id"]

    renamed = alice_client.patch(
        f"/api/chats/{chat_id}", {"title": "Новый план"}, content_type="application/json"
    )
    assert renamed.json()["title"] == "Новый план"
    assert alice_client.get(f"/api/chats/{chat_id}").json()["title"] == "Новый план"

    assert alice_client.delete(f"/api/chats/{chat_id}").status_code == 204
    assert not Chat.objects.filter(pk=chat_id).exists()


def test_a_chat_cannot_be_created_with_an_unknown_model(alice_client):
    response = alice_client.post("/api/chats", {"model": "nobody/nothing"}, content_type="application/json")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_chats_messages_are_read_in_order_with_their_costs(alice_client, alice):
    chat = Chat.objects.create(user=alice, model="openai/gpt-4o")
    Message.objects.create(chat=chat, role="user", content="Вопрос")
    Message.objects.create(
        chat=chat, role="assistant", content="Ответ", tokens_in=10, tokens_out=5, cost=Decimal("0.42")
    )

    messages = alice_client.get(f"/api/chats/{chat.pk}/messages").json()

    assert [(m["role"], m["content"], m["cost"], m["status"]) for m in messages] == [
        ("user", "Вопрос", "0.00", "complete"),
        ("assistant", "Ответ", "0.42", "complete"),
    ]


def test_bob_cannot_see_or_touch_alices_chat(client, alice, bob):
    chat = Chat.objects.create(user=alice, model="openai/gpt-4o", title="Личное")
    Message.objects.create(chat=chat, role="user", content="секрет")
    client.force_login(bob)

    assert client.get(f"/api/chats/{chat.pk}").status_code == 404
    assert client.get(f"/api/chats/{chat.pk}/messages").status_code == 404
    assert (
        client.patch(f"/api/chats/{chat.pk}", {"title": "x"}, content_type="application/json").status_code
        == 404
    )
    assert client.delete(f"/api/chats/{chat.pk}").status_code == 404
    assert client.get("/api/chats").json()["count"] == 0
    chat.refresh_from_db()
    assert chat.title == "Личное"
    assert client.get(f"/api/chats/{chat.pk}").json() == {"detail": "Чат не найден."}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/chats"),
        ("post", "/api/chats"),
        ("get", "/api/chats/1"),
        ("get", "/api/chats/1/messages"),
    ],
)
def test_the_chats_api_answers_401_json_when_signed_out(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 401
    assert "detail" in response.json()


# Pages ---------------------------------------------------------------------------------------------
def test_the_chat_page_has_the_old_templates_variables(alice_client, alice):
    from wallets.services import wallet_credit

    wallet_credit(user=alice, amount=Decimal("150.75"), reference="test:page")

    response = alice_client.get("/chat/")

    assert response.status_code == 200
    context = response.context
    assert (context["name"], context["email"], context["balance"], context["avatar"], context["user_id"]) == (
        "Alice",
        "alice@example.com",
        150,
        "",
        "email_alice",
    )
    assert b'id="chat-config"' in response.content


def test_a_new_chat_starts_with_the_inexpensive_default_model_priced_per_typical_answer(
    alice_client, settings
):
    settings.USD_RUB_RATE = Decimal("90")
    settings.PRICE_MARKUP = Decimal("1.5")

    config = alice_client.get("/chat/").context["chat_config"]

    assert config["default_model"] == "google/gemini-2.5-flash"
    models = {model["id"]: model for group in config["catalog"] for model in group["models"]}
    # 1,000 tokens in at $0.30 and 500 out at $2.50 per 1M, × 90 × 1.5 = 0.209… → 0.21 ₽.
    assert models["google/gemini-2.5-flash"]["rub_typical"] == "0.21"
    # A media model's "typical answer" is its one generation.
    media = next(model for model in models.values() if model["kind"] != "chat")
    assert media["rub_typical"] == media["rub_per_generation"]


def test_when_the_default_model_is_switched_off_a_new_chat_starts_with_the_first_chat_model(
    alice_client, settings
):
    AIModel.objects.filter(model_id="google/gemini-2.5-flash").update(enabled=False)

    config = alice_client.get("/chat/").context["chat_config"]

    first = next(model for group in config["catalog"] for model in group["models"] if model["kind"] == "chat")
    assert config["default_model"] == first["id"]


def test_the_chat_page_asks_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/chat/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_pricing_page_lists_every_enabled_model_in_rubles_and_the_billing_policy(client, settings):
    settings.USD_RUB_RATE = Decimal("90")
    settings.PRICE_MARKUP = Decimal("1.5")
    AIModel.objects.filter(model_id="openai/gpt-4o-mini").update(enabled=False)

    response = client.get("/pricing/")

    assert response.status_code == 200
    html = response.content.decode()
    for model in AIModel.objects.filter(enabled=True):
        assert model.name in html, model.model_id
    assert "GPT-4o mini" not in html
    # GPT-4o: $2.5 and $10 per 1M × 90 × 1.5
    assert "337,50\xa0₽" in html
    assert "1\xa0350,00\xa0₽" in html
    # Veo 3: per generation
    assert "350" in html
    assert 'data-testid="billing-policy"' in html
