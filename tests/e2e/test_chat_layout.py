"""The chat's layout at desktop and phone sizes: after signing in, the messages float as toasts
and the composer is in view; the balance is always in view; on a phone the chat list is a
drawer; the header marks the page the reader is on."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from chats.models import Chat, Message
from tests.e2e.screens import DESKTOP, PHONE, screenshot
from tests.helpers import code_from_outbox, fund

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings"),
]

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def sign_in_by_code(page, email: str) -> None:
    page.goto("/accounts/login/?next=/chat/")
    form = page.get_by_test_id("email-sign-in")
    form.locator("input[name=email]").fill(email)
    form.locator("button[type=submit]").click()
    code_input = page.locator("input[name=code]")
    code_input.fill(code_from_outbox(email))
    code_input.press("Enter")
    page.wait_for_url("**/chat/")


@VIEWPORTS
def test_after_signing_in_the_composer_is_in_view_and_messages_float_over_the_page(
    browser_page, make_user, chat_model, viewport
):
    alice = make_user("email_alice", email="alice@example.com", name="Алиса")
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    fund(alice, "150.00")
    page = browser_page
    page.set_viewport_size(viewport)

    sign_in_by_code(page, "alice@example.com")

    toast = page.get_by_test_id("toast").first
    expect(toast).to_be_in_viewport()
    expect(toast).to_contain_text("Алиса")
    expect(page.get_by_test_id("chat-input")).to_be_in_viewport(ratio=1)
    expect(page.get_by_test_id("send")).to_be_in_viewport(ratio=1)
    expect(page.get_by_test_id("header-balance-amount")).to_have_text("150,00 ₽")
    expect(page.get_by_test_id("header-balance-amount")).to_be_in_viewport()
    # The page itself does not scroll: everything below the header fits.
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    screenshot(page, "chat-after-sign-in")

    # The toast goes by itself (or at once when closed) and the composer has not moved.
    composer = page.get_by_test_id("composer").bounding_box()
    toast.get_by_role("button").click()
    expect(toast).to_be_hidden()
    assert page.get_by_test_id("composer").bounding_box() == composer
    assert page.console_errors == []
    assert page.external_requests == []


def test_on_a_phone_earlier_chats_open_from_the_drawer(browser_page, login_browser, alice, chat_model):
    fund(alice, "10.00")
    older = Chat.objects.create(user=alice, model=chat_model.model_id, title="Рецепт борща")
    Message.objects.create(chat=older, role=Message.Role.USER, content="Как сварить борщ?")
    Message.objects.create(chat=older, role=Message.Role.ASSISTANT, content="Свёкла, капуста, **терпение**.")
    Chat.objects.create(user=alice, model=chat_model.model_id, title="План поездки")
    page = browser_page
    page.set_viewport_size(PHONE)
    login_browser(page, alice)
    page.goto("/chat/")

    item = page.get_by_test_id("chat-item").filter(has_text="Рецепт борща")
    expect(item).not_to_be_in_viewport()
    expect(page.get_by_test_id("header-balance-amount")).to_be_in_viewport()
    page.get_by_test_id("open-drawer").click()
    expect(item).to_be_in_viewport()
    page.wait_for_timeout(300)  # the drawer's slide
    screenshot(page, "chat-drawer")
    item.click()

    expect(page.get_by_test_id("assistant-message")).to_contain_text("Свёкла, капуста, терпение.")
    expect(page.get_by_test_id("assistant-message")).to_be_in_viewport()
    expect(item).not_to_be_in_viewport()
    assert page.url.endswith(f"?chat={older.pk}")
    expect(page.get_by_test_id("chat-input")).to_be_in_viewport(ratio=1)
    # Esc closes the drawer too.
    page.get_by_test_id("open-drawer").click()
    expect(item).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(item).not_to_be_in_viewport()
    assert page.console_errors == []


@VIEWPORTS
def test_the_header_marks_the_current_page_and_keeps_the_balance_in_view(
    browser_page, login_browser, alice, viewport
):
    fund(alice, "42.50")
    page = browser_page
    page.set_viewport_size(viewport)
    login_browser(page, alice)

    page.goto("/media/")
    expect(page.get_by_test_id("header-balance-amount")).to_have_text("42,50 ₽")
    expect(page.get_by_test_id("header-balance-amount")).to_be_in_viewport()
    nav = page.get_by_test_id("site-nav")
    if viewport == PHONE:
        expect(nav).to_be_hidden()
        page.get_by_test_id("menu-button").click()
    current = nav.locator("[aria-current=page]")
    expect(current).to_have_count(1)
    expect(current).to_have_text("Мои файлы")
    expect(current).to_be_in_viewport()
    screenshot(page, "header-menu")
    page.goto("/topup/")
    expect(page.get_by_test_id("site-nav").locator("[aria-current=page]")).to_have_text("Пополнить")
