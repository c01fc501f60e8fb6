from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import AIModel
from media import fal as fal_client
from media import services, tasks
from media.models import Generation
from tests.fakes.fal import FAL_KEY
from tests.helpers import MEDIA_PRICE, fund, in_threads, ledger_mismatches, wallet_of
from wallets.models import Hold, LedgerEntry
from wallets.services import hold_place


@pytest.fixture
def generate(alice_client, django_capture_on_commit_callbacks):
    """POSTs a generation as Alice and runs what was queued on commit (the poll task)."""

    def post(model: str = "fal-ai/test-image", prompt: str = "a purple cat", client: Client | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return (client or alice_client).post(
                "/api/media/generate", {"model": model, "prompt": prompt}, content_type="application/json"
            )

    return post


def test_a_completed_generation_is_charged_once_and_its_file_is_in_our_bucket(
    alice, alice_client, image_model, fal, s3, generate
):
    fund(alice, "100.00")

    response = generate()

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    generation = Generation.objects.get(pk=body["id"])
    assert generation.status == Generation.Status.COMPLETED
    [name] = s3.names()
    assert name.startswith("generations/") and name.endswith(".png")
    assert generation.result_urls == [f"{s3.endpoint_url}/{s3.bucket}/{name}"]
    status = alice_client.get(f"/api/media/generations/{generation.pk}").json()
    assert (status["status"], status["result_urls"], status["error"]) == (
        "completed",
        generation.result_urls,
        "",
    )
    [charge] = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE)
    assert (charge.amount, charge.reference) == (-MEDIA_PRICE, generation.hold_reference)
    assert charge.metadata["generation"] is True and charge.metadata["model"] == "fal-ai/test-image"
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("100.00") - MEDIA_PRICE, 0)
    assert ledger_mismatches() == []


def test_the_job_is_submitted_to_the_models_queue_with_the_prompt_and_the_key(
    alice, image_model, fal, s3, generate
):
    fund(alice)

    generate(prompt="  a purple cat  ")

    [submit] = fal.submits()
    assert submit.path == "/fal-ai/test-image"
    assert submit.json() == {"prompt": "a purple cat"}
    queue_calls = [r for r in fal.server.requests if not r.path.startswith("/files/")]
    assert {r.headers.get("Authorization") for r in queue_calls} == {f"Key {FAL_KEY}"}
    # The key never goes to the file host.
    assert all("Authorization" not in r.headers for r in fal.server.requests if r.path.startswith("/files/"))


def test_the_poll_task_run_twice_more_still_charges_once_and_stores_one_copy(
    alice, image_model, fal, s3, generate
):
    fund(alice, "100.00")
    generation_id = generate().json()["id"]

    tasks.generation_poll.apply(args=[generation_id])
    tasks.generation_poll.apply(args=[generation_id])

    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == 1
    assert wallet_of(alice).balance == Decimal("100.00") - MEDIA_PRICE
    assert len(s3.names()) == 1
    assert ledger_mismatches() == []


def test_storage_down_while_copying_is_retried_then_given_up_with_nothing_charged_or_stored(
    alice, image_model, fal, s3, generate
):
    fund(alice, "100.00")
    s3.client.delete_bucket(Bucket=s3.bucket)

    generation_id = generate().json()["id"]

    # Every try failed to store the file: the job is given up, its money given back.
    generation = Generation.objects.get(pk=generation_id)
    assert len(fal.server.requests_to(f"/fal-ai/test-image/requests/{generation.fal_request_id}")) == (
        tasks.POLL_RETRIES + 1
    )
    assert generation.status == Generation.Status.FAILED
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).exists()
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), 0)
    s3.client.create_bucket(Bucket=s3.bucket, CreateBucketConfiguration={"LocationConstraint": "ru-central1"})
    assert s3.names() == []
    # A late run changes nothing.
    tasks.generation_poll.apply(args=[generation_id])
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert ledger_mismatches() == []


def test_storage_back_within_the_retries_charges_once(alice, image_model, fal, s3, generate):
    fund(alice, "100.00")
    s3.client.delete_bucket(Bucket=s3.bucket)
    tries = []

    def storage_back(request) -> None:
        if "/requests/" in request.path and not request.path.endswith("/status"):
            tries.append(request)
            if len(tries) == 2:
                s3.client.create_bucket(
                    Bucket=s3.bucket, CreateBucketConfiguration={"LocationConstraint": "ru-central1"}
                )

    fal.server.on_request = storage_back

    generation = Generation.objects.get(pk=generate().json()["id"])

    assert generation.status == Generation.Status.COMPLETED
    assert len(s3.names()) == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == 1
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("100.00") - MEDIA_PRICE, 0)
    assert ledger_mismatches() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_polls_finishing_the_same_job_at_once_charge_once_and_keep_one_copy(alice, image_model, fal, s3):
    fund(alice, "100.00")
    # A running job as generation_start leaves it, without its own poll (which would win alone).
    hold_place(user=alice, amount=MEDIA_PRICE, reference="fal:race")
    submission = fal_client.submit(model=image_model.model_id, arguments={"prompt": "a cat"})
    generation = Generation.objects.create(
        user=alice,
        model=image_model.model_id,
        kind=image_model.kind,
        prompt="a cat",
        price=MEDIA_PRICE,
        status=Generation.Status.RUNNING,
        hold_reference="fal:race",
        fal_request_id=submission.request_id,
        status_url=submission.status_url,
        response_url=submission.response_url,
    )

    results = in_threads(4, lambda i: services.generation_poll(generation_id=generation.pk))

    assert [r for r in results if isinstance(r, Exception)] == []
    generation.refresh_from_db()
    assert generation.status == Generation.Status.COMPLETED
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == 1
    assert s3.names() == sorted(url.split(f"/{s3.bucket}/")[1] for url in generation.result_urls)
    assert wallet_of(alice).balance == Decimal("100.00") - MEDIA_PRICE
    assert ledger_mismatches() == []


def test_a_failing_job_is_not_charged_and_its_hold_is_released(
    alice, alice_client, image_model, fal, s3, generate
):
    fund(alice, "100.00")
    fal.outcome = "fail"

    generation_id = generate().json()["id"]

    status = alice_client.get(f"/api/media/generations/{generation_id}").json()
    assert status["status"] == "failed"
    assert status["error"] == "Модель не смогла выполнить запрос. Деньги не списаны."
    assert Hold.objects.get().status == Hold.Status.RELEASED
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).exists()
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), 0)
    assert s3.names() == []
    assert ledger_mismatches() == []


def test_a_job_that_never_completes_is_given_up_at_the_deadline_without_a_charge(
    alice, alice_client, image_model, fal, s3, generate, settings
):
    settings.MEDIA_GENERATION_TIMEOUT = 0.3
    fund(alice, "100.00")
    fal.outcome = "never"

    generation_id = generate().json()["id"]

    generation = Generation.objects.get(pk=generation_id)
    assert generation.status == Generation.Status.FAILED
    assert "не завершилась вовремя" in generation.error
    assert len(fal.server.requests_to(f"/fal-ai/test-image/requests/{generation.fal_request_id}/status")) >= 1
    assert Hold.objects.get().status == Hold.Status.RELEASED
    assert wallet_of(alice).balance == Decimal("100.00")
    assert ledger_mismatches() == []


@pytest.mark.parametrize(
    "result_files",
    [
        [(b"<html>not a picture</html>", "image/png")],
        [(b"not a video at all", "video/mp4")],
        [(b"%PDF-1.4", "application/pdf")],
    ],
    ids=["html-as-png", "text-as-mp4", "pdf"],
)
def test_a_result_that_is_not_the_media_it_claims_is_refused_and_not_charged(
    alice, image_model, fal, s3, generate, result_files
):
    fund(alice, "100.00")
    fal.result_files = result_files

    generation = Generation.objects.get(pk=generate().json()["id"])

    assert generation.status == Generation.Status.FAILED
    assert s3.names() == []
    assert wallet_of(alice).balance == Decimal("100.00")


def test_a_result_over_the_size_limit_is_refused_and_not_charged(
    alice, image_model, fal, s3, generate, settings
):
    settings.MEDIA_RESULT_MAX_BYTES = 100
    fund(alice, "100.00")

    generation = Generation.objects.get(pk=generate().json()["id"])

    assert generation.status == Generation.Status.FAILED
    assert s3.names() == []
    assert wallet_of(alice).held == 0


def test_too_low_a_balance_is_a_402_and_nothing_is_submitted(alice, image_model, fal, s3, generate):
    fund(alice, "5.00")

    response = generate()

    assert response.status_code == 402
    assert response.json()["detail"]
    assert not Generation.objects.exists()
    assert fal.submits() == []
    assert wallet_of(alice).held == 0


@pytest.mark.parametrize("model_id", ["no/such-model", "openai/gpt-4o-test", "fal-ai/disabled"])
def test_an_unknown_disabled_or_text_model_is_a_404(alice, fal, generate, model_id):
    fund(alice)
    AIModel.objects.create(model_id="openai/gpt-4o-test", name="GPT", group="OpenAI")
    AIModel.objects.create(
        model_id="fal-ai/disabled",
        name="Off",
        group="Img",
        kind="image",
        price_per_generation=1,
        enabled=False,
    )

    response = generate(model=model_id)

    assert response.status_code == 404
    assert response.json()["detail"]
    assert fal.submits() == []


def test_an_empty_prompt_is_a_400(alice, image_model, fal, generate):
    fund(alice)

    response = generate(prompt="   ")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert wallet_of(alice).held == 0


@pytest.mark.parametrize(
    "body",
    [{"prompt": "a cat"}, {"model": "fal-ai/test-image", "prompt": "x" * 4001}, ["not", "an", "object"]],
    ids=["no-model", "prompt-too-long", "not-an-object"],
)
def test_a_malformed_request_is_a_json_400_and_holds_nothing(alice, alice_client, image_model, fal, body):
    fund(alice)

    response = alice_client.post("/api/media/generate", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert wallet_of(alice).held == 0
    assert fal.submits() == []


def test_a_signed_out_generate_is_a_json_401(client, image_model, fal):
    response = client.post(
        "/api/media/generate", {"model": "fal-ai/test-image", "prompt": "x"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["detail"]


def test_without_a_fal_key_the_api_says_generation_is_not_configured(alice, image_model, generate, settings):
    settings.FAL_KEY = ""
    fund(alice, "100.00")

    response = generate()

    assert response.status_code == 503
    assert "не настроена" in response.json()["detail"]
    assert wallet_of(alice).held == 0
    assert Hold.objects.get().status == Hold.Status.RELEASED


def test_a_key_fal_refuses_fails_the_generation_and_releases_the_hold(
    alice, image_model, fal, generate, settings
):
    settings.FAL_KEY = "wrong-key"
    fund(alice, "100.00")

    response = generate()

    assert response.status_code == 503
    assert response.json()["status"] == "failed"
    assert wallet_of(alice).held == 0


def test_an_unreachable_fal_fails_the_generation_at_once_without_a_charge(
    alice, image_model, generate, settings
):
    settings.FAL_KEY = FAL_KEY
    settings.FAL_QUEUE_URL = "http://127.0.0.1:9"  # the discard port: nothing listens
    fund(alice, "100.00")

    response = generate()

    assert response.status_code == 503
    assert "недоступен" in response.json()["detail"]
    assert wallet_of(alice).held == 0
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).exists()


def test_status_urls_off_fals_queue_host_are_refused_so_our_key_stays_with_fal(
    alice, image_model, fal, generate
):
    fal.status_host = "http://localhost:1"
    fund(alice, "100.00")

    response = generate()

    assert response.status_code == 503
    assert Generation.objects.get().status == Generation.Status.FAILED
    assert wallet_of(alice).held == 0


def test_fal_status_hiccups_are_waited_out_and_the_job_is_charged_once(alice, image_model, fal, s3, generate):
    fal.status_errors = 3
    fund(alice, "100.00")

    generation = Generation.objects.get(pk=generate().json()["id"])

    assert generation.status == Generation.Status.COMPLETED
    assert fal.status_errors == 0
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == 1


def test_a_result_fal_cannot_serve_for_a_moment_is_fetched_on_the_tasks_retry(
    alice, image_model, fal, s3, generate
):
    fal.result_errors = 1
    fund(alice, "100.00")

    generation = Generation.objects.get(pk=generate().json()["id"])

    assert generation.status == Generation.Status.COMPLETED
    assert len(fal.server.requests_to(f"/fal-ai/test-image/requests/{generation.fal_request_id}")) == 2
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == 1
    assert len(s3.names()) == 1


def test_another_users_generation_status_is_a_404(alice, bob, image_model, fal, s3, generate):
    fund(alice)
    generation_id = generate().json()["id"]
    bob_client = Client()
    bob_client.force_login(bob)

    response = bob_client.get(f"/api/media/generations/{generation_id}")

    assert response.status_code == 404
    assert response.json()["detail"]


def test_a_generation_nobody_polls_any_more_is_expired_and_its_hold_released(
    alice, image_model, fal, settings
):
    fund(alice, "100.00")
    fal.gate.clear()
    with_callbacks_dropped = services.generation_start(user=alice, model=image_model, prompt="a cat")
    Generation.objects.filter(pk=with_callbacks_dropped.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.MEDIA_GENERATION_TIMEOUT + 301)
    )

    assert tasks.generations_expire.apply().get() == 1

    assert Generation.objects.get().status == Generation.Status.FAILED
    assert wallet_of(alice).held == 0
    assert tasks.generations_expire.apply().get() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_generations_never_push_the_wallet_below_zero(alice, image_model, fal, s3):
    fund(alice, "30.00")  # enough for two generations at 12.50

    def start(i: int):
        client = Client()
        client.force_login(alice)
        return client.post(
            "/api/media/generate",
            {"model": "fal-ai/test-image", "prompt": f"cat {i}"},
            content_type="application/json",
        ).status_code

    codes = in_threads(8, start)

    assert sorted(codes) == [202, 202] + [402] * 6
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("30.00") - 2 * MEDIA_PRICE, 0)
    assert Generation.objects.filter(status=Generation.Status.COMPLETED).count() == 2
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE).count() == 2
    assert ledger_mismatches() == []
