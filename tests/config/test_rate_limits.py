"""Per-user rate limits (settings.RATE_LIMITS): past its bound each action answers 429 with a
Retry-After and a Russian message, stores nothing, and other users are not affected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chats.models import Chat, Message
from media.models import Upload
from payments.models import Payment
from tests.helpers import fund, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings):
    def set_limit(scope: str, rate: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, scope: rate}

    return set_limit


def assert_throttled(status: int, headers, detail: str, period: int) -> None:
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= period
    assert detail.startswith("Слишком много запросов. Повторите через ")


def test_chat_creations_past_the_limit_are_429(alice_client, client_factory, bob, chat_model, limit):
    limit("chat_create", "3/m")
    body = {"model": chat_model.model_id, "title": "x"}
    for _ in range(3):
        assert alice_client.post("/api/chats", body, content_type="application/json").status_code == 201

    response = alice_client.post("/api/chats", body, content_type="application/json")

    assert_throttled(response.status_code, response, response.json()["detail"], 60)
    assert Chat.objects.count() == 3
    # Reading is not limited, nor is another user.
    assert alice_client.get("/api/chats").status_code == 200
    bobs = client_factory()
    bobs.force_login(bob)
    assert bobs.post("/api/chats", body, content_type="application/json").status_code == 201


def test_payment_creations_past_the_limit_are_429_and_yookassa_is_not_asked(alice_client, yookassa, limit):
    limit("payment_create", "2/m")
    for _ in range(2):
        assert (
            alice_client.post(
                "/api/payment/create", {"amount": 500}, content_type="application/json"
            ).status_code
            == 200
        )

    response = alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")

    assert_throttled(response.status_code, response, response.json()["detail"], 60)
    assert Payment.objects.count() == 2
    assert len(yookassa.payments) == 2


def test_uploads_past_the_hourly_limit_are_429(alice_client, settings, tmp_path, limit):
    settings.MEDIA_ROOT = tmp_path
    limit("upload", "2/h")

    def upload():
        picture = SimpleUploadedFile("p.png", image_bytes("PNG"), content_type="image/png")
        return alice_client.post("/api/upload", {"file": picture})

    assert [upload().status_code for _ in range(2)] == [201, 201]
    response = upload()

    assert_throttled(response.status_code, response, response.json()["detail"], 3600)
    assert Upload.objects.count() == 2


def test_generations_past_the_limit_are_429(alice_client, alice, image_model, fal, limit):
    fund(alice, "100.00")
    limit("media_generate", "1/m")
    body = {"model": image_model.model_id, "prompt": "a cat"}
    assert alice_client.post("/api/media/generate", body, content_type="application/json").status_code == 202

    response = alice_client.post("/api/media/generate", body, content_type="application/json")

    assert_throttled(response.status_code, response, response.json()["detail"], 60)


@pytest.mark.django_db(transaction=True)
def test_sends_past_the_limit_are_429_before_any_stream(
    alice, bob, chat_model, openrouter, client_for, limit
):
    fund(alice, "100.00")
    fund(bob, "100.00")
    limit("chat_send", "2/m")
    client = client_for(alice)
    body = {"model": chat_model.model_id, "message": "Hi"}
    assert [client.post("/api/chats/send", json=body).status_code for _ in range(2)] == [200, 200]

    response = client.post("/api/chats/send", json=body)

    assert_throttled(response.status_code, response.headers, response.json()["detail"], 60)
    assert "no-store" in response.headers["cache-control"]
    assert Message.objects.filter(chat__user=alice).count() == 4  # two sends, two replies
    assert len(openrouter.chat_requests()) == 2
    assert client_for(bob).post("/api/chats/send", json=body).status_code == 200


def test_open_top_ups_past_the_cap_are_429_until_one_is_finished(
    alice_client, alice, yookassa, settings, limit
):
    limit("payment_create", "100/m")
    settings.PAYMENTS_MAX_PENDING = 2
    settings.PAYMENTS_PENDING_WINDOW_SECONDS = 600

    def create():
        return alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")

    assert [create().status_code for _ in range(2)] == [200, 200]

    refused = create()

    assert refused.status_code == 429
    assert 590 <= int(refused["Retry-After"]) <= 601
    assert "неоплаченные пополнения" in refused.json()["detail"]
    assert Payment.objects.count() == 2
    assert len(yookassa.payments) == 2
    # A finished one (paid or canceled) frees its place; so does one older than the window.
    Payment.objects.filter(pk=Payment.objects.first().pk).update(status=Payment.Status.CANCELED)
    assert create().status_code == 200
    assert create().status_code == 429
    Payment.objects.update(created_at=timezone.now() - timedelta(seconds=601))
    assert create().status_code == 200


def test_uploads_past_the_storage_quota_are_429_until_old_ones_leave_the_window(
    alice_client, bob, client_factory, settings, tmp_path, limit
):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_UPLOAD_QUOTA_DAYS = 1
    picture_bytes = image_bytes("PNG")
    settings.MEDIA_UPLOAD_QUOTA_BYTES = 2 * len(picture_bytes) + 10

    def upload(client=alice_client):
        picture = SimpleUploadedFile("p.png", picture_bytes, content_type="image/png")
        return client.post("/api/upload", {"file": picture})

    assert [upload().status_code for _ in range(2)] == [201, 201]
    refused = upload()

    assert refused.status_code == 429
    assert 86_390 <= int(refused["Retry-After"]) <= 86_401
    assert refused.json()["detail"].startswith("Лимит хранилища")
    assert Upload.objects.count() == 2
    assert len(list((tmp_path / "uploads").rglob("*.png"))) == 2
    bobs = client_factory()
    bobs.force_login(bob)
    assert upload(bobs).status_code == 201
    Upload.objects.filter(owner__email="alice@example.com").update(
        created_at=timezone.now() - timedelta(days=1)
    )
    assert upload().status_code == 201
