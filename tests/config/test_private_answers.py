"""Private answers are not cached (`Cache-Control: no-store`) and every API text is Russian."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import fund

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/wallet/", "/profile/", "/chat/", "/payments/", "/media/", "/"])
def test_every_page_of_a_signed_in_user_is_no_store(alice_client, path):
    response = alice_client.get(path)

    assert response.status_code == 200
    assert no_store(response)


@pytest.mark.parametrize("path", ["/api/wallet", "/api/chats", "/api/chats/models"])
def test_every_api_answer_is_no_store(alice_client, path):
    response = alice_client.get(path)

    assert response.status_code == 200
    assert no_store(response)


def test_api_errors_are_no_store_too(client, alice_client):
    assert no_store(client.get("/api/wallet"))  # 401, signed out
    assert no_store(alice_client.get("/api/chats/999999"))  # 404


def test_a_public_page_for_a_visitor_may_be_cached(client):
    response = client.get("/pricing/")

    assert response.status_code == 200
    assert not no_store(response)


def test_an_unknown_generation_is_a_russian_404(alice_client):
    response = alice_client.get(f"/api/media/generations/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Не найдено."}


def test_somebody_elses_generation_is_the_same_404(alice_client, bob, image_model, fal):
    from media import services

    fund(bob, "100.00")
    generation = services.generation_start(user=bob, model=image_model, prompt="a cat")

    response = alice_client.get(f"/api/media/generations/{generation.pk}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Не найдено."}


@pytest.mark.django_db(transaction=True)
def test_the_stream_and_its_refusals_are_no_store(alice, chat_model, openrouter, client_for):
    fund(alice, "100.00")

    streamed = client_for(alice).post("/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"})
    refused = client_for().post("/api/chats/send", json={"model": chat_model.model_id, "message": "Hi"})

    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("application/x-ndjson")
    assert "no-store" in streamed.headers["cache-control"]
    assert refused.status_code == 401
    assert "no-store" in refused.headers["cache-control"]
