"""A new user's first minutes in the chat: at 0 ₽ the empty chat says what to ask, what an
answer costs on the (inexpensive) default model and how to top up; a send refused for money
keeps the typed text and offers the top-up."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from catalog.models import AIModel
from chats.models import Chat, Message
from tests.e2e.chat_steps import choose_model
from tests.e2e.screens import DESKTOP, PHONE, screenshot
from tests.helpers import fund

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings", "catalog"),
]

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@VIEWPORTS
def test_at_zero_the_empty_chat_shows_examples_the_price_of_an_answer_and_the_top_up(
    browser_page, login_browser, alice, openrouter, viewport
):
    page = browser_page
    page.set_viewport_size(viewport)
    login_browser(page, alice)
    page.goto("/chat/")

    empty = page.get_by_test_id("chat-empty")
    expect(empty.get_by_role("heading")).to_have_text("С чего начнём?")
    expect(empty).to_be_in_viewport()
    # Gemini 2.5 Flash by default: 1,000 tokens in and 500 out cost 0,21 ₽.
    expect(page.get_by_test_id("typical-cost")).to_have_text(
        "Обычный ответ модели Gemini 2.5 Flash стоит около 0,21 ₽"
    )
    topup = page.get_by_test_id("onboarding-topup")
    expect(topup).to_be_in_viewport()
    expect(topup.get_by_role("link")).to_have_text("Пополнить баланс")
    expect(page.get_by_test_id("chat-input")).to_be_in_viewport(ratio=1)
    screenshot(page, "onboarding-zero-balance")

    # An example fills the composer; sending it at 0 ₽ is refused, and the text stays.
    example = page.get_by_test_id("example-prompt").first
    expect(example).to_be_visible()
    example.click()
    expect(page.get_by_test_id("chat-input")).to_have_value("Объясни простыми словами, как работает ипотека")
    page.get_by_test_id("send").click()

    error = page.get_by_test_id("chat-error")
    expect(error).to_contain_text("Недостаточно средств")
    expect(error).to_be_in_viewport()
    expect(page.get_by_test_id("error-topup")).to_be_in_viewport()
    expect(page.get_by_test_id("chat-input")).to_have_value("Объясни простыми словами, как работает ипотека")
    expect(page.get_by_test_id("user-message")).to_have_count(0)
    assert Message.objects.count() == 0 and Chat.objects.count() == 0
    screenshot(page, "onboarding-refused-send")

    page.get_by_test_id("error-topup").click()
    page.wait_for_url("**/topup/")
    assert page.external_requests == []


def test_with_money_the_top_up_hint_is_gone_and_the_price_follows_the_model(
    browser_page, login_browser, alice, openrouter
):
    fund(alice, "50.00")
    page = browser_page
    page.set_viewport_size(DESKTOP)
    login_browser(page, alice)
    page.goto("/chat/")

    expect(page.get_by_test_id("typical-cost")).to_contain_text("Gemini 2.5 Flash")
    expect(page.get_by_test_id("onboarding-topup")).to_be_hidden()
    choose_model(page, AIModel.objects.get(model_id="openai/gpt-4o-mini"))
    # (1,000 × 0.15 + 500 × 0.6) / 1M × 135 = 0.06075 → 0,07 ₽.
    expect(page.get_by_test_id("typical-cost")).to_have_text(
        "Обычный ответ модели GPT-4o mini стоит около 0,07 ₽"
    )
