"""An image or video model chosen in the chat: the prompt and a pending assistant message are
kept in the chat, the media service generates, and the finished job lands on that message."""

import pytest
from django.urls import reverse

from chats import services
from chats.models import Chat, Message
from tests.fakes.fal import MP4_BYTES
from tests.helpers import MEDIA_PRICE, fund

pytestmark = pytest.mark.django_db


def test_a_generation_in_a_chat_lands_on_its_pending_assistant_message(
    alice, alice_client, image_model, fal, s3, commit
):
    fund(alice)
    chat = Chat.objects.create(user=alice, model=image_model.model_id)

    with commit() as queued:
        _, generation, _ = services.media_reply_start(
            user=alice, model=image_model, text="a cat", chat_id=chat.pk
        )

    question, answer = chat.messages.order_by("created_at", "id")
    assert (question.role, question.content) == (Message.Role.USER, "a cat")
    assert (answer.role, answer.status, answer.generation) == (
        Message.Role.ASSISTANT,
        Message.Status.PENDING,
        generation,
    )
    status = alice_client.get(reverse("media_generation", args=[generation.pk])).json()
    assert status["message_id"] == answer.pk

    for callback in queued:
        callback()  # the poll task, as the worker runs it after the commit
    answer.refresh_from_db()
    generation.refresh_from_db()
    assert answer.status == Message.Status.COMPLETE
    assert answer.image_url == generation.result_urls[0]
    assert answer.cost == MEDIA_PRICE
    [shown] = [
        m for m in alice_client.get(reverse("chat-messages", args=[chat.pk])).json() if m["id"] == answer.pk
    ]
    assert shown["image_urls"] == generation.result_urls


def test_a_video_lands_on_the_message_as_an_attachment(alice, video_model, fal, s3, commit):
    fund(alice)
    fal.result_files = [(MP4_BYTES, "video/mp4")]

    with commit(execute=True):
        _, generation, _ = services.media_reply_start(user=alice, model=video_model, text="waves")

    message = Message.objects.get(generation=generation)
    [name] = s3.names()
    assert name.endswith(".mp4")
    assert (message.attachment_url, message.image_url) == (f"{s3.endpoint_url}/{s3.bucket}/{name}", "")


def test_a_failed_generation_shows_the_error_on_its_message_and_costs_nothing(
    alice, image_model, fal, s3, commit
):
    fund(alice)
    fal.outcome = "fail"

    with commit(execute=True):
        _, generation, _ = services.media_reply_start(user=alice, model=image_model, text="a cat")

    message = Message.objects.get(generation=generation)
    assert message.status == Message.Status.ERROR
    assert "Деньги не списаны" in message.error
    assert message.cost == 0


def test_a_generation_started_in_the_gallery_touches_no_chat(
    alice, alice_client, image_model, fal, s3, commit
):
    fund(alice)

    with commit(execute=True):
        response = alice_client.post(
            reverse("media_generate"),
            {"model": image_model.model_id, "prompt": "a cat"},
            content_type="application/json",
        )

    assert response.status_code == 202
    assert response.json()["message_id"] is None
    assert not Message.objects.exists()
