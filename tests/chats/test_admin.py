"""Chats and messages in admin, through Django's test client as a superuser."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from chats.models import Chat, Message

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
