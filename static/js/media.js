// Media: uploads and Fal.ai generations.
//
// `window.mediaGeneration.poll(id, onUpdate)` asks GET /api/media/generations/<id> until the job
// is completed or failed, calls `onUpdate(generation)` with every answer and resolves with the
// last one; the chat page uses it for a media model's pending message. `mediaGeneration.view(g)`
// turns an answer into flags a CSP-build Alpine template can read (pending, failed, isImage,
// isVideo, url, error).
(() => {
  const POLL_INTERVAL_MS = 1500;
  const ACTIVE = ["pending", "running"];

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function view(generation) {
    const done = generation.status === "completed";
    const url = done ? generation.result_urls[0] || "" : "";
    return {
      status: generation.status,
      pending: ACTIVE.includes(generation.status),
      failed: generation.status === "failed",
      isImage: done && generation.kind !== "video" && Boolean(url),
      isVideo: done && generation.kind === "video" && Boolean(url),
      url,
      error: generation.error || "",
    };
  }

  async function poll(id, onUpdate, intervalMs = POLL_INTERVAL_MS) {
    for (;;) {
      let generation = null;
      try {
        const response = await fetch(`/api/media/generations/${encodeURIComponent(id)}`, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.status === 404) {
          throw new Error("generation not found");
        }
        if (response.ok) {
          generation = await response.json();
        }
      } catch (error) {
        if (error.message === "generation not found") throw error;
        // A network blip: ask again after the interval.
      }
      if (generation) {
        onUpdate(generation);
        if (!ACTIVE.includes(generation.status)) return generation;
      }
      await sleep(intervalMs);
    }
  }

  window.mediaGeneration = { poll, view };
})();

document.addEventListener("alpine:init", () => {
  const { poll, view } = window.mediaGeneration;

  // A server-rendered card of a generation still in progress: it polls and swaps in the result.
  Alpine.data("mediaGeneration", () => ({
    status: "pending",
    pending: true,
    failed: false,
    isImage: false,
    isVideo: false,
    url: "",
    error: "",

    init() {
      poll(this.$el.dataset.generationId, (generation) => Object.assign(this, view(generation)));
    },
  }));

  // The gallery's forms: start a generation or upload a picture; new items appear on top.
  Alpine.data("mediaStudio", () => ({
    config: JSON.parse(document.getElementById("media-studio").textContent),
    model: "",
    prompt: "",
    busy: false,
    error: "",
    fresh: [],

    init() {
      this.model = this.config.models.length ? this.config.models[0].id : "";
    },

    get isEmpty() {
      return this.fresh.length === 0;
    },

    csrfToken() {
      return document.querySelector("[name=csrfmiddlewaretoken]").value;
    },

    async send(url, options) {
      this.error = "";
      this.busy = true;
      try {
        const response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          ...options,
          headers: { "X-CSRFToken": this.csrfToken(), Accept: "application/json", ...options.headers },
        });
        const data = await response.json();
        if (!response.ok && !data.id) {
          this.error = data.detail || this.config.messages.network;
          return null;
        }
        return data;
      } catch (error) {
        this.error = this.config.messages.network;
        return null;
      } finally {
        this.busy = false;
      }
    },

    async generate() {
      const generation = await this.send("/api/media/generate", {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ model: this.model, prompt: this.prompt }),
      });
      if (!generation) return;
      this.prompt = "";
      this.fresh.unshift({ key: generation.id, caption: generation.prompt, ...view(generation) });
      // Alpine made the pushed object reactive: update that one, not the plain original.
      const item = this.fresh[0];
      poll(generation.id, (update) => Object.assign(item, view(update)));
    },

    async upload(event) {
      const file = event.target.files[0];
      if (!file) return;
      const body = new FormData();
      body.append("file", file);
      const uploaded = await this.send("/api/upload", { body, headers: {} });
      event.target.value = "";
      if (!uploaded) return;
      this.fresh.unshift({
        key: uploaded.url,
        caption: this.config.messages.upload,
        status: "upload",
        pending: false,
        failed: false,
        isImage: true,
        isVideo: false,
        url: uploaded.url,
        error: "",
      });
    },
  }));
});
