"""Message actions in Chromium: copy a code block (its language shown) and a message, regenerate
the last reply, edit a question and send it again, retry after a provider error. Each new reply
is billed; a reply cut by an error says so (not «Остановлено») and keeps saying so after a
reload."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from chats.models import Message
from tests.e2e.chat_steps import ask, open_chat
from tests.e2e.screens import DESKTOP, PHONE, screenshot
from tests.helpers import balance, browser_pause, fund, wait_until
from wallets.models import LedgerEntry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings"),
]

CODE_REPLY = [
    "Вот функция:\n\n",
    "```python\n",
    "def hello():\n",
    "    return 42\n",
    "```\n",
    "И `inline` код.",
]


@pytest.fixture
def chat_page(browser_page, login_browser, alice, chat_model, openrouter):
    fund(alice, "100.00")
    browser_page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_chat(browser_page, login_browser, alice, chat_model)
    return browser_page


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def charges(user) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(wallet_id=user.pk, kind=LedgerEntry.Kind.CHARGE)
        .order_by("id")
        .values_list("amount", flat=True)
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_copy_regenerate_and_edit_and_resend(chat_page, openrouter, alice, viewport):
    page = chat_page
    page.set_viewport_size(viewport)
    openrouter.tokens = CODE_REPLY
    ask(page, "Покажи функцию")

    reply = page.get_by_test_id("assistant-message")
    block = reply.get_by_test_id("code-block")
    expect(block.get_by_test_id("code-lang")).to_have_text("python")
    expect(block.locator("code .hljs-keyword").first).to_have_text("def")
    # Inline code has no literal backticks around it.
    inline = reply.get_by_test_id("message-body").locator(":not(pre) > code")
    expect(inline).to_have_text("inline")
    assert "`" not in inline.evaluate("el => getComputedStyle(el, '::before').content")
    expect(reply.get_by_test_id("regenerate")).to_be_visible()
    block.scroll_into_view_if_needed()
    screenshot(page, "message-actions")

    block.get_by_test_id("copy-code").click()
    expect(block.get_by_test_id("copy-code")).to_contain_text("Скопировано")
    assert clipboard(page) == "def hello():\n    return 42"
    reply.get_by_test_id("copy-message").click()
    assert clipboard(page) == "".join(CODE_REPLY)

    # Regenerate: a new reply replaces the old one and is billed on its own.
    openrouter.tokens = ["Другой", " ответ"]
    reply.get_by_test_id("regenerate").click()
    expect(page.get_by_test_id("assistant-message")).to_have_count(1)
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-body")).to_have_text(
        "Другой ответ"
    )
    expect(page.get_by_test_id("assistant-message").get_by_test_id("regenerate")).to_be_in_viewport()
    wait_until(lambda: len(charges(alice)) == 2, pause=browser_pause(page))

    # Edit the question and send it again.
    question = page.get_by_test_id("user-message")
    question.get_by_test_id("edit-message").click()
    edit = page.get_by_test_id("edit-input")
    expect(edit).to_have_value("Покажи функцию")
    edit.fill("Покажи функцию на Rust")
    openrouter.tokens = ["fn", " main"]
    screenshot(page, "message-edit")
    page.get_by_test_id("edit-send").click()
    expect(page.get_by_test_id("user-message")).to_have_count(1)
    expect(page.get_by_test_id("user-message").get_by_test_id("message-body")).to_have_text(
        "Покажи функцию на Rust"
    )
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-body")).to_have_text("fn main")
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_be_in_viewport()
    # Three replies, three charges; the ledger keeps them all, the balance matches.
    wait_until(lambda: len(charges(alice)) == 3, pause=browser_pause(page))
    assert balance(alice) == Decimal("100.00") + sum(charges(alice))
    assert list(Message.objects.values_list("content", flat=True)) == ["Покажи функцию на Rust", "fn main"]
    assert page.console_errors == []
    assert page.external_requests == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_failed_reply_is_labelled_as_an_error_kept_after_reload_and_retried(
    chat_page, openrouter, alice, viewport
):
    page = chat_page
    page.set_viewport_size(viewport)
    openrouter.status = 500
    ask(page, "Вопрос")

    reply = page.get_by_test_id("assistant-message")
    expect(reply.get_by_test_id("message-error")).to_contain_text("Модель сейчас недоступна")
    expect(reply.get_by_test_id("message-error")).to_be_in_viewport()
    expect(reply.get_by_test_id("retry")).to_be_in_viewport()
    expect(reply.get_by_test_id("message-meta")).to_have_text("Ошибка модели")
    page.reload()
    reply = page.get_by_test_id("assistant-message")
    expect(reply.get_by_test_id("message-error")).to_contain_text("Модель сейчас недоступна")
    screenshot(page, "message-error")
    assert charges(alice) == []

    openrouter.status = 200
    openrouter.tokens = ["Получилось"]
    reply.get_by_test_id("retry").click()
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-body")).to_have_text("Получилось")
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-error")).to_be_hidden()
    wait_until(lambda: len(charges(alice)) == 1, pause=browser_pause(page))


def test_a_reply_cut_by_a_provider_error_does_not_read_as_stopped(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = ["один ", "два ", "три "]
    openrouter.error_after = 2
    ask(page, "Вопрос")

    reply = page.get_by_test_id("assistant-message")
    expect(reply.get_by_test_id("message-error")).to_contain_text("Ответ прервался из-за ошибки модели")
    expect(reply.get_by_test_id("message-meta")).to_contain_text("Ошибка модели")
    expect(reply.get_by_test_id("message-meta")).not_to_contain_text("Остановлено")
    expect(reply.get_by_test_id("retry")).to_be_visible()
