import pytest
from playwright.sync_api import expect

from tests.helpers import browser_pause, fund, in_threads, wait_until

pytestmark = pytest.mark.browser


def credit(user, amount: str) -> None:
    """Credits off Playwright's event-loop thread, as a webhook would: the balance push cannot
    run from a thread with a running loop."""
    [credited] = in_threads(1, lambda _: fund(user, amount))
    assert not isinstance(credited, Exception)


def frames_of_each_socket(page) -> list[list]:
    """The frames every balance socket of `page` receives, one list per socket in opening order.

    The listener is attached as the socket is created, before it can receive anything: waiting
    for a "framereceived" event after the socket opened could miss the first frame, which the
    server sends at once (the test was flaky that way)."""
    sockets: list[list] = []

    def watch(socket) -> None:
        frames: list = []
        sockets.append(frames)
        socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", watch)
    return sockets


def test_the_header_balance_follows_a_staff_adjustment_live_without_a_reload(
    browser_page, _playwright_browser, asgi_server, login_browser, alice, make_user
):
    credit(alice, "100")
    page = browser_page
    login_browser(page, alice)
    sockets = frames_of_each_socket(page)
    page.goto("/wallet/")
    # The socket's first frame is the current wallet: from here on, Alice is subscribed.
    wait_until(lambda: sockets and sockets[0], pause=browser_pause(page))
    amount = page.get_by_test_id("header-balance-amount")
    assert amount.inner_text() == "100,00\xa0₽"
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
    frames = frames_of_each_socket(page)
    page.goto("/wallet/")
    wait_until(lambda: frames and frames[0], pause=browser_pause(page))
    assert len(sockets) == 1

    sockets[0].close()
    # The page reconnects after 1 s (with jitter) and the new socket gets the current wallet.
    wait_until(lambda: len(frames) == 2 and frames[1], timeout=20, pause=browser_pause(page))
    assert len(sockets) == 2

    # The new socket is subscribed: a top-up reaches the header without a reload.
    credit(alice, "25")
    expect(page.get_by_test_id("header-balance-amount")).to_have_text("25,00\xa0₽")
    assert page.console_errors == []
