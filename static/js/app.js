// Alpine components shared by every page. The CSP build of Alpine evaluates no inline code,
// so behaviour lives here and templates only name properties and methods.
document.addEventListener("alpine:init", () => {
  Alpine.data("navMenu", () => ({
    open: false,
    toggle() {
      this.open = !this.open;
    },
  }));

  Alpine.data("featureList", () => ({
    features: JSON.parse(document.getElementById("features-data").textContent),
  }));
});
