"""The catalog, chats and messages in admin, through Django's test client as a superuser."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from chats.models import AIModel, Chat, Message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


@pytest.fixture
def chat(alice) -> Chat:
    chat = Chat.objects.create(user=alice, model="openai/gpt-4o", title="План отпуска")
    Message.objects.create(chat=chat, role=Message.Role.USER, content="Куда поехать в мае?")
    Message.objects.create(
        chat=chat,
        role=Message.Role.ASSISTANT,
        model="openai/gpt-4o",
        content="В Калининград.",
        tokens_in=12,
        tokens_out=34,
        cost=Decimal("1.23"),
    )
    return chat


def change_form(model: AIModel, **changes) -> dict[str, str]:
    """The AIModel change form as a browser would submit it; checkboxes only when ticked."""
    data = {
        "model_id": model.model_id,
        "name": model.name,
        "kind": model.kind,
        "group": model.group,
        "group_order": str(model.group_order),
        "group_icon": model.group_icon,
        "order": str(model.order),
        "cost_input": str(model.cost_input),
        "cost_output": str(model.cost_output),
        "price_per_generation": "" if model.price_per_generation is None else str(model.price_per_generation),
        "context_length": str(model.context_length),
        "enabled": model.enabled,
        "supports_vision": model.supports_vision,
        **changes,
    }
    for checkbox in ("enabled", "supports_vision"):
        if data.pop(checkbox):
            data[checkbox] = "on"
    return data


def catalog_ids(client) -> dict[str, dict]:
    groups = client.get("/api/chats/models").json()
    return {model["id"]: model for group in groups for model in group["models"]}


# Catalog ---------------------------------------------------------------------------------------
def test_the_catalog_list_and_a_model_page_show_the_seeded_models(admin_client):
    gpt4o = AIModel.objects.get(model_id="openai/gpt-4o")

    listing = admin_client.get("/admin/chats/aimodel/")
    assert listing.status_code == 200
    assert "openai/gpt-4o" in listing.content.decode()
    assert "fal-ai/recraft-v3" in listing.content.decode()

    page = admin_client.get(f"/admin/chats/aimodel/{gpt4o.pk}/change/")
    assert page.status_code == 200
    assert 'name="cost_output"' in page.content.decode()
    assert 'value="openai/gpt-4o"' in page.content.decode()


def test_the_catalog_list_filters_and_searches(admin_client):
    images = admin_client.get("/admin/chats/aimodel/?kind__exact=image").content.decode()
    assert "fal-ai/recraft-v3" in images
    assert "openai/gpt-4o" not in images

    found = admin_client.get("/admin/chats/aimodel/?q=recraft").content.decode()
    assert "fal-ai/recraft-v3" in found
    assert "openai/gpt-4o" not in found


def test_editing_a_model_changes_the_catalog_the_app_serves(admin_client, client):
    gpt4o = AIModel.objects.get(model_id="openai/gpt-4o")
    mini = AIModel.objects.get(model_id="openai/gpt-4o-mini")
    assert catalog_ids(client)["openai/gpt-4o"]["cost_output"] == 10
    assert "openai/gpt-4o-mini" in catalog_ids(client)

    response = admin_client.post(
        f"/admin/chats/aimodel/{gpt4o.pk}/change/", change_form(gpt4o, cost_output="12.5")
    )
    assert response.status_code == 302, response.content.decode()
    response = admin_client.post(f"/admin/chats/aimodel/{mini.pk}/change/", change_form(mini, enabled=False))
    assert response.status_code == 302, response.content.decode()

    gpt4o.refresh_from_db()
    mini.refresh_from_db()
    assert gpt4o.cost_output == Decimal("12.5")
    assert mini.enabled is False
    catalog = catalog_ids(client)
    assert catalog["openai/gpt-4o"]["cost_output"] == 12.5
    assert "openai/gpt-4o-mini" not in catalog


def test_prices_and_switches_can_be_edited_right_in_the_list(admin_client, client, chat_model):
    response = admin_client.post(
        "/admin/chats/aimodel/?q=test/pricey",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(chat_model.pk),
            "form-0-cost_input": "200",
            "form-0-cost_output": "2000",
            "form-0-order": "7",
            # "enabled" left unticked.
            "_save": "Сохранить",
        },
    )

    assert response.status_code == 302, response.content.decode()
    chat_model.refresh_from_db()
    assert (chat_model.cost_input, chat_model.cost_output, chat_model.order, chat_model.enabled) == (
        Decimal("200"),
        Decimal("2000"),
        7,
        False,
    )
    assert "test/pricey" not in catalog_ids(client)


def test_a_media_model_cannot_be_saved_without_a_generation_price(admin_client):
    recraft = AIModel.objects.get(model_id="fal-ai/recraft-v3")
    price = recraft.price_per_generation

    # The check constraint (validated by the form before the database sees it).
    for empty in ("", "0"):
        response = admin_client.post(
            f"/admin/chats/aimodel/{recraft.pk}/change/", change_form(recraft, price_per_generation=empty)
        )
        assert response.status_code == 200
        assert "Для изображений и видео укажите цену генерации больше нуля." in response.content.decode()
    recraft.refresh_from_db()
    assert recraft.price_per_generation == price


# Chats -----------------------------------------------------------------------------------------
def test_the_chat_list_and_page_show_the_chat_and_its_messages_read_only(admin_client, chat):
    listing = admin_client.get("/admin/chats/chat/")
    assert listing.status_code == 200
    assert "План отпуска" in listing.content.decode()

    found = admin_client.get("/admin/chats/chat/?q=alice@example.com").content.decode()
    assert "План отпуска" in found
    assert "План отпуска" not in admin_client.get("/admin/chats/chat/?q=nobody").content.decode()

    response = admin_client.get(f"/admin/chats/chat/{chat.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Куда поехать в мае?" in page
    assert "В Калининград." in page
    assert "1,23" in page or "1.23" in page
    # The messages have no inputs: tokens and cost cannot be edited from the chat page.
    assert 'name="messages-0-cost"' not in page
    assert 'name="messages-1-tokens_out"' not in page


def test_a_chat_can_be_renamed_and_its_messages_stay_as_billed(admin_client, chat):
    url = f"/admin/chats/chat/{chat.pk}/change/"
    page = admin_client.get(url).content.decode()
    # What the browser would send back: the hidden inputs (the inline's management form and
    # row ids) and the chat's own fields.
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.update({"user": str(chat.user_id), "model": chat.model, "title": "Калининград", "_save": "1"})
    data.update({"messages-1-cost": "0", "messages-1-tokens_out": "0"})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()
    chat.refresh_from_db()
    assert chat.title == "Калининград"
    message = chat.messages.get(role=Message.Role.ASSISTANT)
    assert (message.cost, message.tokens_out) == (Decimal("1.23"), 34)


def test_a_chat_can_be_deleted_with_its_messages(admin_client, chat):
    response = admin_client.post(f"/admin/chats/chat/{chat.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Chat.objects.filter(pk=chat.pk).exists()
    assert not Message.objects.filter(chat_id=chat.pk).exists()


# Messages --------------------------------------------------------------------------------------
def test_the_message_list_shows_billed_messages(admin_client, chat):
    response = admin_client.get("/admin/chats/message/?role__exact=assistant")
    assert response.status_code == 200
    page = response.content.decode()
    assert "openai/gpt-4o" in page
    assert "1,23" in page or "1.23" in page


def test_messages_cannot_be_added_or_changed_in_admin(admin_client, chat):
    message = chat.messages.get(role=Message.Role.ASSISTANT)

    page = admin_client.get(f"/admin/chats/message/{message.pk}/change/")
    assert page.status_code == 200
    assert "В Калининград." in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert 'name="cost"' not in page.content.decode()

    response = admin_client.post(
        f"/admin/chats/message/{message.pk}/change/",
        {"chat": str(chat.pk), "role": "assistant", "cost": "0", "tokens_in": "0", "tokens_out": "0"},
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert (message.cost, message.tokens_in, message.tokens_out) == (Decimal("1.23"), 12, 34)

    assert admin_client.get("/admin/chats/message/add/").status_code == 403
    assert (
        admin_client.post("/admin/chats/message/add/", {"chat": str(chat.pk), "role": "user"}).status_code
        == 403
    )
    assert Message.objects.filter(chat=chat).count() == 2
