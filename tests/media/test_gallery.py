from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from media.models import Generation, Upload


def make_upload(user, name: str, minutes_ago: int) -> Upload:
    upload = Upload.objects.create(
        owner=user,
        name=f"uploads/2026/11/{name}.png",
        url=f"https://cdn.example.com/uploads/2026/11/{name}.png",
        content_type="image/png",
        size=100,
        width=4,
        height=3,
    )
    Upload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return upload


def make_generation(user, prompt: str, minutes_ago: int, **fields) -> Generation:
    fields = {
        "status": Generation.Status.COMPLETED,
        "finished_at": timezone.now(),
        "result_urls": [f"https://cdn.example.com/generations/{prompt}.png"],
        **fields,
    }
    generation = Generation.objects.create(
        user=user,
        model="fal-ai/test-image",
        kind="image",
        prompt=prompt,
        price="12.50",
        hold_reference=f"fal:{prompt}",
        **fields,
    )
    Generation.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return generation


@pytest.fixture
def alices_items(alice):
    return [
        make_upload(alice, "newest-upload", 1),
        make_generation(alice, "middle-cat", 2),
        make_upload(alice, "older-upload", 3),
        make_generation(
            alice, "oldest-failed", 4, status=Generation.Status.FAILED, error="Сбой", result_urls=[]
        ),
    ]


def test_the_gallery_shows_the_users_uploads_and_generations_newest_first(alice_client, alices_items):
    response = alice_client.get("/media/")

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == alices_items
    html = response.content.decode()
    assert html.index("newest-upload.png") < html.index("middle-cat.png") < html.index("older-upload.png")
    assert "Сбой" in html


def test_the_gallery_is_paginated(alice_client, alices_items, settings):
    settings.MEDIA_GALLERY_PAGE_SIZE = 3

    first = alice_client.get("/media/").context["page"]
    second = alice_client.get("/media/?page=2").context["page"]

    assert list(first.object_list) == alices_items[:3]
    assert list(second.object_list) == alices_items[3:]


def gallery_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("media_gallery"))
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_a_gallery_page_costs_the_same_queries_whatever_its_size(alice_client, alice, settings):
    settings.MEDIA_GALLERY_PAGE_SIZE = 24
    make_upload(alice, "upload-0", 0)
    make_generation(alice, "gen-0", 0)
    small = gallery_queries(alice_client)

    for i in range(1, 12):
        make_upload(alice, f"upload-{i}", i)
        make_generation(alice, f"gen-{i}", i)
    full = gallery_queries(alice_client)

    # A page of 2 items and a page of 24 (uploads and generations mixed) ask the same questions.
    assert len(small) == len(full)


def test_another_users_gallery_items_are_not_shown_and_their_job_is_a_404(alice_client, alices_items, bob):
    bobs_upload = make_upload(bob, "bobs-secret", 0)
    bobs_generation = make_generation(bob, "bobs-cat", 0)

    html = alice_client.get("/media/").content.decode()
    status = alice_client.get(f"/api/media/generations/{bobs_generation.pk}")

    assert "bobs-secret" not in html and "bobs-cat" not in html
    assert bobs_upload.url not in html
    assert status.status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/media/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_owner_sees_their_own_generation_status(alice_client, alice):
    generation = make_generation(alice, "mine", 0)

    response = alice_client.get(f"/api/media/generations/{generation.pk}")

    assert response.status_code == 200
    assert response.json()["result_urls"] == generation.result_urls


def test_a_signed_out_status_request_is_a_json_401(alice):
    generation = make_generation(alice, "mine", 0)

    response = Client().get(f"/api/media/generations/{generation.pk}")

    assert response.status_code == 401
    assert response.json()["detail"]
