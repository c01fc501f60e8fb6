from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.wallets.conftest import in_threads
from wallets.services import wallet_credit

pytestmark = pytest.mark.browser


def credit(user, amount: str, reference: str) -> None:
    """Credits off Playwright's event-loop thread, as a webhook would: the balance push cannot
    run from a thread with a running loop."""
    [credited] = in_threads(
        1, lambda _: wallet_credit(user=user, amount=Decimal(amount), reference=reference)
    )
    assert not isinstance(credited, Exception)


def test_the_header_balance_follows_a_staff_adjustment_live_without_a_reload(
    browser_page, _playwright_browser, asgi_server, login_browser, alice, make_user
):
    credit(alice, "100", "yookassa:1")
    page = browser_page
    login_browser(page, alice)
    with page.expect_websocket() as socket_info:
        page.goto("/wallet/")
    socket = socket_info.value
    # The socket's first frame is the current wallet: from here on, Alice is subscribed.
    socket.wait_for_event("framereceived")
    amount = page.get_by_test_id("header-balance-amount")
    assert amount.inner_text() == "100,00 ₽"
    page.evaluate("window.notReloaded = true")

    # A staff member adjusts her balance in admin, in another browser.
    staff = make_user("email_staff", is_staff=True, is_superuser=True)
    admin_context = _playwright_browser.new_context(base_url=asgi_server.url, locale="ru-RU")
    try:
        admin = admin_context.new_page()
        login_browser(admin, staff)
        admin.goto(f"/admin/wallets/wallet/{alice.pk}/adjust/")
        admin.fill("input[name=amount]", "50.50")
        admin.fill("textarea[name=reason]", "Компенсация за сбой")
        admin.click("input[type=submit]")
        admin.wait_for_url(f"**/admin/wallets/wallet/{alice.pk}/change/")
    finally:
        admin_context.close()

    expect(amount).to_have_text("150,50 ₽")
    assert page.evaluate("window.notReloaded") is True
    assert page.console_errors == []
    assert page.failed_responses == []
    assert page.external_requests == []


def test_the_header_reconnects_after_the_socket_drops(browser_page, login_browser, alice):
    """The connection is cut between the page and the server (Playwright's WebSocket route, which
    relays every frame and is closed here). Chromium's offline emulation would not do: it leaves
    open sockets open."""
    page = browser_page
    sockets = []

    def relay(route) -> None:
        route.connect_to_server()
        sockets.append(route)

    page.route_web_socket("**/ws/balance/", relay)
    login_browser(page, alice)
    with page.expect_websocket() as socket_info:
        page.goto("/wallet/")
    socket_info.value.wait_for_event("framereceived")
    assert len(sockets) == 1

    with page.expect_websocket(timeout=20_000) as again:
        sockets[0].close()
    assert again.value.url.endswith("/ws/balance/")
    again.value.wait_for_event("framereceived")
    assert len(sockets) == 2

    # The new socket is subscribed: a top-up reaches the header without a reload.
    credit(alice, "25", "yookassa:drop")
    expect(page.get_by_test_id("header-balance-amount")).to_have_text("25,00 ₽")
    assert page.console_errors == []
