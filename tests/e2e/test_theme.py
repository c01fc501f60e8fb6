"""Dark mode: pages follow the system's colour scheme; the header's switch overrides it (dark,
light, back to the system) and the choice is remembered across pages and reloads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import DESKTOP, PHONE, screenshot
from tests.helpers import fund

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings", "catalog"),
]

DARK_BACKGROUND = "rgb(2, 6, 23)"  # slate-950
LIGHT_BACKGROUND = "rgb(248, 250, 252)"  # slate-50


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")


def is_dark(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('dark')")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_pages_follow_a_dark_system_and_the_switch_is_remembered(
    browser_page, login_browser, alice, openrouter, viewport
):
    fund(alice, "100.00")
    page = browser_page
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme="dark")
    login_browser(page, alice)
    openrouter.tokens = ["Тёмная ", "`тема`:\n\n```python\nprint('ok')\n```"]

    page.goto("/chat/")
    assert is_dark(page)
    assert background(page) == DARK_BACKGROUND
    page.get_by_test_id("chat-input").fill("Покажи код")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_contain_text("₽")
    screenshot(page, "chat-dark")
    switch = page.get_by_test_id("theme-switch")
    expect(switch).to_be_in_viewport()
    expect(switch).to_have_attribute("data-mode", "auto")

    switch.click()  # dark, chosen
    expect(switch).to_have_attribute("data-mode", "dark")
    switch.click()  # light, chosen
    expect(switch).to_have_attribute("data-mode", "light")
    assert not is_dark(page)
    assert background(page) == LIGHT_BACKGROUND
    expect(switch).to_have_attribute("title", "Тема: светлая")

    # Remembered on other pages and after a reload, whatever the system says.
    page.goto("/media/")
    assert not is_dark(page)
    page.reload()
    assert not is_dark(page)
    expect(page.get_by_test_id("theme-switch")).to_have_attribute("data-mode", "light")

    page.get_by_test_id("theme-switch").click()  # back to the system's
    expect(page.get_by_test_id("theme-switch")).to_have_attribute("data-mode", "auto")
    assert is_dark(page)
    page.goto("/topup/")
    assert is_dark(page)
    screenshot(page, "topup-dark")
    assert page.console_errors == []


def test_a_light_system_gets_light_pages_and_the_landing_page_has_the_switch(browser_page):
    page = browser_page
    page.emulate_media(color_scheme="light")
    page.goto("/")
    assert not is_dark(page)
    assert background(page) == LIGHT_BACKGROUND
    page.get_by_test_id("theme-switch").click()
    assert is_dark(page)
    screenshot(page, "landing-dark")
