// Alpine components shared by every page. The CSP build of Alpine evaluates no inline code,
// so behaviour lives here and templates only name properties and methods.
document.addEventListener("alpine:init", () => {
  Alpine.data("navMenu", () => ({
    open: false,
    toggle() {
      this.open = !this.open;
    },
    close() {
      this.open = false;
    },
    get expanded() {
      return String(this.open);
    },
    // On phones the links fold into a panel under the header.
    get menuClass() {
      return this.open ? "!flex absolute top-14 inset-x-0 flex-col items-stretch bg-white p-3 border-b border-slate-200 shadow-lg" : "";
    },
  }));

  // The header's theme switch: as the system says → dark → light (static/js/theme.js).
  Alpine.data("themeSwitch", () => ({
    mode: window.theme.chosen(),
    labels: {},
    init() {
      const data = this.$el.dataset;
      this.labels = { auto: data.labelAuto, dark: data.labelDark, light: data.labelLight };
    },
    toggle() {
      this.mode = window.theme.next();
    },
    get label() {
      return this.labels[this.mode] || "";
    },
    get icon() {
      return { auto: "ph-circle-half", dark: "ph-moon", light: "ph-sun" }[this.mode];
    },
  }));

  // A flash message over the page: it leaves by itself (errors stay longer) or when closed.
  Alpine.data("toast", () => ({
    shown: true,
    init() {
      const error = this.$el.dataset.level === "error";
      window.setTimeout(() => this.close(), error ? 12000 : 6000);
    },
    close() {
      this.shown = false;
    },
  }));

  Alpine.data("featureList", () => ({
    features: JSON.parse(document.getElementById("features-data").textContent),
  }));
});
