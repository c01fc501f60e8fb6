"""Whatever Fal answers (garbage under HTTP 200, a 500, nothing in time) and wherever its result
points, a paid generation ends in its defined outcome: charged once when the files are ours, or
failed with its hold released. Never a dead task holding the user's money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from media import tasks
from media.models import Generation
from tests.fakes.fal import MP4_BYTES
from tests.helpers import MEDIA_PRICE, fund, ledger_mismatches, wallet_of
from wallets.models import Hold, LedgerEntry


@pytest.fixture
def generate(alice_client, django_capture_on_commit_callbacks):
    def post(model: str = "fal-ai/test-image"):
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(
                "/api/media/generate", {"model": model, "prompt": "a cat"}, content_type="application/json"
            )
        assert response.status_code == 202, response.content
        return Generation.objects.get(pk=response.json()["id"])

    return post


def assert_released(alice, generation) -> None:
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert Hold.objects.get(reference=generation.hold_reference).status == Hold.Status.RELEASED
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).exists()
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), 0)
    assert ledger_mismatches() == []


@pytest.mark.parametrize("answer", ["html", "error", "hang"])
def test_a_status_fal_never_answers_usably_ends_at_the_deadline_with_the_hold_released(
    alice, image_model, fal, s3, generate, settings, answer
):
    settings.FAL_TIMEOUT = 0.2
    settings.MEDIA_GENERATION_TIMEOUT = 1
    fund(alice, "100.00")
    fal.status_answer = answer

    generation = generate()

    assert_released(alice, generation)
    assert "вовремя" in generation.error


@pytest.mark.parametrize("answer", ["html", "error", "hang"])
def test_a_result_fal_cannot_serve_is_retried_then_given_up_with_the_hold_released(
    alice, image_model, fal, s3, generate, settings, answer
):
    settings.FAL_TIMEOUT = 0.2
    fund(alice, "100.00")
    fal.result_answer = answer

    generation = generate()

    assert_released(alice, generation)
    result_requests = [
        r for r in fal.server.requests if "/requests/" in r.path and not r.path.endswith("/status")
    ]
    assert len(result_requests) == tasks.POLL_RETRIES + 1


def test_a_result_that_recovers_within_the_retries_is_charged_once(alice, image_model, fal, s3, generate):
    fund(alice, "100.00")
    fal.result_answer = "html"
    asked = []

    def recover(request) -> None:
        if "/requests/" in request.path and not request.path.endswith("/status"):
            asked.append(request)
            if len(asked) == 2:
                fal.result_answer = None

    fal.server.on_request = recover

    generation = generate()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.COMPLETED
    [charge] = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE)
    assert charge.amount == -MEDIA_PRICE
    assert ledger_mismatches() == []


@pytest.mark.parametrize(
    "file_host",
    [
        "https://evil.example",  # not Fal's
        "http://169.254.169.254",  # an internal address a hostile answer could name
    ],
)
def test_result_files_are_fetched_only_from_fals_file_hosts(alice, image_model, fal, s3, generate, file_host):
    fund(alice, "100.00")
    fal.file_host = file_host

    generation = generate()

    assert_released(alice, generation)
    assert s3.names() == []


def test_a_result_on_fals_host_over_plain_http_is_refused(alice, image_model, fal, s3, generate, settings):
    settings.FAL_FILE_HOSTS = [fal.url.replace("http://", "https://")]
    fund(alice, "100.00")

    generation = generate()

    assert_released(alice, generation)
    assert not [r for r in fal.server.requests if r.path.startswith("/files/")]


def test_a_large_video_is_streamed_into_storage_intact(alice, video_model, fal, s3, generate):
    fund(alice, "100.00")
    video = MP4_BYTES + bytes(range(256)) * 12_000  # about 3 MB: past the in-memory spool
    fal.result_files = [(video, "video/mp4")]

    generation = generate("fal-ai/test-video")

    generation.refresh_from_db()
    assert generation.status == Generation.Status.COMPLETED
    [name] = s3.names()
    assert s3.get(name) == video
