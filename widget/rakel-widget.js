/*
 * Spør 'o Rakel – intranet web widget.
 *
 * Plain browser JavaScript on socket.io-client v4 (served next to this file); speaks
 * Rasa's socket.io channel (bot/channels/socketio.py). Configuration comes from the
 * script tag: data-rasa-url (required), data-token (optional identity token from
 * POST /widget/token), data-socket-path (default /socket.io), data-municipality
 * (optional: the page's municipality, for the outage banner).
 *
 * Safety: bot and user text is only ever inserted with textContent; links are built
 * as elements, only for http(s) URLs, with rel="noopener noreferrer".
 * Accessibility: labelled controls, a role="log" live region for new messages, a
 * role="status" region for connection notices, buttons for every action, Escape closes.
 * Outage notices (GET /widget/notices on the server this file came from) fill a
 * role="status" banner at the top of the panel, so screen readers announce them.
 * Messages Rakel owes a signed-in user (their fault is fixed, their ticket waits or
 * is solved; POST /widget/messages) are added to the conversation when it opens, and
 * acknowledged (POST /widget/messages/seen) once shown.
 */
(function () {
  "use strict";

  // User-facing text (Norwegian Bokmål), kept in one place for review.
  var TEXT = {
    title: "Spør 'o Rakel",
    open: "Spør 'o Rakel",
    close: "Lukk",
    closeLabel: "Lukk Spør 'o Rakel",
    inputLabel: "Skriv spørsmålet ditt",
    placeholder: "F.eks. «Hvordan setter jeg opp tofaktor?»",
    send: "Send",
    greeting: "Hei! Jeg er Rakel, IT-assistenten til ROR-IKT. Hva kan jeg hjelpe deg med?",
    you: "Du skrev:",
    rakel: "Rakel svarte:",
    unreachable: "Rakel er ikke tilgjengelig akkurat nå. Prøv igjen om litt, " +
      "eller kontakt Kundeservice.",
    notSent: "Meldingen ble ikke sendt fordi Rakel ikke er tilgjengelig. Prøv igjen om litt.",
    reconnected: "Rakel er tilgjengelig igjen.",
    missingLibrary: "Spør 'o Rakel kunne ikke lastes. Kontakt Kundeservice.",
    noticeLabel: "Driftsmelding",
    expectedEnd: "Forventet løst:"
  };
  var STORE = "rakel-widget:";

  var script = document.currentScript;
  var config = {
    rasaUrl: (script && script.getAttribute("data-rasa-url")) || window.location.origin,
    token: script && script.getAttribute("data-token"),
    path: (script && script.getAttribute("data-socket-path")) || "/socket.io",
    municipality: script && script.getAttribute("data-municipality"),
    // The notices come from the web service that serves this file.
    noticesUrl: script && script.src ? new URL("notices", script.src).href : null,
    messagesUrl: script && script.src ? new URL("messages", script.src).href : null
  };

  function load(key, fallback) {
    try {
      var raw = window.sessionStorage.getItem(STORE + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { window.sessionStorage.setItem(STORE + key, JSON.stringify(value)); } catch (e) { /* full or disabled */ }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Bot text to DOM: **bold**, [title](url) and bare http(s) URLs; everything else text.
  var TOKEN = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?])/g;
  function safeHref(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return (parsed.protocol === "https:" || parsed.protocol === "http:") ? parsed.href : null;
    } catch (e) { return null; }
  }
  function renderText(container, text) {
    var last = 0, match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      container.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        container.appendChild(el("strong", {}, match[1]));
      } else {
        var label = match[2] !== undefined ? match[2] : match[4];
        var href = safeHref(match[3] !== undefined ? match[3] : match[4]);
        if (href) {
          container.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, label));
        } else {
          container.appendChild(document.createTextNode(match[0]));
        }
      }
      last = TOKEN.lastIndex;
    }
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  // --- DOM --------------------------------------------------------------------
  var launcher = el("button", { type: "button", "class": "rakel-launcher",
    "aria-expanded": "false", "aria-controls": "rakel-panel" }, TEXT.open);
  var panel = el("section", { id: "rakel-panel", "class": "rakel-panel",
    "aria-labelledby": "rakel-title", hidden: "" });
  var header = el("div", { "class": "rakel-header" });
  header.appendChild(el("h2", { id: "rakel-title" }, TEXT.title));
  var closeButton = el("button", { type: "button", "class": "rakel-close",
    "aria-label": TEXT.closeLabel }, TEXT.close);
  header.appendChild(closeButton);
  var log = el("div", { "class": "rakel-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", "aria-labelledby": "rakel-title", tabindex: "0" });
  var status = el("p", { "class": "rakel-status", role: "status", "aria-live": "polite" });
  var form = el("form", { "class": "rakel-form" });
  form.appendChild(el("label", { "for": "rakel-input" }, TEXT.inputLabel));
  var input = el("input", { id: "rakel-input", type: "text", autocomplete: "off",
    maxlength: "2000", placeholder: TEXT.placeholder });
  form.appendChild(input);
  form.appendChild(el("button", { type: "submit" }, TEXT.send));
  var banner = el("div", { "class": "rakel-banner", role: "status", "aria-live": "polite" });
  panel.appendChild(header);
  panel.appendChild(banner);
  panel.appendChild(log);
  panel.appendChild(status);
  panel.appendChild(form);

  // --- conversation -------------------------------------------------------------
  var history = load("history", []);

  function show(entry) {
    var who = entry.sender === "user" ? TEXT.you : TEXT.rakel;
    var bubble = el("p", { "class": "rakel-msg rakel-msg-" + entry.sender });
    bubble.appendChild(el("span", { "class": "rakel-visually-hidden" }, who + " "));
    renderText(bubble, entry.text || "");
    log.appendChild(bubble);
    if (entry.buttons && entry.buttons.length && !entry.answered) {
      var group = el("div", { "class": "rakel-buttons", role: "group" });
      entry.buttons.forEach(function (button) {
        var node = el("button", { type: "button" }, button.title);
        node.addEventListener("click", function () {
          if (send(button.payload, button.title)) {
            entry.answered = true;
            save("history", history);
            group.remove();
            input.focus();
          }
        });
        group.appendChild(node);
      });
      log.appendChild(group);
    }
    log.scrollTop = log.scrollHeight;
  }

  function remember(entry) {
    history.push(entry);
    save("history", history.slice(-200));
    show(entry);
  }

  if (history.length === 0) {
    history.push({ sender: "bot", text: TEXT.greeting });
    save("history", history);
  }
  history.forEach(show);

  // --- socket -------------------------------------------------------------------
  var socket = null;
  var sessionId = load("session", null);
  var confirmed = false;

  function notice(text) { status.textContent = text; }
  // For styling and tests: "connecting", "open" or "down".
  function state(value) { panel.setAttribute("data-connection", value); }

  function send(payload, shown) {
    if (!socket || !socket.connected || !confirmed) {
      notice(TEXT.notSent);
      return false;
    }
    remember({ sender: "user", text: shown });
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
    return true;
  }

  function connect() {
    if (typeof window.io !== "function") {
      notice(TEXT.missingLibrary);
      return;
    }
    // Long-polling only: the websocket upgrade fails on Rasa 3.6's Sanic 21.12 under
    // Python 3.11 ("Passing coroutines is forbidden") and would drop the connection.
    var options = { path: config.path, reconnectionDelayMax: 10000, transports: ["polling"] };
    if (config.token) { options.auth = { token: config.token }; }
    state("connecting");
    socket = window.io(config.rasaUrl, options);
    var wasDown = false;
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("session_confirm", function (id) {
      sessionId = id;
      confirmed = true;
      save("session", id);
      state("open");
      notice(wasDown ? TEXT.reconnected : "");
      wasDown = false;
    });
    function down() {
      confirmed = false;
      wasDown = true;
      state("down");
      notice(TEXT.unreachable);
    }
    socket.on("connect_error", down);
    socket.on("disconnect", down);
    socket.on("bot_uttered", function (message) {
      if (!message || typeof message !== "object") { return; }
      var buttons = (message.quick_replies || message.buttons || []).filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) { return { title: b.title, payload: b.payload }; });
      if (typeof message.text === "string" || buttons.length) {
        remember({ sender: "bot", text: message.text || "", buttons: buttons });
      }
    });
  }

  // --- outage notices -----------------------------------------------------------
  function showNotices(list) {
    banner.textContent = "";
    list.forEach(function (item) {
      if (!item || typeof item.title !== "string") { return; }
      var line = el("p", { "class": "rakel-banner-item" });
      line.appendChild(el("strong", {}, TEXT.noticeLabel + ": " + item.title));
      var rest = " " + (typeof item.text === "string" ? item.text : "");
      if (typeof item.expected_end === "string") { rest += " " + TEXT.expectedEnd + " " + item.expected_end + "."; }
      line.appendChild(document.createTextNode(rest));
      banner.appendChild(line);
    });
    panel.setAttribute("data-notices", String(banner.childNodes.length));
  }
  function loadNotices() {
    if (!config.noticesUrl || typeof window.fetch !== "function") { return; }
    var url = config.noticesUrl + (config.municipality ?
      "?kommune=" + encodeURIComponent(config.municipality) : "");
    // A failed lookup shows no banner: the conversation works without it.
    window.fetch(url, { credentials: "omit" }).then(function (response) {
      return response.ok ? response.json() : { notices: [] };
    }).then(function (body) {
      showNotices(Array.isArray(body && body.notices) ? body.notices : []);
    }).catch(function () { /* no banner */ });
  }

  // --- messages waiting for this user -------------------------------------------
  function post(url, fields) {
    // A form body is a simple cross-origin request (no preflight); the token stays
    // out of the URL.
    return window.fetch(url, { method: "POST", credentials: "omit",
      body: new URLSearchParams(fields) });
  }
  function loadMessages() {
    if (!config.token || !config.messagesUrl || typeof window.fetch !== "function") { return; }
    // A failed lookup shows nothing now; the messages wait for the next opening.
    post(config.messagesUrl, { token: config.token }).then(function (response) {
      return response.ok ? response.json() : { messages: [] };
    }).then(function (body) {
      var ids = [];
      (Array.isArray(body && body.messages) ? body.messages : []).forEach(function (item) {
        if (!item || typeof item.text !== "string" || typeof item.id !== "number") { return; }
        remember({ sender: "bot", text: item.text });
        ids.push(item.id);
      });
      panel.setAttribute("data-messages", String(ids.length));
      if (ids.length) {
        return post(config.messagesUrl + "/seen", { token: config.token, ids: ids.join(",") });
      }
    }).catch(function () { /* shown again next time */ });
  }

  // --- interaction --------------------------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    save("open", true);
    input.focus();
    log.scrollTop = log.scrollHeight;
    if (!socket) { connect(); }
    loadNotices();
    loadMessages();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    save("open", false);
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { close(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    if (send(text, text)) { input.value = ""; }
  });

  function mount() {
    document.body.appendChild(launcher);
    document.body.appendChild(panel);
    if (load("open", false)) { open(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
