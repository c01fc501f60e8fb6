// The header's live balance: shows the wallet's balance and keeps it current over the
// /ws/balance/ websocket, reconnecting with backoff when the connection drops. Every update is
// also announced as a window event `wallet:balance` ({balance, held, available}) for pages
// that show the balance themselves.
document.addEventListener("alpine:init", () => {
  Alpine.data("headerBalance", () => {
    // Kept outside Alpine's reactive state: a proxied WebSocket cannot call its own methods.
    let socket = null;
    let retries = 0;

    return {
      text: "",

      init() {
        this.show(JSON.parse(document.getElementById("header-balance-data").textContent));
        this.connect();
      },

      show(balance) {
        this.text = window.http.formatMoney(balance);
      },

      connect() {
        const scheme = window.location.protocol === "https:" ? "wss" : "ws";
        socket = new WebSocket(`${scheme}://${window.location.host}/ws/balance/`);
        socket.addEventListener("open", () => {
          retries = 0;
        });
        socket.addEventListener("message", (event) => {
          const wallet = JSON.parse(event.data);
          this.show(wallet.balance);
          window.dispatchEvent(new CustomEvent("wallet:balance", { detail: wallet }));
        });
        socket.addEventListener("close", () => {
          // 1 s, 2 s, 4 s … up to 30 s, with jitter so a restarted server is not stampeded.
          const delay = Math.min(30000, 1000 * 2 ** retries) * (0.5 + Math.random() / 2);
          retries += 1;
          window.setTimeout(() => this.connect(), delay);
        });
      },
    };
  });
});
