"""The main pages in Chromium at a desktop and a phone size, in both languages, photographed into
screenshots/ (git-ignored) for people to look at; in English what the reader sees (text rendered
by the server and by our scripts) holds no Russian of ours."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings

from tests.helpers import ROOT, in_threads

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chat_settings")]

SCREENSHOTS = ROOT / "screenshots"
CYRILLIC = re.compile(r"[\u0400-\u04ff][\u0400-\u04ff\s.,:;!?«»()\-–—0-9]*")
PAGES = {
    "landing": "/",
    "chat": "/chat/",
    "profile": "/profile/",
    "statement": "/wallet/",
    "sessions": "/accounts/sessions/",
    "topup": "/topup/",
    "media": "/media/",
    "pricing": "/pricing/",
}


def visible_russian(page) -> list[str]:
    """Cyrillic in the rendered text, less the language switch's «Русский» and the site name."""
    text = page.evaluate(
        """() => {
          const clone = document.body.cloneNode(true);
          clone.querySelectorAll('[lang="ru"], script, template').forEach((node) => node.remove());
          return clone.innerText;
        }"""
    )
    return CYRILLIC.findall(text.replace(settings.SITE_NAME, ""))


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_the_main_pages_in_both_languages_and_english_shows_no_russian_of_ours(
    browser_page, asgi_server, login_browser, alice, chat_model, yookassa, language, width, height
):
    def history(_):
        from wallets.services import wallet_credit

        wallet_credit(
            user=alice,
            amount=Decimal("1467.19"),
            reference="yookassa:1",
            description="Пополнение через ЮKassa",
        )

    [error] = in_threads(1, history)
    assert error is None
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    login_browser(page, alice)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": asgi_server.url}]
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    found = {}
    for name, path in PAGES.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"{language}-{name}-{width}.png", full_page=True)
        if russian := visible_russian(page):
            found[name] = russian
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": asgi_server.url}]
    )
    page.goto("/accounts/login/")
    page.screenshot(path=SCREENSHOTS / f"{language}-sign-in-{width}.png", full_page=True)
    if russian := visible_russian(page):
        found["sign-in"] = russian
    if language == "en":
        assert found == {}


def test_admin_in_russian_is_branded_and_counts_in_russian(browser_page, login_browser, make_user, alice):
    def holds(_):
        from wallets.services import hold_place, wallet_credit

        wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
        for i in range(13):
            hold_place(user=alice, amount=Decimal("1"), reference=f"msg:{i}")

    [error] = in_threads(1, holds)
    assert error is None
    staff = make_user("email_staff", is_staff=True, is_superuser=True)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    login_browser(page, staff)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.goto("/admin/")
    page.screenshot(path=SCREENSHOTS / "ru-admin-index-1440.png", full_page=True)
    assert "Нейросети · администрирование" in page.locator("#site-name").inner_text()
    assert "Сеансы" in page.locator("#content-main").inner_text()
    page.goto("/admin/wallets/hold/")
    page.screenshot(path=SCREENSHOTS / "ru-admin-holds-1440.png", full_page=True)
    assert "13 резервов" in page.locator(".paginator").inner_text()
