// The chat page: chat list, model picker, the streamed reply (NDJSON from /api/chats/send),
// stop, image attachments for vision models, per-message cost and the live balance.
//
// Replies are markdown rendered by marked, with any raw HTML in them shown as text (a model
// can be made to echo `<img onerror=…>`), then sanitised by DOMPurify before they reach
// innerHTML; code blocks are highlighted by highlight.js. User messages are plain text.
//
// Nothing a model writes may make the browser contact a third party (a prompt injection could
// put the conversation into an image's address): a picture shows inline only when it is one of
// our stored files (`config.media_base`); any other becomes a link that names its host, opened
// only if the reader chooses to. The CSP's img-src says the same as a second line of defence.
document.addEventListener("alpine:init", () => {
  const config = JSON.parse(document.getElementById("chat-config").textContent);
  const t = config.i18n;
  // Every amount the chat shows goes through here: the one money format (static/js/http.js).
  const rub = (value) => window.http.formatMoney(value);
  const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key]);

  const models = new Map();
  for (const group of config.catalog) {
    const icon = `data:image/svg+xml;utf8,${encodeURIComponent(group.icon || "")}`;
    for (const model of group.models) models.set(model.id, { ...model, icon });
  }

  const escapeHtml = (text) =>
    text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  const mediaBase = new URL(config.media_base, window.location.origin).href;
  const parseUrl = (src) => {
    try {
      return new URL(src, window.location.origin);
    } catch {
      return null;
    }
  };
  // `new URL` resolves `//host/x`, `..` and backslashes the way the browser would fetch them.
  const isOwnMedia = (src) => {
    const url = parseUrl(src || "");
    return url !== null && url.href.startsWith(mediaBase);
  };

  // A picture from elsewhere: a link showing where it points, never loaded by itself.
  function remoteImageLink(href, label) {
    const url = parseUrl(href || "");
    const host = url ? url.host : href;
    return (
      `<a href="${escapeHtml(url ? url.href : "")}" class="remote-image" data-testid="remote-image">` +
      `<i class="ph ph-image" aria-hidden="true"></i> ${escapeHtml(label || t.image)} ` +
      `<span class="remote-host">(${escapeHtml(host || "")})</span></a>`
    );
  }

  window.marked.use({
    gfm: true,
    breaks: true,
    renderer: {
      html(token) {
        return escapeHtml(token.text ?? token.raw ?? "");
      },
      image({ href, text }) {
        if (!isOwnMedia(href)) return remoteImageLink(href, text);
        return `<img src="${escapeHtml(href)}" alt="${escapeHtml(text || "")}" loading="lazy">`;
      },
      // A code block: its language above it and a copy button (chatApp handles the click).
      code({ text, lang }) {
        const language = (lang || "").trim().split(/\s+/)[0].replace(/[^\w+#.-]/g, "");
        const className = language && window.hljs.getLanguage(language) ? ` class="language-${language}"` : "";
        return (
          `<div class="code-block" data-testid="code-block"><div class="code-head">` +
          `<span data-testid="code-lang">${escapeHtml(language || t.code)}</span>` +
          `<button type="button" class="copy-code" data-testid="copy-code"><i class="ph ph-copy" aria-hidden="true"></i> ` +
          `<span>${escapeHtml(t.copy)}</span></button></div>` +
          `<pre><code${className}>${escapeHtml(text)}</code></pre></div>`
        );
      },
    },
  });

  // Whatever reached the sanitiser anyway: no picture from elsewhere keeps its address, and
  // links open in a new tab without telling the other site where they came from.
  window.DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName === "IMG" && !isOwnMedia(node.getAttribute("src"))) node.removeAttribute("src");
    if (node.nodeName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
  const PURIFY = {
    ADD_ATTR: ["target"],
    FORBID_ATTR: ["style", "srcset", "poster", "background"],
    FORBID_TAGS: ["style", "video", "audio", "source", "track", "picture", "input", "form", "svg", "math"],
  };

  function renderMarkdown(element, text) {
    element.innerHTML = window.DOMPurify.sanitize(window.marked.parse(text), PURIFY);
    for (const code of element.querySelectorAll("pre code")) window.hljs.highlightElement(code);
  }

  // Copies `text`; the Clipboard API needs a secure context, else the old way.
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "fixed -left-[9999px]";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  // A button's label says "copied" for a moment.
  function flashCopied(button) {
    const label = button.querySelector("span");
    if (!label) return;
    const before = label.textContent;
    label.textContent = t.copied;
    window.setTimeout(() => {
      label.textContent = before;
    }, 1500);
  }

  function messageNode(role) {
    const user = role === "user";
    const row = document.createElement("div");
    row.className = user ? "flex flex-col items-end" : "flex flex-col items-start";
    row.setAttribute("data-testid", user ? "user-message" : "assistant-message");
    const bubble = document.createElement("div");
    bubble.className = user
      ? "max-w-[85%] rounded-2xl bg-indigo-600 px-4 py-2 text-white"
      : "max-w-full sm:max-w-[85%] min-w-0 rounded-2xl bg-slate-100 px-4 py-2";
    const images = document.createElement("div");
    images.className = "flex flex-wrap gap-2";
    const body = document.createElement("div");
    body.className = user ? "whitespace-pre-wrap break-words" : "prose prose-sm prose-slate max-w-none break-words";
    body.setAttribute("data-testid", "message-body");
    const notice = document.createElement("p");
    notice.className = "hidden mt-2 rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700 ring-1 ring-red-200";
    notice.setAttribute("data-testid", "message-error");
    const meta = document.createElement("div");
    meta.className = user ? "hidden" : "mt-1 text-xs text-slate-400";
    meta.setAttribute("data-testid", "message-meta");
    bubble.append(images, body, notice, meta);
    const actions = document.createElement("div");
    actions.className = "message-actions";
    actions.setAttribute("data-testid", "message-actions");
    row.append(bubble, actions);
    return { row, bubble, body, notice, meta, images, actions, text: "" };
  }

  function showNotice(node, text) {
    node.notice.textContent = text;
    node.notice.classList.toggle("hidden", !text);
  }

  const RECENT_MODELS = 5;
  const SECTIONS = ["today", "yesterday", "week", "earlier"];
  const DAY = 24 * 60 * 60 * 1000;
  const lang = document.documentElement.lang || "ru";
  const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  const weekdayFormat = new Intl.DateTimeFormat(lang, { weekday: "short", hour: "2-digit", minute: "2-digit" });
  const dateFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short" });
  const yearFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric" });

  function dateSection(date) {
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    if (date >= today) return "today";
    if (date >= today - DAY) return "yesterday";
    if (date >= today - 6 * DAY) return "week";
    return "earlier";
  }

  // When a chat was last active, short enough for the list and enough to tell two apart.
  function whenText(date, section) {
    if (section === "today" || section === "yesterday") return timeFormat.format(date);
    if (section === "week") return weekdayFormat.format(date);
    return (date.getFullYear() === new Date().getFullYear() ? dateFormat : yearFormat).format(date);
  }

  // "128K", "1M": a context length in tokens, short.
  function contextText(tokens) {
    if (tokens >= 1e6) return `${Math.round(tokens / 1e5) / 10}M`;
    return `${Math.round(tokens / 1000)}K`;
  }

  function badgesOf(model) {
    if (model.kind === "image") return [t.badge_image];
    if (model.kind === "video") return [t.badge_video];
    return model.vision ? [t.badge_vision] : [];
  }

  function detailsOf(model) {
    if (model.kind !== "chat") return t.media_details;
    return fill(t.context, { context: contextText(model.context_length) });
  }

  // A model's price as the reader compares them: per typical answer, or per generation.
  function priceText(model) {
    return fill(model.kind === "chat" ? t.per_answer : t.per_generation, { price: rub(model.rub_typical) });
  }

  function costText(message) {
    const label = message.error ? t.failed : message.status === "partial" ? t.stopped : "";
    if (message.status === "error") return label;
    const cost =
      message.status === "partial" && Number(message.cost) === 0
        ? t.cost_pending
        : fill(t.cost, { cost: rub(message.cost), tokens_in: message.tokens_in, tokens_out: message.tokens_out });
    return label ? `${label} · ${cost}` : cost;
  }

  Alpine.data("chatApp", () => {
    // Outside Alpine's reactive state: the fetch controller and the pending render frame.
    let controller = null;
    let frame = null;

    return {
      config,
      chats: [],
      nextPage: null,
      chatId: null,
      modelId: config.default_model,
      text: "",
      images: [],
      streaming: false,
      error: "",
      needsTopUp: false,
      empty: true,
      examples: t.examples,
      balance: Number(config.balance),
      drawerOpen: false,
      pickerOpen: false,
      pickerTab: "chat",
      modelQuery: "",
      recentModels: [],
      chatQuery: "",
      dragging: false,
      renamingId: null,
      renameText: "",
      confirmingId: null,
      stickToBottom: true,

      init() {
        try {
          this.recentModels = JSON.parse(window.localStorage.getItem("chat:recent-models") || "[]").filter((id) =>
            models.has(id),
          );
        } catch {
          this.recentModels = [];
        }
        const remembered = window.localStorage.getItem("chat:model");
        if (remembered && models.has(remembered)) this.modelId = remembered;
        this.$watch("modelId", (value) => {
          window.localStorage.setItem("chat:model", value);
          if (!models.get(value)?.vision) this.images = [];
        });
        this.$watch("text", () => this.$nextTick(() => this.grow()));
        this.$refs.messages.addEventListener("click", (event) => this.onMessagesClick(event));
        this.loadChats();
        // `?chat=<id>` (the page checked it is the user's own chat).
        if (config.chat) this.selectChat(config.chat);
      },

      get model() {
        return models.get(this.modelId);
      },
      get modelName() {
        return this.model ? this.model.name : t.choose_model;
      },
      get modelPrice() {
        return this.model ? priceText(this.model) : "";
      },

      // Model picker ------------------------------------------------------------------------
      get pickerExpanded() {
        return String(this.pickerOpen);
      },
      get browsing() {
        return !this.modelQuery.trim();
      },
      get chatTabSelected() {
        return String(this.pickerTab === "chat");
      },
      get mediaTabSelected() {
        return String(this.pickerTab === "media");
      },
      togglePicker() {
        if (this.pickerOpen) return this.closePicker();
        this.pickerOpen = true;
        this.modelQuery = "";
        this.pickerTab = this.model && this.model.kind !== "chat" ? "media" : "chat";
        this.$nextTick(() => this.$refs.modelSearch.focus());
      },
      closePicker() {
        this.pickerOpen = false;
      },
      showChatModels() {
        this.pickerTab = "chat";
      },
      showMediaModels() {
        this.pickerTab = "media";
      },
      // Browsing: the tab's recent models, then its groups. Searching: every model whose name,
      // id or provider matches, whatever its kind.
      get pickerGroups() {
        const query = this.modelQuery.trim().toLowerCase();
        const option = (model, group) => ({
          key: `${group}:${model.id}`,
          id: model.id,
          name: model.name,
          badges: badgesOf(model),
          details: detailsOf(model),
          price: priceText(model),
          selected: String(model.id === this.modelId),
        });
        const groups = [];
        if (!query) {
          const media = this.pickerTab === "media";
          const recent = this.recentModels
            .map((id) => models.get(id))
            .filter((model) => model && (model.kind !== "chat") === media);
          if (recent.length) groups.push({ key: "recent", name: t.recent, models: recent.map((m) => option(m, "recent")) });
          for (const group of config.catalog) {
            const shown = group.models.filter((model) => (model.kind !== "chat") === media);
            if (shown.length) groups.push({ key: group.name, name: group.name, models: shown.map((m) => option(m, group.name)) });
          }
          return groups;
        }
        for (const group of config.catalog) {
          const shown = group.models.filter((model) =>
            [model.name, model.id, group.name].some((text) => text.toLowerCase().includes(query)),
          );
          if (shown.length) groups.push({ key: group.name, name: group.name, models: shown.map((m) => option(m, group.name)) });
        }
        return groups;
      },
      get noModelsFound() {
        return this.pickerGroups.length === 0;
      },
      pickModel(event) {
        this.modelId = event.currentTarget.dataset.id;
        this.closePicker();
      },
      pickFirst() {
        const first = this.pickerGroups[0];
        if (first) this.modelId = first.models[0].id;
        this.closePicker();
      },
      // The models this browser sent with, most recent first.
      rememberModel(id) {
        this.recentModels = [id, ...this.recentModels.filter((item) => item !== id)].slice(0, RECENT_MODELS);
        window.localStorage.setItem("chat:recent-models", JSON.stringify(this.recentModels));
      },
      // What one typical answer costs on the chosen model (a generation, for media models).
      get typicalCostText() {
        const model = this.model;
        if (!model) return "";
        const template = model.kind === "chat" ? t.typical : t.per_generation_of;
        return fill(template, { model: model.name, price: rub(model.rub_typical) });
      },
      get lowBalance() {
        return Boolean(this.model) && this.balance < Number(this.model.rub_typical);
      },
      useExample(event) {
        this.text = event.currentTarget.dataset.text;
        this.$nextTick(() => document.getElementById("chat-input").focus());
      },
      get canAttach() {
        return Boolean(this.model && this.model.vision) && this.images.length < config.max_images;
      },
      get canSend() {
        return !this.streaming && Boolean(this.modelId) && this.text.trim().length > 0;
      },
      get idle() {
        return !this.streaming;
      },
      get balanceText() {
        return rub(this.balance);
      },
      get hasMore() {
        return this.nextPage !== null;
      },

      // The chat list is a drawer on phones (a column from md up, where these do nothing); its
      // `data-open` slides it in.
      get drawerExpanded() {
        return String(this.drawerOpen);
      },
      openDrawer() {
        this.drawerOpen = true;
      },
      closeDrawer() {
        this.drawerOpen = false;
      },

      // Esc closes the drawer, else stops the reply being written.
      onEscape() {
        if (this.drawerOpen) this.closeDrawer();
        else if (this.streaming) this.stop();
      },

      clearError() {
        this.error = "";
        this.needsTopUp = false;
      },

      onWallet(event) {
        this.balance = Number(event.detail.balance);
      },

      // Chats ---------------------------------------------------------------------------------
      decorate(chat) {
        const updated = new Date(chat.updated_at);
        const section = dateSection(updated);
        return {
          ...chat,
          label: chat.title || t.untitled,
          when: whenText(updated, section),
          section,
          classes: chat.id === this.chatId ? "bg-white shadow-sm" : "",
          idle: chat.id !== this.renamingId && chat.id !== this.confirmingId,
          renaming: chat.id === this.renamingId,
          confirming: chat.id === this.confirmingId,
        };
      },
      // The list by day of last activity: today, yesterday, this week, earlier.
      get chatSections() {
        return SECTIONS.map((key) => ({ key, name: t.sections[key], chats: this.chats.filter((chat) => chat.section === key) })).filter(
          (section) => section.chats.length,
        );
      },
      get noChatsFound() {
        return this.chats.length === 0 && this.chatQuery.trim() !== "";
      },
      searchChats() {
        this.loadChats();
      },
      redecorate() {
        this.chats = this.chats.map((chat) => this.decorate(chat));
      },

      api(url, options = {}) {
        return window.http.request(url, { fallback: t.network, ...options });
      },

      async loadChats(page = 1) {
        try {
          const query = this.chatQuery.trim();
          const data = await this.api(`/api/chats?page=${page}${query ? `&q=${encodeURIComponent(query)}` : ""}`);
          const chats = data.results.map((chat) => this.decorate(chat));
          this.chats = page === 1 ? chats : [...this.chats, ...chats];
          this.nextPage = data.next ? page + 1 : null;
        } catch (error) {
          this.error = error.message;
        }
      },

      loadMoreChats() {
        if (this.nextPage) this.loadChats(this.nextPage);
      },

      openChat(event) {
        this.selectChat(Number(event.currentTarget.dataset.id));
      },

      async selectChat(id) {
        if (this.streaming) this.stop();
        this.closeDrawer();
        this.chatId = id;
        this.clearError();
        this.redecorate();
        window.history.replaceState(null, "", `?chat=${id}`);
        try {
          const chat = await this.api(`/api/chats/${id}`);
          if (models.has(chat.model)) this.modelId = chat.model;
          await this.loadMessages();
        } catch (error) {
          this.error = error.message;
        }
      },

      newChat() {
        if (this.streaming) this.stop();
        this.closeDrawer();
        this.chatId = null;
        this.clearError();
        this.$refs.messages.replaceChildren();
        this.empty = true;
        this.redecorate();
        window.history.replaceState(null, "", window.location.pathname);
      },

      // Rename in place: the row becomes a field (Enter saves, Esc cancels).
      startRename(event) {
        const id = Number(event.currentTarget.dataset.id);
        const chat = this.chats.find((item) => item.id === id);
        this.renameText = chat ? chat.title : "";
        this.renamingId = id;
        this.confirmingId = null;
        this.redecorate();
      },
      focusHere() {
        this.$nextTick(() => {
          this.$el.focus();
          this.$el.select();
        });
      },
      cancelRename() {
        this.renamingId = null;
        this.redecorate();
      },
      async saveRename() {
        const id = this.renamingId;
        this.renamingId = null;
        try {
          await this.api(`/api/chats/${id}`, { method: "PATCH", json: { title: this.renameText } });
          await this.loadChats();
        } catch (error) {
          this.error = error.message;
          this.redecorate();
        }
      },

      // Delete asks in the row itself, not in a browser dialog.
      askDelete(event) {
        this.confirmingId = Number(event.currentTarget.dataset.id);
        this.renamingId = null;
        this.redecorate();
      },
      cancelDelete() {
        this.confirmingId = null;
        this.redecorate();
      },
      async confirmDelete(event) {
        const id = Number(event.currentTarget.dataset.id);
        this.confirmingId = null;
        try {
          await this.api(`/api/chats/${id}`, { method: "DELETE" });
          if (id === this.chatId) this.newChat();
          await this.loadChats();
        } catch (error) {
          this.error = error.message;
        }
      },

      // Messages ------------------------------------------------------------------------------
      append(role, text, imageUrls = []) {
        const node = messageNode(role);
        node.text = text;
        for (const url of imageUrls) {
          if (!isOwnMedia(url)) {
            node.images.insertAdjacentHTML("beforeend", window.DOMPurify.sanitize(remoteImageLink(url, ""), PURIFY));
            continue;
          }
          const image = document.createElement("img");
          image.src = url;
          image.alt = "";
          image.className = "mb-2 max-h-48 rounded-lg";
          node.images.append(image);
        }
        if (role === "user") node.body.textContent = text;
        else renderMarkdown(node.body, text);
        this.$refs.messages.append(node.row);
        this.empty = false;
        this.scrollDown();
        return node;
      },

      async loadMessages() {
        const messages = await this.api(`/api/chats/${this.chatId}/messages`);
        this.$refs.messages.replaceChildren();
        this.empty = true;
        const shown = messages.filter(
          (message) =>
            message.role === "user" || message.content || message.error || (message.image_urls || []).length > 0,
        );
        const lastReply = shown.findLastIndex((message) => message.role === "assistant");
        shown.forEach((message, index) => {
          const node = this.append(message.role, message.content, message.image_urls);
          node.row.dataset.messageId = message.id;
          const question = message.role === "user" ? message : shown[index - 1];
          if (message.role === "assistant") {
            node.meta.textContent = costText(message);
            showNotice(node, message.error);
            if (message.error) node.bubble.classList.add("ring-1", "ring-red-200");
          }
          this.addActions(node, message, index === lastReply && question?.role === "user" ? question : null);
        });
        this.stickToBottom = true;
        this.scrollDown();
      },

      // Under each stored message: copy; a question can be edited and sent again; the last
      // reply can be regenerated (or retried, when it failed).
      addActions(node, message, question) {
        const button = (icon, label, testid, onClick) => {
          const element = document.createElement("button");
          element.type = "button";
          element.className = "message-action";
          element.setAttribute("data-testid", testid);
          element.title = label;
          element.innerHTML = `<i class="ph ${icon}" aria-hidden="true"></i> <span></span>`;
          element.querySelector("span").textContent = label;
          element.addEventListener("click", (event) => onClick(event.currentTarget));
          node.actions.append(element);
        };
        if (message.content) {
          button("ph-copy", t.copy, "copy-message", async (element) => {
            await copyText(message.content);
            flashCopied(element);
          });
        }
        if (message.role === "user") {
          button("ph-pencil-simple", t.edit, "edit-message", () => this.editQuestion(node, message));
        } else if (question && models.get(message.model)?.kind !== "image" && models.get(message.model)?.kind !== "video") {
          const retry = Boolean(message.error);
          button(
            retry ? "ph-arrow-clockwise" : "ph-arrows-clockwise",
            retry ? t.retry : t.regenerate,
            retry ? "retry" : "regenerate",
            () => this.resend(question, question.content),
          );
        }
      },

      // Edits a question in place; sending replaces the chat from it on.
      editQuestion(node, message) {
        if (this.streaming) return;
        const form = document.createElement("form");
        form.className = "w-full max-w-[85%] space-y-2";
        form.setAttribute("data-testid", "edit-form");
        const area = document.createElement("textarea");
        area.className = "w-full rounded-xl border border-indigo-300 bg-white px-3 py-2 text-sm text-slate-800 focus:outline-none focus:ring-2 focus:ring-indigo-200";
        area.value = message.content;
        area.rows = Math.min(8, message.content.split("\n").length + 1);
        area.setAttribute("data-testid", "edit-input");
        const buttons = document.createElement("div");
        buttons.className = "flex justify-end gap-2 text-sm";
        const cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "rounded-lg px-3 py-1.5 text-slate-600 hover:bg-slate-100";
        cancel.textContent = t.cancel;
        const submit = document.createElement("button");
        submit.type = "submit";
        submit.className = "rounded-lg bg-indigo-600 px-3 py-1.5 text-white hover:bg-indigo-500";
        submit.textContent = t.send_edited;
        submit.setAttribute("data-testid", "edit-send");
        buttons.append(cancel, submit);
        form.append(area, buttons);
        node.bubble.classList.add("hidden");
        node.actions.classList.add("hidden");
        node.row.append(form);
        area.focus();
        const close = () => {
          form.remove();
          node.bubble.classList.remove("hidden");
          node.actions.classList.remove("hidden");
        };
        cancel.addEventListener("click", close);
        area.addEventListener("keydown", (event) => {
          if (event.key === "Escape") {
            event.stopPropagation();
            close();
          } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            form.requestSubmit();
          }
        });
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          const text = area.value.trim();
          if (text) this.resend(message, text);
        });
      },

      // Regenerate, retry or send an edited question: the chat from `question` on is replaced.
      resend(question, text) {
        if (this.streaming) return;
        const rows = [...this.$refs.messages.children];
        const from = rows.findIndex((row) => row.dataset.messageId === String(question.id));
        for (const row of rows.slice(Math.max(from, 0))) row.remove();
        this.ask({ text, images: [], shownImages: question.image_urls || [], resendFrom: question.id });
      },

      // Clicks inside rendered replies: a code block's copy button.
      async onMessagesClick(event) {
        const button = event.target.closest(".copy-code");
        if (!button) return;
        const code = button.closest(".code-block").querySelector("pre code");
        await copyText(code.textContent);
        flashCopied(button);
      },

      // Follows a growing reply only while the reader is at the bottom: scrolling up to read
      // stops it, scrolling back down resumes it.
      onScroll() {
        const scroller = this.$refs.scroller;
        this.stickToBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
      },

      scrollDown(force = false) {
        if (!force && !this.stickToBottom) return;
        const scroller = this.$refs.scroller;
        scroller.scrollTop = scroller.scrollHeight;
      },

      // Re-rendering the growing markdown at most once a frame keeps long replies smooth.
      scheduleRender(node) {
        if (frame) return;
        frame = window.requestAnimationFrame(() => {
          frame = null;
          renderMarkdown(node.body, node.text);
          this.scrollDown();
        });
      },

      enter(event) {
        if (event.shiftKey || event.isComposing) return;
        event.preventDefault();
        this.send();
      },

      // The composer grows with its text up to a limit, then scrolls.
      grow() {
        const area = this.$refs.input;
        area.style.height = "auto";
        const borders = area.offsetHeight - area.clientHeight;
        area.style.height = `${Math.min(area.scrollHeight + borders, 240)}px`;
      },

      async attach(event) {
        const file = event.target.files[0];
        event.target.value = "";
        if (file) await this.upload([file]);
      },

      // Pictures pasted into the composer or dropped on the chat go the way of the paperclip,
      // when the model can see them; otherwise the reader is told why not.
      async upload(files) {
        const images = files.filter((file) => file.type.startsWith("image/"));
        if (!images.length) return;
        if (!this.model || !this.model.vision) {
          this.error = t.no_vision;
          return;
        }
        this.clearError();
        for (const file of images.slice(0, config.max_images - this.images.length)) {
          const form = new FormData();
          form.append("file", file);
          try {
            const data = await this.api("/api/upload", { method: "POST", body: form });
            this.images = [...this.images, data.url];
          } catch (error) {
            this.error = error.message;
          }
        }
      },
      onPaste(event) {
        const files = [...(event.clipboardData?.files || [])];
        if (!files.some((file) => file.type.startsWith("image/"))) return;
        event.preventDefault();
        this.upload(files);
      },
      onDragOver(event) {
        if (![...(event.dataTransfer?.types || [])].includes("Files")) return;
        event.preventDefault();
        this.dragging = true;
      },
      onDragLeave(event) {
        if (!event.currentTarget.contains(event.relatedTarget)) this.dragging = false;
      },
      onDrop(event) {
        this.dragging = false;
        const files = [...(event.dataTransfer?.files || [])];
        if (!files.length) return;
        event.preventDefault();
        this.upload(files);
      },
      get dropClass() {
        return this.dragging ? "ring-2 ring-inset ring-indigo-400 bg-indigo-50/40" : "";
      },

      detach(event) {
        const url = event.currentTarget.dataset.url;
        this.images = this.images.filter((item) => item !== url);
      },

      stop() {
        if (controller) controller.abort();
      },

      send() {
        if (!this.canSend) return;
        const typed = this.text;
        const attached = [...this.images];
        this.text = "";
        this.images = [];
        this.ask({ text: typed.trim(), images: attached, typed });
      },

      // Sends a question and streams its reply. `resendFrom`: the id of the question this one
      // replaces (regenerate, retry, edit); `typed`: the composer's text, given back if refused.
      async ask({ text, images, typed = null, shownImages = images, resendFrom = null }) {
        const body = { model: this.modelId, message: text };
        this.rememberModel(this.modelId);
        if (this.chatId) body.chat_id = this.chatId;
        if (images.length) body.image_urls = images;
        if (resendFrom) body.resend_from = resendFrom;
        const question = this.append("user", text, shownImages);
        this.clearError();
        this.stickToBottom = true;
        this.scrollDown();
        this.streaming = true;
        controller = new AbortController();
        let reply = null;
        let finished = false;
        let stopped = false;
        const refused = (message, status = 0) => {
          this.needsTopUp = status === 402;
          this.error = message;
          if (resendFrom) {
            // The server changed nothing: show the chat as it is.
            this.loadMessages().catch(() => {});
          } else {
            // Nothing was kept: the question goes back into the composer.
            question.row.remove();
            this.empty = this.$refs.messages.childElementCount === 0;
            this.text = typed ?? text;
            this.images = images;
          }
        };
        try {
          const response = await fetch("/api/chats/send", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": window.http.csrfToken() },
            body: JSON.stringify(body),
            signal: controller.signal,
          });
          if (!(response.headers.get("Content-Type") || "").startsWith("application/x-ndjson")) {
            const data = await response.json().catch(() => ({}));
            if (data.type === "media") {
              this.chatId = data.chat_id;
              this.showGeneration(this.append("assistant", ""), data.generation);
              this.loadChats();
            } else {
              refused(data.detail || t.network, response.status);
            }
            return;
          }
          reply = this.append("assistant", "");
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let newline = buffer.indexOf("\n");
            while (newline >= 0) {
              const line = buffer.slice(0, newline).trim();
              buffer = buffer.slice(newline + 1);
              if (line) finished = this.handle(JSON.parse(line), reply) || finished;
              newline = buffer.indexOf("\n");
            }
          }
        } catch (error) {
          if (error.name === "AbortError") {
            stopped = true;
            if (reply) reply.meta.textContent = `${t.stopped} · ${t.cost_pending}`;
          } else if (reply) {
            showNotice(reply, t.network);
          } else {
            refused(t.network);
          }
        } finally {
          this.streaming = false;
          controller = null;
          if (reply) renderMarkdown(reply.body, reply.text);
        }
        const chatId = this.chatId;
        if (stopped && chatId) {
          // The server records a stopped reply as the stream closes: show it (and its actions)
          // once it has, unless the reader has moved on.
          await window.http.sleep(800);
          if (this.chatId === chatId && !this.streaming) await this.loadMessages().catch(() => {});
        }
        if (finished && chatId) {
          // The stored messages carry each reply's tokens, cost and actions.
          await this.loadMessages().catch(() => {});
          await this.loadChats();
        }
      },

      // A media model's reply: the generation card (templates/media/generation_card.html),
      // pending until the job ends, then its picture or video.
      showGeneration(node, generation) {
        const card = window.mediaGeneration.card(generation);
        card.classList.add("w-64", "max-w-full");
        // The prompt is the user's message just above.
        card.querySelector("figcaption").remove();
        node.images.replaceChildren(card);
        node.meta.textContent = t.generating;
      },

      // One NDJSON line; returns true when the reply reached its end (balance or error).
      handle(event, reply) {
        if (event.type === "meta") {
          if (this.chatId !== event.chat_id) {
            this.chatId = event.chat_id;
            window.history.replaceState(null, "", `?chat=${event.chat_id}`);
            this.loadChats();
          }
        } else if (event.type === "content") {
          reply.text += event.text;
          this.scheduleRender(reply);
        } else if (event.type === "balance") {
          this.balance = Number(event.balance);
          return true;
        } else if (event.type === "error") {
          showNotice(reply, event.text);
          return true;
        }
        return false;
      },
    };
  });
});
