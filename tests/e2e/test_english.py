"""The main pages in English, in Chromium at a desktop and a phone size: what the reader sees
(text rendered by the server and by our scripts) holds no Russian of ours, and each page is
photographed into screenshots/ (git-ignored) for people to look at."""

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


@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_the_main_pages_in_english_show_no_russian_of_ours(
    browser_page, asgi_server, login_browser, alice, chat_model, yookassa, width, height
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
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": asgi_server.url}])
    SCREENSHOTS.mkdir(exist_ok=True)
    found = {}
    for name, path in PAGES.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"en-{name}-{width}.png", full_page=True)
        if russian := visible_russian(page):
            found[name] = russian
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": asgi_server.url}])
    page.goto("/accounts/login/")
    page.screenshot(path=SCREENSHOTS / f"en-sign-in-{width}.png", full_page=True)
    if russian := visible_russian(page):
        found["sign-in"] = russian
    assert found == {}
