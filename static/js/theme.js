// Light or dark pages: the system's choice unless the reader picked one with the header's switch
// (remembered in localStorage as "theme": "light" or "dark"). Loaded in <head> without `defer`,
// before the page paints, so a dark page never flashes white. `window.theme` serves the switch.
(() => {
  const KEY = "theme";
  const system = window.matchMedia("(prefers-color-scheme: dark)");

  function chosen() {
    try {
      return window.localStorage.getItem(KEY) || "auto";
    } catch {
      return "auto";
    }
  }

  function apply() {
    const mode = chosen();
    const dark = mode === "dark" || (mode === "auto" && system.matches);
    document.documentElement.classList.toggle("dark", dark);
  }

  // auto → dark → light → auto
  function next() {
    const order = ["auto", "dark", "light"];
    const mode = order[(order.indexOf(chosen()) + 1) % order.length];
    if (mode === "auto") window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, mode);
    apply();
    return mode;
  }

  system.addEventListener("change", apply);
  apply();
  window.theme = { chosen, next };
})();
