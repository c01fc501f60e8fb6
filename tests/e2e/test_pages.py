"""Every page at desktop and phone sizes, light and dark: nothing wider than the screen, no
script errors, the header's balance in view. Leaves a screenshot of each for a person to look at."""

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

PAGES = ["/chat/", "/media/", "/topup/", "/wallet/", "/payments/", "/profile/", "/pricing/"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_fits_the_screen_in_both_schemes(browser_page, login_browser, alice, viewport, scheme):
    fund(alice, "1467.19")
    page = browser_page
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)
    login_browser(page, alice)

    for path in PAGES:
        page.goto(path)
        expect(page.get_by_test_id("header-balance-amount")).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        name = path.strip("/") or "home"
        screenshot(page, f"page-{name}-{scheme}")
    assert page.console_errors == []
    assert page.external_requests == []
