"""A new user's first session on a phone, end to end (issue 15's walk): sign in by code, see the
onboarding at 0 ₽, top up through the widget, choose a model by searching, send, copy a code
block, stop a reply with Esc, regenerate, edit and resend, reopen the chat from the drawer, switch
to dark mode. Each step checks what is on the screen, in the viewport. (Switching to English is
walked by the locale work: tests of issue 15's other half.)"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from tests.e2e.chat_steps import choose_model
from tests.e2e.screens import PHONE, screenshot
from tests.e2e.test_topup import widget  # noqa: F401  (the YooKassa widget stand-in)
from tests.helpers import browser_pause, code_from_outbox, wait_until
from wallets.models import LedgerEntry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings", "catalog", "widget"),
]


def test_a_new_user_walks_from_sign_in_to_dark_mode_on_a_phone(
    browser_page,
    asgi_server,
    make_user,
    chat_model,
    openrouter,
    yookassa,
    settings,
):
    settings.YOOKASSA_WEBHOOK_IPS = ["127.0.0.1"]
    alice = make_user("email_alice", email="alice@example.com", name="Алиса")
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    page = browser_page
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pause = browser_pause(page)

    # Sign in by code, straight into the chat.
    page.goto("/accounts/login/?next=/chat/")
    page.locator("input[name=email]").fill("alice@example.com")
    page.get_by_test_id("email-sign-in").locator("button[type=submit]").click()
    page.locator("input[name=code]").fill(code_from_outbox("alice@example.com"))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url("**/chat/")
    expect(page.get_by_test_id("toast").first).to_be_in_viewport()
    expect(page.get_by_test_id("chat-input")).to_be_in_viewport(ratio=1)

    # 0 ₽: the onboarding offers the top-up.
    expect(page.get_by_test_id("header-balance-amount")).to_have_text("0,00 ₽")
    topup = page.get_by_test_id("onboarding-topup")
    expect(topup).to_be_in_viewport()
    screenshot(page, "journey-1-onboarding")
    topup.get_by_role("link").click()
    page.wait_for_url("**/topup/")
    page.get_by_test_id("topup-preset").nth(2).click()
    page.get_by_test_id("topup-submit").click()
    page.get_by_test_id("widget-pay").click()
    payment = yookassa.only_payment()
    yookassa.succeed(payment["id"])
    assert yookassa.deliver(asgi_server.url, "payment.succeeded", payment["id"]).status_code == 200
    expect(page.get_by_test_id("topup-success")).to_be_in_viewport()
    expect(page.get_by_test_id("header-balance-amount")).to_have_text(re.compile(r"^1\s?000,00\s₽$"))

    # Back to the chat through the menu; choose a model by searching.
    page.get_by_test_id("menu-button").click()
    page.get_by_test_id("site-nav").get_by_role("link", name="Чат").click()
    page.wait_for_url("**/chat/")
    expect(page.get_by_test_id("onboarding-topup")).to_be_hidden()
    choose_model(page, chat_model)

    # Send; copy the code block.
    openrouter.tokens = ["Пример:\n\n", "```python\n", "print('привет')\n", "```\n"]
    page.get_by_test_id("chat-input").fill("Напиши пример на Python")
    page.get_by_test_id("send").click()
    block = page.get_by_test_id("code-block")
    expect(block.get_by_test_id("code-lang")).to_have_text("python")
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_contain_text("₽")
    block.get_by_test_id("copy-code").click()
    expect(block.get_by_test_id("copy-code")).to_contain_text("Скопировано")
    assert page.evaluate("navigator.clipboard.readText()") == "print('привет')"

    # A long reply, stopped with Esc.
    openrouter.tokens = [f"слово{i} " for i in range(400)]
    openrouter.pace = 0.03
    page.get_by_test_id("chat-input").fill("Расскажи длинную историю")
    page.get_by_test_id("send").click()
    last = page.get_by_test_id("assistant-message").last
    last.get_by_test_id("message-body").filter(has_text="слово5 ").wait_for()
    page.keyboard.press("Escape")
    expect(last.get_by_test_id("message-meta")).to_contain_text("Остановлено")
    assert openrouter.closed_early.wait(10)

    # Regenerate the stopped reply.
    openrouter.pace = 0
    openrouter.tokens = ["Короткая ", "история."]
    regenerate = page.get_by_test_id("assistant-message").last.get_by_test_id("regenerate")
    expect(regenerate).to_be_in_viewport()
    regenerate.click()
    expect(page.get_by_test_id("assistant-message").last.get_by_test_id("message-body")).to_have_text(
        "Короткая история."
    )
    expect(page.get_by_test_id("assistant-message")).to_have_count(2)
    expect(page.get_by_test_id("assistant-message").last.get_by_test_id("message-meta")).to_contain_text("₽")

    # Edit the first question and send it again: the chat restarts from there.
    page.get_by_test_id("user-message").first.get_by_test_id("edit-message").click()
    page.get_by_test_id("edit-input").fill("Напиши пример на Rust")
    openrouter.tokens = ["fn main() {}"]
    page.get_by_test_id("edit-send").click()
    expect(page.get_by_test_id("user-message")).to_have_count(1)
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-body")).to_have_text(
        "fn main() {}"
    )
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_be_in_viewport()
    screenshot(page, "journey-2-chat")
    # Every reply was billed: the first, the stopped one, its regeneration, the edited one.
    wait_until(
        lambda: LedgerEntry.objects.filter(wallet_id=alice.pk, kind=LedgerEntry.Kind.CHARGE).count() == 4,
        pause=pause,
    )

    # A new chat, then the first one reopened from the drawer.
    page.get_by_test_id("open-drawer").click()
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("chat-empty")).to_be_in_viewport()
    page.get_by_test_id("open-drawer").click()
    page.get_by_test_id("chat-item").filter(has_text="Напиши пример на Python").click()
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-body")).to_have_text(
        "fn main() {}"
    )
    expect(page.get_by_test_id("assistant-message")).to_be_in_viewport()

    # Dark mode.
    page.get_by_test_id("theme-switch").click()
    expect(page.get_by_test_id("theme-switch")).to_have_attribute("data-mode", "dark")
    assert page.evaluate("document.documentElement.classList.contains('dark')")
    screenshot(page, "journey-3-dark")
    assert page.console_errors == []
    assert page.external_requests == []
