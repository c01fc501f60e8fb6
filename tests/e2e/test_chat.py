"""The chat page in Chromium against uvicorn and the fake OpenRouter: a reply streams in and is
paid for, model output cannot run script, code is highlighted, stop stops."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.chat_steps import ask, open_chat
from tests.helpers import fund

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings"),
]


@pytest.fixture
def chat_page(browser_page, login_browser, alice, chat_model, openrouter):
    fund(alice, "100.00")
    open_chat(browser_page, login_browser, alice, chat_model)
    return browser_page


def test_a_reply_streams_in_with_highlighted_code_and_the_balance_drops(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = ["Вот ", "пример:\n\n", "```python\n", "def hello():\n", "    return 42\n", "```\n"]
    openrouter.pace = 0.05
    expect(page.get_by_test_id("chat-balance")).to_have_text("100,00 ₽")
    # The picker shows what a typical answer costs in rubles: (1,000 × $100 + 500 × $1000) / 1M × 90 × 1.5.
    expect(page.get_by_test_id("model-price")).to_have_text("≈ 81,00 ₽ за ответ")

    ask(page, "Покажи функцию")

    assert page.get_by_test_id("user-message").inner_text() == "Покажи функцию"
    reply = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    reply.locator("pre code.hljs").wait_for()
    assert "Вот пример:" in reply.inner_text()
    # highlight.js split the code into styled tokens.
    assert reply.locator("pre code .hljs-keyword").first.inner_text() == "def"
    # 20 prompt + 6 reply tokens: (20 × 100 + 6 × 1000) / 1M × 135 = 1.08 ₽
    expect(page.get_by_test_id("chat-balance")).to_have_text("98,92 ₽")
    meta = page.get_by_test_id("assistant-message").get_by_test_id("message-meta")
    expect(meta).to_contain_text("1,08 ₽")
    assert re.search(r"20 → 6", meta.inner_text())
    # The new chat is in the list, titled by the question.
    page.get_by_test_id("chat-item").filter(has_text="Покажи функцию").wait_for()
    assert page.console_errors == []
    assert page.failed_responses == []
    assert page.external_requests == []


def test_html_in_a_reply_is_shown_as_inert_text(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = [
        "Смотри: ",
        '<img src=x onerror="window.__pwned = 1">',
        " и ",
        "<script>window.__pwned = 2</script>",
        '\n\n<b onclick="window.__pwned = 3">жирный</b>',
    ]

    ask(page, "Сломай страницу")

    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    body.filter(has_text="жирный").wait_for()
    page.get_by_test_id("send").wait_for()
    text = body.inner_text()
    assert '<img src=x onerror="window.__pwned = 1">' in text
    assert "<script>window.__pwned = 2</script>" in text
    assert body.locator("img, script, b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.failed_responses == []
    assert page.console_errors == []


def test_stop_halts_the_stream_and_cancels_the_upstream(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = [f"слово{i} " for i in range(400)]
    openrouter.pace = 0.05

    ask(page, "Расскажи длинную историю")
    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    body.filter(has_text="слово3 ").wait_for()
    page.get_by_test_id("stop").click()

    page.get_by_test_id("send").wait_for()
    assert openrouter.closed_early.wait(10)
    stopped_at = body.inner_text()
    page.wait_for_timeout(500)
    assert body.inner_text() == stopped_at
    assert "слово399" not in stopped_at
    assert not openrouter.finished.is_set()
    assert (
        "Остановлено" in page.get_by_test_id("assistant-message").get_by_test_id("message-meta").inner_text()
    )
