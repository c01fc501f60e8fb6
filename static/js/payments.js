// The top-up page: create the payment, render YooKassa's checkout widget with its token, then
// ask our API for the payment's state until the webhook (or the poller) has settled it.
document.addEventListener("alpine:init", () => {
  const POLL_ATTEMPTS = 40;

  Alpine.data("topup", () => ({
    // No config on the page when payments are not configured (the page says so instead).
    config: JSON.parse(document.getElementById("topup-config")?.textContent || '{"presets": []}'),
    amount: "",
    state: "form",
    error: "",
    balance: "",
    paymentId: null,
    checkout: null,

    init() {
      this.amount = this.config.presets[1] || this.config.min;
    },

    get balanceText() {
      return this.balance === "" ? "" : window.http.formatMoney(this.balance);
    },

    get isForm() {
      return this.state === "form" || this.state === "creating";
    },
    get busy() {
      return this.state === "creating";
    },
    get isWidget() {
      return this.state === "widget";
    },
    get isChecking() {
      return this.state === "checking";
    },
    get isSuccess() {
      return this.state === "success";
    },
    get isFailed() {
      return this.state === "failed";
    },

    pick(event) {
      this.amount = event.currentTarget.dataset.amount;
    },

    async submit() {
      this.error = "";
      this.state = "creating";
      let data;
      try {
        data = await window.http.request("/api/payment/create", {
          method: "POST",
          json: { amount: String(this.amount) },
          fallback: this.config.messages.network,
        });
      } catch (error) {
        this.error = error.message;
        this.state = "form";
        return;
      }
      this.paymentId = data.payment_id;
      this.state = "widget";
      this.renderWidget(data.confirmation_token);
    },

    renderWidget(token) {
      if (typeof window.YooMoneyCheckoutWidget !== "function") {
        this.fail(this.config.messages.widget);
        return;
      }
      this.checkout = new window.YooMoneyCheckoutWidget({
        confirmation_token: token,
        customization: { modal: false },
        error_callback: () => this.fail(this.config.messages.widget),
      });
      // Neither event is proof of payment: our server learns the outcome from YooKassa.
      this.checkout.on("success", () => this.check());
      this.checkout.on("fail", () => this.check());
      this.checkout.render("payment-form");
    },

    closeWidget() {
      if (this.checkout) {
        this.checkout.destroy();
        this.checkout = null;
      }
    },

    async check() {
      this.closeWidget();
      this.state = "checking";
      const payment = await window.http
        .poll(`/api/payment/${this.paymentId}`, {
          done: (answer) => ["succeeded", "canceled"].includes(answer.status),
          attempts: POLL_ATTEMPTS,
        })
        .catch(() => null);
      if (payment && payment.status === "succeeded") {
        this.balance = payment.wallet.balance;
        this.state = "success";
      } else {
        this.fail(this.config.messages[payment ? "failed" : "pending"]);
      }
    },

    fail(message) {
      this.closeWidget();
      this.error = message;
      this.state = "failed";
    },

    restart() {
      this.error = "";
      this.paymentId = null;
      this.state = "form";
    },
  }));
});
