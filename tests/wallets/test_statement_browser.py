from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import ROOT, in_threads
from wallets.services import hold_place, hold_settle, wallet_credit

pytestmark = pytest.mark.browser

# Screenshots for people to look at (git-ignored).
SCREENSHOTS = ROOT / "screenshots"


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def big_statement(user) -> None:
    """A statement with long names and six-digit amounts, written off Playwright's loop thread."""

    def write(_):
        wallet_credit(
            user=user,
            amount=Decimal("123456.78"),
            reference="yookassa:1",
            description="Пополнение через ЮKassa",
        )
        for i in range(3):
            hold_place(
                user=user,
                amount=Decimal("1467.19"),
                reference=f"msg:{i}",
                metadata={
                    "chat_id": 10 + i,
                    "model": "x/y",
                    "model_name": "Claude 3.7 Sonnet (thinking, long context)",
                },
            )
            hold_settle(reference=f"msg:{i}", amount=Decimal("1467.19"))

    [error] = in_threads(1, write)
    assert error is None


@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_the_statement_shows_every_amount_and_balance_without_scrolling_sideways(
    browser_page, login_browser, alice, width, height
):
    big_statement(alice)
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    login_browser(page, alice)
    page.goto("/wallet/")
    shoot(page, f"statement-{width}")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    amounts = page.get_by_test_id("entry-amount")
    assert amounts.count() == 4
    balances = page.locator('[data-testid^="entry-balance-after"]:visible')
    assert balances.count() == 4
    for cells in (amounts, balances):
        for i in range(4):
            box = cells.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert amounts.first.inner_text().startswith("-1\xa0467,19\xa0₽")
    assert balances.first.inner_text() == "119\xa0055,21\xa0₽"
