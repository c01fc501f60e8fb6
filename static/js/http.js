// What every page script shares, loaded first on every page as `window.http`:
//
// - `csrfToken()`: the token of the page's {% csrf_token %} field, for requests that change data.
// - `request(url, {method, json, body, headers, signal, fallback})`: fetch with the session
//   cookie and the CSRF header; resolves with the JSON answer, or rejects with an `HttpError`
//   whose message is the server's `detail` (our API words every error for the user), else
//   `fallback` (a page's "no connection" text). `error.status` is 0 when the network failed;
//   `error.data` is the JSON answer, when there was one. An aborted request rejects as fetch does.
// - `poll(url, {done, onUpdate, intervalMs, attempts})`: asks `url` until `done(answer)`, calls
//   `onUpdate` with every answer, and resolves with the last one (null when `attempts` ran out).
//   Network trouble and 5xx answers are asked again; a 404 (the thing is gone) rejects.
// - `formatMoney(value, {sign})`: an amount of rubles as the page's language writes money, the
//   same text as the server's `money` filter (wallets/formatting.py): "1 467,19 ₽" in Russian,
//   "₽1,467.19" in English; `sign: true` puts "+" before a positive amount.
// - `sleep(ms)`.
(() => {
  class HttpError extends Error {
    constructor(message, status, data = null) {
      super(message);
      this.name = "HttpError";
      this.status = status;
      this.data = data;
    }
  }

  function csrfToken() {
    const field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  async function request(url, { method = "GET", json, body, headers = {}, signal, fallback = "" } = {}) {
    const sent = { Accept: "application/json", ...headers };
    if (method !== "GET") sent["X-CSRFToken"] = csrfToken();
    if (json !== undefined) sent["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: sent,
        body: json !== undefined ? JSON.stringify(json) : body,
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new HttpError(fallback, 0);
    }
    const data = response.status === 204 ? {} : await response.json().catch(() => null);
    if (!response.ok) throw new HttpError((data && data.detail) || fallback, response.status, data);
    return data || {};
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function poll(url, { done, onUpdate = () => {}, intervalMs = 1500, attempts = Infinity }) {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      try {
        const answer = await request(url);
        onUpdate(answer);
        if (done(answer)) return answer;
      } catch (error) {
        if (error.status === 404) throw error;
        // A network blip or the server's trouble: ask again after the interval.
      }
      await sleep(intervalMs);
    }
    return null;
  }

  // Language → [before, after, thousands separator, decimal mark]; as MONEY_FORMATS on the server.
  const MONEY_FORMATS = { ru: ["", "\u00a0₽", "\u00a0", ","], en: ["₽", "", ",", "."] };
  function formatMoney(value, { sign = false } = {}) {
    const number = Number(value);
    const language = (document.documentElement.lang || "ru").split("-")[0];
    const [before, after, group, decimalMark] = MONEY_FORMATS[language] || MONEY_FORMATS.ru;
    const kopecks = Math.abs(number).toFixed(2);
    const [whole, fraction] = kopecks.split(".");
    const digits = `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, group)}${decimalMark}${fraction}`;
    const nonZero = Number(kopecks) > 0;
    const mark = number < 0 && nonZero ? "-" : sign && nonZero ? "+" : "";
    return `${mark}${before}${digits}${after}`;
  }

  window.http = { HttpError, csrfToken, request, poll, formatMoney, sleep };
})();
