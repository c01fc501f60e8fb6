// The top-up page: create the payment, render YooKassa's checkout widget with its token, then
// ask our API for the payment's state until the webhook (or the poller) has settled it.
document.addEventListener("alpine:init", () => {
  const POLL_INTERVAL_MS = 1500;
  const POLL_ATTEMPTS = 40;

  Alpine.data("topup", () => ({
    config: JSON.parse(document.getElementById("topup-config").textContent),
    amount: "",
    state: "form",
    error: "",
    balance: "",
    paymentId: null,
    checkout: null,

    init() {
      this.amount = this.config.presets[1] || this.config.min;
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

    csrfToken() {
      return document.querySelector("[name=csrfmiddlewaretoken]").value;
    },

    async submit() {
      this.error = "";
      this.state = "creating";
      let data;
      try {
        const response = await fetch("/api/payment/create", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrfToken() },
          body: JSON.stringify({ amount: String(this.amount) }),
        });
        data = await response.json();
        if (!response.ok) {
          this.error = data.detail || this.config.messages.network;
          this.state = "form";
          return;
        }
      } catch {
        this.error = this.config.messages.network;
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
      for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
        try {
          const response = await fetch(`/api/payment/${this.paymentId}`, { credentials: "same-origin" });
          if (response.ok) {
            const payment = await response.json();
            if (payment.status === "succeeded") {
              this.balance = payment.wallet.balance;
              this.state = "success";
              return;
            }
            if (payment.status === "canceled") {
              this.fail(this.config.messages.failed);
              return;
            }
          }
        } catch {
          // A dropped request is retried on the next round.
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
      this.fail(this.config.messages.pending);
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
