"""One input policy (config/input.py) on every endpoint: a NUL character, a lone surrogate, JSON
nested 100,000 levels deep and numbers out of range answer 400 with a readable message, and
nothing is stored. Each of these was a 500 before (issue 14)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chats.models import Chat, Message
from media.models import Generation, Upload
from payments.models import Payment, PaymentNotification
from tests.helpers import fund, image_bytes
from wallets.models import Hold

pytestmark = pytest.mark.django_db

# Raw JSON text, so that what json.dumps would escape or refuse goes over the wire as written.
NUL = r"a\u0000b"
SURROGATE = r"hi\ud800"
DEEP = "[" * 100_000 + "]" * 100_000


def post_json(client, path: str, body: str, method: str = "post"):
    return getattr(client, method)(path, data=body.encode(), content_type="application/json")


def assert_refused(response, words: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert words in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (f'{{"model": "{NUL}", "title": "x"}}', "нулевой символ"),
        (f'{{"model": "openai/gpt-4o-mini", "title": "{NUL}"}}', "нулевой символ"),
        (f'{{"title": "{SURROGATE}"}}', "некорректные символы Unicode"),
        (f'{{"{NUL}": 1}}', "нулевой символ"),
        ('{"title": "x", "n": 1e400}', "вне допустимого диапазона"),
        ('{"title": "x", "n": NaN}', "вне допустимого диапазона"),
        ('{"title": "x", "n": -Infinity}', "вне допустимого диапазона"),
        ('{"title": "x", "n": 99999999999999999999999}', "вне допустимого диапазона"),
        ('{"title": "x", "n": ' + "9" * 5000 + "}", "вне допустимого диапазона"),
        (DEEP, "вложенность"),
    ],
)
def test_a_chat_is_not_created_from_input_the_policy_refuses(alice_client, body, words):
    assert_refused(post_json(alice_client, "/api/chats", body), words)
    assert not Chat.objects.exists()


def test_bytes_that_are_not_utf8_are_refused(alice_client):
    response = alice_client.post("/api/chats", data=b'{"title": "\xff\xfe"}', content_type="application/json")

    assert_refused(response, "UTF-8")
    assert not Chat.objects.exists()


@pytest.mark.parametrize("title", [NUL, SURROGATE])
def test_a_chat_is_not_renamed_to_text_the_policy_refuses(alice_client, alice, title):
    chat = Chat.objects.create(user=alice, model="openai/gpt-4o-mini", title="Old")

    response = post_json(alice_client, f"/api/chats/{chat.pk}", f'{{"title": "{title}"}}', method="patch")

    assert_refused(response, "символ")
    chat.refresh_from_db()
    assert chat.title == "Old"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ('"1e400"', "Сумма пополнения"),
        ('"-1e400"', "Сумма пополнения"),
        ('"NaN"', "Сумма пополнения"),
        ('"sNaN"', "Сумма пополнения"),
        ('"Infinity"', "Сумма пополнения"),
        ("1e400", "вне допустимого диапазона"),
        ("NaN", "вне допустимого диапазона"),
        ("Infinity", "вне допустимого диапазона"),
        (f'"{NUL}"', "нулевой символ"),
    ],
)
def test_a_payment_is_not_created_for_an_amount_out_of_range(alice_client, yookassa, amount, words):
    response = post_json(alice_client, "/api/payment/create", f'{{"amount": {amount}}}')

    assert_refused(response, words)
    assert not Payment.objects.exists()
    assert yookassa.payments == {}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (f'{{"model": "fal-ai/test-image", "prompt": "{NUL}"}}', "нулевой символ"),
        (f'{{"model": "fal-ai/test-image", "prompt": "{SURROGATE}"}}', "Unicode"),
        (DEEP, "вложенность"),
    ],
)
def test_a_generation_is_not_started_from_input_the_policy_refuses(
    alice_client, alice, image_model, body, words
):
    fund(alice, "100.00")

    assert_refused(post_json(alice_client, "/api/media/generate", body), words)
    assert not Generation.objects.exists()
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {"note": "a\x00b"},
        {"a\x00b": "note"},
    ],
)
def test_an_upload_form_with_a_nul_is_refused(alice_client, settings, tmp_path, form):
    settings.MEDIA_ROOT = tmp_path
    picture = SimpleUploadedFile("photo.png", image_bytes("PNG"), content_type="image/png")

    response = alice_client.post("/api/upload", {"file": picture, **form})

    assert_refused(response, "нулевой символ")
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "notification", "event": "payment.succeeded\\u0000", "object": {"id": "x"}}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "\\u0000"}}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "2f\x00"}}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "\\ud800"}}',
        b'{"type": "notification", "object": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "x", "n": 1e400}}',
    ],
)
def test_a_webhook_that_cannot_be_parsed_is_stored_as_rejected_with_400(yookassa, post_notification, body):
    response = post_notification(body)

    assert response.status_code == 400
    assert response.json() == {"status": "malformed"}
    notification = PaymentNotification.objects.get()
    assert notification.outcome == PaymentNotification.Outcome.MALFORMED
    assert (notification.event, notification.object_id) == ("", "")
    assert "\x00" not in notification.body


# The streamed reply is served by its own handler (config/stream.py): through uvicorn.
@pytest.mark.django_db(transaction=True)
def test_a_message_the_policy_refuses_is_400_before_any_stream(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")
    client = client_for(alice)
    model = chat_model.model_id
    cases = [
        (f'{{"model": "{model}", "message": "{NUL}"}}', "нулевой символ"),
        (f'{{"model": "{model}", "message": "{SURROGATE}"}}', "Unicode"),
        (f'{{"model": "{model}", "message": "hi", "image_urls": ["{NUL}"]}}', "нулевой символ"),
        (f'{{"model": "{model}", "message": "hi", "chat_id": 1e400}}', "вне допустимого диапазона"),
        (
            f'{{"model": "{model}", "message": "hi", "chat_id": 9223372036854775808}}',
            "вне допустимого диапазона",
        ),
        (f'{{"model": "{model}", "message": "hi", "chat_id": NaN}}', "вне допустимого диапазона"),
        (DEEP, "вложенность"),
    ]
    for body, words in cases:
        response = client.post(
            "/api/chats/send", content=body.encode(), headers={"Content-Type": "application/json"}
        )

        assert response.status_code == 400, (body[:80], response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert words in response.json()["detail"], body[:80]
    assert not Chat.objects.exists()
    assert not Message.objects.exists()
    assert not Hold.objects.exists()
    assert openrouter.chat_requests() == []


@pytest.mark.parametrize("prompt", ["", "   \n\x1c\u3000"])
def test_a_blank_prompt_is_400_with_the_services_words(alice_client, alice, image_model, prompt):
    fund(alice, "100.00")
    response = alice_client.post(
        "/api/media/generate",
        {"model": image_model.model_id, "prompt": prompt},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "Опишите, что нужно сгенерировать."
    assert not Generation.objects.exists()


def test_an_upload_without_a_file_says_so(alice_client):
    response = alice_client.post("/api/upload", {})

    assert response.status_code == 400
    assert response.json()["detail"] == "Выберите файл изображения."
