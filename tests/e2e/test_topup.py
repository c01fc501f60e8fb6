"""The top-up page in Chromium, with YooKassa's widget replaced by a local stand-in.

The stand-in mimics the real widget's API (`new YooMoneyCheckoutWidget({confirmation_token,
error_callback, customization})`, `.on('success'|'fail', …)`, `.render(id)`, `.destroy()`)
and draws "pay" and "decline" buttons that report success or failure. The fake YooKassa then marks the payment
succeeded and posts the notification to the live server's webhook, as YooKassa would.
"""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from payments.models import Payment
from tests.fakes.server import FakeHandler
from wallets.models import Wallet

pytestmark = pytest.mark.browser

WIDGET_JS = b"""
(function () {
  class YooMoneyCheckoutWidget {
    constructor(options) {
      if (!options || !options.confirmation_token) throw new Error("confirmation_token is required");
      if (typeof options.error_callback !== "function") throw new Error("error_callback is required");
      this.options = options;
      this.handlers = {};
      this.container = null;
    }
    on(event, handler) {
      (this.handlers[event] = this.handlers[event] || []).push(handler);
    }
    off(event) {
      delete this.handlers[event];
    }
    emit(event) {
      (this.handlers[event] || []).forEach((handler) => handler());
    }
    render(containerId) {
      this.container = document.getElementById(containerId);
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = "widget-pay";
      button.dataset.token = this.options.confirmation_token;
      button.textContent = "Pay";
      button.addEventListener("click", () => this.emit("success"));
      const decline = document.createElement("button");
      decline.type = "button";
      decline.dataset.testid = "widget-decline";
      decline.textContent = "Decline";
      decline.addEventListener("click", () => this.emit("fail"));
      this.container.append(button, decline);
      return Promise.resolve();
    }
    destroy() {
      if (this.container) this.container.replaceChildren();
    }
  }
  window.YooMoneyCheckoutWidget = YooMoneyCheckoutWidget;
})();
"""


class WidgetHandler(FakeHandler):
    def route(self, method: str, path: str) -> None:
        if path == "/checkout-widget/v1/checkout-widget.js":
            self.send_bytes(WIDGET_JS, "application/javascript")
        else:
            self.send_bytes(b"", "text/plain", status=404)


@pytest.fixture
def widget(fake_server, settings):
    server = fake_server(WidgetHandler)
    settings.YOOKASSA_WIDGET_URL = f"{server.url}/checkout-widget/v1/checkout-widget.js"
    # The CSP names the widget's origin at settings load; the stand-in lives elsewhere.
    policy = {**settings.CONTENT_SECURITY_POLICY}
    directives = {name: list(values) for name, values in policy["DIRECTIVES"].items()}
    directives["script-src"].append(server.url)
    policy["DIRECTIVES"] = directives
    settings.CONTENT_SECURITY_POLICY = policy
    return server


def test_a_top_up_shows_success_and_the_new_balance_without_a_reload(
    browser_page,
    login_browser,
    asgi_server,
    alice,
    yookassa,
    widget,
    settings,
):
    # The live server's webhook is called from this machine, not from YooKassa's ranges.
    settings.YOOKASSA_WEBHOOK_IPS = ["127.0.0.1"]
    page = browser_page
    login_browser(page, alice)
    page.goto("/topup/")
    page.evaluate("window.__sameDocument = true")

    page.get_by_test_id("topup-preset").nth(2).click()
    assert page.get_by_test_id("topup-amount").input_value() == "1000"
    page.get_by_test_id("topup-submit").click()

    pay = page.get_by_test_id("widget-pay")
    pay.wait_for()
    created = yookassa.only_payment()
    assert pay.get_attribute("data-token") == created["confirmation"]["confirmation_token"]
    assert created["amount"] == {"value": "1000.00", "currency": "RUB"}

    pay.click()
    page.get_by_test_id("topup-checking").wait_for()
    yookassa.succeed(created["id"])
    assert yookassa.deliver(asgi_server.url, "payment.succeeded", created["id"]).status_code == 200

    page.get_by_test_id("topup-success").wait_for()
    assert page.get_by_test_id("topup-balance").text_content() == "1\xa0000,00\xa0₽"
    assert page.evaluate("window.__sameDocument") is True
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("1000.00")
    assert page.console_errors == []
    assert page.failed_responses == []
    assert page.external_requests == []
    assert urlsplit(page.url).path == "/topup/"


def test_an_amount_below_the_minimum_shows_the_servers_message(
    browser_page,
    login_browser,
    alice,
    yookassa,
    widget,
):
    page = browser_page
    login_browser(page, alice)
    page.goto("/topup/")
    page.get_by_test_id("topup-amount").fill("50")
    # The browser's own min check would stop the form; the server's answer is what we test.
    page.evaluate("document.querySelector('[data-testid=topup-amount]').removeAttribute('min')")
    page.get_by_test_id("topup-submit").click()

    error = page.get_by_test_id("topup-error")
    error.wait_for()
    assert "от 100,00\xa0₽ до 50\xa0000,00\xa0₽" in error.text_content()
    assert yookassa.payments == {}


def test_a_declined_payment_shows_the_failure_and_credits_nothing(
    browser_page,
    login_browser,
    asgi_server,
    alice,
    yookassa,
    widget,
    settings,
):
    settings.YOOKASSA_WEBHOOK_IPS = ["127.0.0.1"]
    page = browser_page
    login_browser(page, alice)
    page.goto("/topup/")
    page.get_by_test_id("topup-submit").click()
    page.get_by_test_id("widget-decline").click()
    page.get_by_test_id("topup-checking").wait_for()

    created = yookassa.only_payment()
    yookassa.cancel(created["id"])
    assert yookassa.deliver(asgi_server.url, "payment.canceled", created["id"]).status_code == 200

    failed = page.get_by_test_id("topup-failed")
    failed.wait_for()
    assert "не прошёл" in failed.text_content()
    assert Payment.objects.get().status == Payment.Status.CANCELED
    assert Wallet.objects.get(pk=alice.pk).balance == 0
    assert page.console_errors == []
