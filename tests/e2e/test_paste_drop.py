"""Pictures pasted into the composer or dropped on the chat are attached when the model can see
them; for a model that cannot, the reader is told why and nothing is uploaded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from media.models import Upload
from tests.e2e.chat_steps import choose_model
from tests.e2e.screens import PHONE, screenshot
from tests.helpers import fund

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings"),
]

# A real PNG drawn on a canvas, handed over as the browser would: in a paste or a drop event.
HAND_OVER = """async ([kind, selector]) => {
  const canvas = document.createElement("canvas");
  canvas.width = 40;
  canvas.height = 30;
  canvas.getContext("2d").fillRect(0, 0, 40, 30);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], "picture.png", { type: "image/png" }));
  const target = document.querySelector(selector);
  const event =
    kind === "paste"
      ? new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
      : new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
}"""


@pytest.fixture
def chat_page(browser_page, login_browser, alice, openrouter, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fund(alice, "100.00")
    login_browser(browser_page, alice)
    browser_page.goto("/chat/")
    return browser_page


def test_pasted_and_dropped_pictures_go_to_a_vision_model(vision_model, chat_page, openrouter, alice):
    page = chat_page
    page.set_viewport_size(PHONE)
    choose_model(page, vision_model)

    page.evaluate(HAND_OVER, ["paste", "[data-testid=chat-input]"])
    expect(page.get_by_test_id("attached-image")).to_have_count(1)
    page.evaluate(HAND_OVER, ["drop", "[data-testid=chat-main]"])
    expect(page.get_by_test_id("attached-image")).to_have_count(2)
    screenshot(page, "pasted-pictures")
    page.get_by_test_id("chat-input").fill("Что на картинках?")
    page.get_by_test_id("send").click()

    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_contain_text("₽")
    urls = sorted(Upload.objects.filter(owner=alice).values_list("url", flat=True))
    assert len(urls) == 2
    parts = openrouter.chat_requests()[-1].json()["messages"][-1]["content"]
    assert sorted(part["image_url"]["url"] for part in parts if part["type"] == "image_url") == urls
    assert page.console_errors == []


def test_a_model_that_cannot_see_says_why_and_uploads_nothing(chat_model, chat_page):
    page = chat_page
    choose_model(page, chat_model)

    page.evaluate(HAND_OVER, ["paste", "[data-testid=chat-input]"])

    expect(page.get_by_test_id("chat-error")).to_contain_text("Эта модель не понимает изображения")
    expect(page.get_by_test_id("chat-error")).to_be_in_viewport()
    expect(page.get_by_test_id("attached-image")).to_have_count(0)
    assert Upload.objects.count() == 0
