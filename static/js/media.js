// Media: uploads and Fal.ai generations.
//
// One generation card (templates/media/generation_card.html) serves the gallery and the chat:
// the `mediaGeneration` component draws it from its data-* attributes and polls
// GET /api/media/generations/<id> while the job runs. `window.mediaGeneration.card(generation)`
// clones the page's <template id="generation-card"> for a job started on the page (the API's
// Generation shape), ready to be inserted; Alpine starts it once it is in the document.
(() => {
  const ACTIVE = ["pending", "running"];

  // A generation (the API's shape) as flags a CSP-build Alpine template can read.
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

  function card(generation) {
    const node = document.getElementById("generation-card").content.firstElementChild.cloneNode(true);
    Object.assign(node.dataset, {
      generationId: generation.id,
      status: generation.status,
      kindOfMedia: generation.kind,
      url: generation.result_urls[0] || "",
      error: generation.error || "",
      prompt: generation.prompt,
    });
    return node;
  }

  window.mediaGeneration = { card };

  document.addEventListener("alpine:init", () => {
    Alpine.data("mediaGeneration", () => ({
      status: "",
      pending: false,
      failed: false,
      isImage: false,
      isVideo: false,
      url: "",
      error: "",
      prompt: "",

      init() {
        const data = this.$el.dataset;
        this.prompt = data.prompt;
        const generation = {
          status: data.status,
          kind: data.kindOfMedia,
          result_urls: data.url ? [data.url] : [],
          error: data.error,
        };
        this.show(generation);
        if (!this.pending) return;
        window.http
          .poll(`/api/media/generations/${encodeURIComponent(data.generationId)}`, {
            done: (answer) => !ACTIVE.includes(answer.status),
            onUpdate: (answer) => this.show(answer),
          })
          .catch(() => {});
      },

      show(generation) {
        Object.assign(this, view(generation));
        this.$el.dataset.status = generation.status;
      },
    }));

    // The gallery's forms: start a generation or upload a picture; new cards appear on top.
    Alpine.data("mediaStudio", () => ({
      config: JSON.parse(document.getElementById("media-studio").textContent),
      model: "",
      prompt: "",
      busy: false,
      error: "",
      added: 0,

      init() {
        this.model = this.config.models.length ? this.config.models[0].id : "";
      },

      get isEmpty() {
        return this.added === 0;
      },

      show(node) {
        this.$refs.items.prepend(node);
        this.added += 1;
      },

      // Resolves with the answer, or null after showing the error. A generation Fal refused
      // (503) still comes back as a card, which shows why.
      async send(url, options) {
        this.error = "";
        this.busy = true;
        try {
          return await window.http.request(url, { method: "POST", fallback: this.config.messages.network, ...options });
        } catch (error) {
          if (error.data && error.data.id) return error.data;
          this.error = error.message;
          return null;
        } finally {
          this.busy = false;
        }
      },

      async generate() {
        const generation = await this.send("/api/media/generate", {
          json: { model: this.model, prompt: this.prompt },
        });
        if (!generation) return;
        this.prompt = "";
        this.show(card(generation));
      },

      async upload(event) {
        const file = event.target.files[0];
        if (!file) return;
        const body = new FormData();
        body.append("file", file);
        const uploaded = await this.send("/api/upload", { body });
        event.target.value = "";
        if (!uploaded) return;
        const node = document.getElementById("upload-card").content.firstElementChild.cloneNode(true);
        node.querySelector("a").href = uploaded.url;
        node.querySelector("img").src = uploaded.url;
        node.querySelector("figcaption").textContent = this.config.messages.upload;
        this.show(node);
      },
    }));
  });
})();
