from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from config.celery import app as celery_app
from media import services, tasks
from media.models import Generation, Upload
from tests.e2e.chat_steps import choose_model
from tests.helpers import fund, image_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def media(request, settings) -> SimpleNamespace:
    """The media tests' fakes (moto S3, Fal) and fixtures, for the browser.

    The page may show pictures from moto's plain-http address, as the settings allow for an
    http S3 endpoint.
    """
    bucket = request.getfixturevalue("s3")
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {
        **policy["DIRECTIVES"],
        "img-src": [*policy["DIRECTIVES"]["img-src"], bucket.endpoint_url],
        "media-src": [*policy["DIRECTIVES"]["media-src"], bucket.endpoint_url],
    }
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    return SimpleNamespace(
        s3=bucket,
        fal=request.getfixturevalue("fal"),
        model=request.getfixturevalue("image_model"),
    )


def loaded_width(image) -> int:
    """The picture's width once the browser has fetched and decoded it (0 if it could not)."""
    return image.evaluate("el => el.decode().then(() => el.naturalWidth, () => 0)")


@pytest.fixture
def tasks_queued():
    """The poll task is queued, not run inside the request, as with a real worker; the test
    plays the worker. Whatever stayed in the broker is dropped afterwards."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True
    celery_app.control.purge()


def test_a_generation_from_the_gallery_shows_pending_then_the_picture(
    browser_page, login_browser, alice, media, tasks_queued
):
    page = browser_page
    fund(alice, "100.00")
    login_browser(page, alice)
    media.fal.gate.clear()

    page.goto("/media/")
    page.get_by_test_id("generate-prompt").fill("a purple cat")
    page.get_by_test_id("generate-submit").click()

    item = page.get_by_test_id("media-item").first
    expect(item.get_by_test_id("media-pending")).to_be_visible()
    generation = Generation.objects.get()
    assert generation.prompt == "a purple cat"
    # The worker's turn: Fal finishes, the task copies the picture into the bucket.
    media.fal.gate.set()
    tasks.generation_poll.apply(args=[str(generation.pk)])

    image = item.get_by_test_id("media-image")
    expect(image).to_be_visible()
    expect(item.get_by_test_id("media-pending")).to_be_hidden()
    [name] = media.s3.names()
    assert image.get_attribute("src") == f"{media.s3.endpoint_url}/{media.s3.bucket}/{name}"
    assert loaded_width(image) == 64
    assert page.console_errors == []
    assert page.failed_responses == []
    assert page.external_requests == []


def test_a_pending_generation_in_the_gallery_turns_into_its_picture_without_a_reload(
    browser_page, login_browser, alice, media, tasks_queued
):
    page = browser_page
    fund(alice, "100.00")
    media.fal.gate.clear()
    generation = services.generation_start(user=alice, model=media.model, prompt="a dog on the moon")
    login_browser(page, alice)

    page.goto("/media/")
    item = page.locator("[data-kind=generation]")
    expect(item.get_by_test_id("media-pending")).to_be_visible()
    media.fal.gate.set()
    tasks.generation_poll.apply(args=[str(generation.pk)])

    expect(item.get_by_test_id("media-image")).to_be_visible()
    expect(item).to_have_attribute("data-status", "completed")
    assert loaded_width(item.get_by_test_id("media-image")) == 64
    assert page.console_errors == []


def test_an_upload_from_the_gallery_appears_and_stays_after_a_reload(
    browser_page, login_browser, alice, media, tmp_path
):
    page = browser_page
    login_browser(page, alice)
    picture = tmp_path / "holiday.png"
    picture.write_bytes(image_bytes("PNG", size=(80, 60)))

    page.goto("/media/")
    page.get_by_test_id("upload-input").set_input_files(str(picture))

    expect(page.get_by_test_id("media-image")).to_have_count(1)
    upload = Upload.objects.get(owner=alice)
    assert page.get_by_test_id("media-image").get_attribute("src") == upload.url
    page.reload()
    expect(page.locator("[data-kind=upload]")).to_have_count(1)
    assert loaded_width(page.get_by_test_id("media-image")) == 80
    assert page.console_errors == []
    assert page.external_requests == []


# The chat page ---------------------------------------------------------------------------------
def test_a_picture_attached_in_the_chat_goes_to_the_vision_model_and_stays_on_the_message(
    browser_page, login_browser, alice, media, request, tmp_path
):
    page = browser_page
    upstream = request.getfixturevalue("openrouter")
    vision = request.getfixturevalue("vision_model")
    upstream.tokens = ["На ", "картинке ", "кот."]
    fund(alice, "100.00")
    login_browser(page, alice)
    picture = tmp_path / "cat.png"
    picture.write_bytes(image_bytes("PNG", size=(80, 60)))

    page.goto("/chat/")
    choose_model(page, vision)
    page.get_by_test_id("attach").set_input_files(str(picture))
    expect(page.get_by_test_id("attached-image")).to_have_count(1)
    page.get_by_test_id("chat-input").fill("Что на картинке?")
    page.get_by_test_id("send").click()

    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-body")).to_have_text(
        "На картинке кот."
    )
    upload = Upload.objects.get(owner=alice)
    shown = page.get_by_test_id("user-message").locator("img")
    expect(shown).to_have_attribute("src", upload.url)
    assert loaded_width(shown) == 80
    # The model was given the picture as an image part, by its URL in our bucket.
    [sent] = upstream.chat_requests()
    parts = sent.json()["messages"][-1]["content"]
    assert {"type": "image_url", "image_url": {"url": upload.url}} in parts
    assert page.console_errors == []
    assert page.external_requests == []


def test_an_image_model_in_the_chat_shows_pending_then_the_picture(
    browser_page, login_browser, alice, media, tasks_queued
):
    page = browser_page
    fund(alice, "100.00")
    media.fal.gate.clear()
    login_browser(page, alice)

    page.goto("/chat/")
    choose_model(page, media.model)
    page.get_by_test_id("chat-input").fill("a purple cat")
    page.get_by_test_id("send").click()

    reply = page.get_by_test_id("assistant-message")
    expect(reply).to_contain_text("Генерация")
    generation = Generation.objects.get()
    media.fal.gate.set()
    tasks.generation_poll.apply(args=[str(generation.pk)])

    generation.refresh_from_db()
    expect(reply.locator("img")).to_have_attribute("src", generation.result_urls[0], timeout=5_000)
    assert loaded_width(reply.locator("img")) == 64
