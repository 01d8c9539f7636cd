/* shopagent chat widget. Embed with one tag:
 *   <script src="https://your-shopagent/widget.js" data-key="pk_…" defer></script>
 * data-key (optional) is the shop's publishable key; it is sent with every request.
 * data-shopper-token (optional): the host page's signed token for its logged-in shopper (README, Access),
 * sent as X-Shopper-Token so the shopper need not give email and zip.
 * Everything the server or the shopper sends is inserted as text (textContent) or as attribute values,
 * never parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  var key = script ? script.getAttribute("data-key") : null;
  var shopperToken = script ? script.getAttribute("data-shopper-token") : null;
  var storageKey = "shopagent.conversation." + base;
  var conversationId = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  var ICONS = {  // inline vector icons: no emoji font or icon file needed
    mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11z",
    photo: "M9 3 7.17 5H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.17L15 3zm3 15a5 5 0 1 1 0-10 5 5 0 0 1 0 10zm0-2a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
  };
  function iconButton(name, label, attrs) {
    var button = el("button", Object.assign({ type: "button", class: "sa-" + name, "aria-label": label, title: label }, attrs || {}));
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    button.appendChild(svg);
    return button;
  }
  function headers(extra) {
    var h = Object.assign({}, extra || {});
    if (key) h["X-Shopagent-Key"] = key;
    if (shopperToken) h["X-Shopper-Token"] = shopperToken;
    return h;
  }
  function safeUrl(value) {  // only http(s) URLs, resolved against the shopagent server
    try {
      var url = new URL(value, base);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  document.head.appendChild(el("link", { rel: "stylesheet", href: base + "/widget.css" }));
  var launcher = el("button", { type: "button", class: "sa-launcher", "aria-expanded": "false", "aria-controls": "sa-panel" }, "Chat with us");
  var panel = el("section", { id: "sa-panel", class: "sa-panel", role: "dialog", "aria-label": "Shop assistant", hidden: "" });
  var head = el("header", { class: "sa-head" });
  var close = el("button", { type: "button", class: "sa-close", "aria-label": "Close chat" }, "×");
  head.append(el("h2", { class: "sa-title" }, "Shop assistant"), close);
  var log = el("div", { class: "sa-log", role: "log", "aria-live": "polite", "aria-label": "Conversation", "aria-busy": "false" });
  var status = el("p", { class: "sa-status", role: "status", "aria-live": "polite" });
  var chips = el("div", { class: "sa-chips", role: "group", "aria-label": "Quick replies" });
  var form = el("form", { class: "sa-form" });
  var input = el("input", { type: "text", class: "sa-input", "aria-label": "Your message", placeholder: "Type your message", maxlength: "4000", autocomplete: "off" });
  var photoInput = el("input", { type: "file", accept: "image/*", class: "sa-file", tabindex: "-1", "aria-hidden": "true" });
  var photo = iconButton("photo", "Find products like a photo");
  var mic = iconButton("mic", "Speak your message", { "aria-pressed": "false" });
  var send = el("button", { type: "submit", class: "sa-send" }, "Send");
  form.append(input, photoInput, photo, mic, send);
  panel.append(head, log, status, chips, form);
  document.body.append(launcher, panel);

  function setOpen(open) {
    if (open) panel.removeAttribute("hidden"); else panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { input.focus(); ensureConversation().catch(function (e) { error(e.message); }); } else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(panel.hasAttribute("hidden")); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  function scroll() { log.scrollTop = log.scrollHeight; }
  function bubble(role, text) {
    var b = el("div", { class: "sa-msg sa-" + role }, text);
    log.appendChild(b);
    scroll();
    return b;
  }
  function error(message) { bubble("error", message); }
  function card(c) {
    var node = el("article", { class: "sa-card", "aria-label": c.name });
    var src = c.image_url && safeUrl(c.image_url);
    if (src) node.appendChild(el("img", { src: src, alt: c.name + (c.variant ? " (" + c.variant + ")" : ""), loading: "lazy" }));
    node.appendChild(el("h3", {}, c.name));
    if (c.variant) node.appendChild(el("p", { class: "sa-variant" }, c.variant));
    node.appendChild(el("p", { class: "sa-price" }, c.price));
    if (c.reason) node.appendChild(el("p", { class: "sa-reason" }, c.reason));
    log.appendChild(node);
    scroll();
  }
  function showChips(awaiting) {
    chips.textContent = "";
    if (awaiting !== "confirmation") return;
    [["Yes, go ahead", "yes"], ["No", "no"]].forEach(function (pair) {
      var chip = el("button", { type: "button", class: "sa-chip" }, pair[0]);
      chip.addEventListener("click", function () { chips.textContent = ""; input.focus(); sendText(pair[1]); });
      chips.appendChild(chip);
    });
  }

  function ensureConversation() {
    if (conversationId) return Promise.resolve(conversationId);
    conversationId = sessionStorage.getItem(storageKey);
    if (conversationId) return Promise.resolve(conversationId);
    return fetch(base + "/v1/conversations", { method: "POST", headers: headers() })
      .then(function (r) { return r.ok ? r.json() : readErrorThen(r); })
      .then(function (body) { conversationId = body.conversation_id; sessionStorage.setItem(storageKey, conversationId); return conversationId; });
  }
  function newKey() {  // crypto.randomUUID exists only on https pages (and localhost)
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function conversationUrl(id, path) { return base + "/v1/conversations/" + encodeURIComponent(id) + path; }
  function readErrorThen(r) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      if (r.status === 404) { conversationId = null; sessionStorage.removeItem(storageKey); }
      throw new Error(body.reason || (typeof body.detail === "string" ? body.detail : "") || ("request failed (" + r.status + ")"));
    });
  }

  // One handler for the reply events of every channel (SSE for text, WebSocket for voice).
  function handle(kind, data, state) {
    if (kind === "transcript") bubble("user", data);
    else if (kind === "speech_start") status.textContent = "Listening…";
    else if (kind === "text_delta") { state.bot = state.bot || bubble("bot", ""); state.bot.textContent += data; }
    else if (kind === "text_reset") { state.bot = state.bot || bubble("bot", ""); state.bot.textContent = data; }
    else if (kind === "card") card(data);
    else if (kind === "awaiting") { panel.setAttribute("data-awaiting", data); showChips(data); }
    else if (kind === "handoff") { panel.setAttribute("data-handoff", "true"); bubble("system", "A human colleague will take over this conversation."); }
    else if (kind === "error") error(data.reason || "something went wrong");
    scroll();
  }
  function showReply(reply) {  // a JSON reply (photo search)
    var state = {};
    handle("text_reset", reply.text, state);
    (reply.cards || []).forEach(card);
    if (reply.handoff) handle("handoff", {}, state);
    handle("awaiting", reply.awaiting, state);
  }
  function busy(on) { log.setAttribute("aria-busy", String(on)); }  // a reply is on its way

  function sendText(text) {
    text = text.trim();
    if (!text) return;
    bubble("user", text);
    input.value = "";
    chips.textContent = "";
    var state = {};
    busy(true);
    ensureConversation().then(function (id) {
      return fetch(conversationUrl(id, "/messages"), {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream", "Idempotency-Key": newKey() }),
        body: JSON.stringify({ text: text }),
      });
    }).then(function (r) {
      if (!r.ok) return readErrorThen(r);
      var reader = r.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          parts.forEach(function (block) {
            var kind = "message", data = "";
            block.split("\n").forEach(function (line) {
              if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
              else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
            });
            if (data) handle(kind, JSON.parse(data), state);
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (e) { error(e.message); }).then(function () { busy(false); });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); sendText(input.value); });

  // Photo: find products that look like it.
  photo.addEventListener("click", function () { photoInput.click(); });
  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (!file) return;
    var mine = bubble("user", "");
    mine.appendChild(el("img", { src: URL.createObjectURL(file), alt: "Your photo", class: "sa-thumb" }));
    status.textContent = "Looking for similar products…";
    busy(true);
    ensureConversation().then(function (id) {
      var body = new FormData();
      body.append("image", file, file.name || "photo");
      return fetch(conversationUrl(id, "/photo"), { method: "POST", headers: headers(), body: body });
    }).then(function (r) { return r.ok ? r.json() : readErrorThen(r); })
      .then(showReply)
      .catch(function (e) { error(e.message); })
      .then(function () { status.textContent = ""; busy(false); });
  });

  // Voice: microphone PCM16 over a WebSocket; the server finds the end of the turn and answers.
  var WORKLET = "class Tap extends AudioWorkletProcessor{constructor(){super();this.b=new Int16Array(2048);this.n=0}" +
    "process(i){var c=i[0]&&i[0][0];if(!c)return true;for(var k=0;k<c.length;k++){var s=Math.max(-1,Math.min(1,c[k]));" +
    "this.b[this.n++]=s<0?s*32768:s*32767;if(this.n===this.b.length){this.port.postMessage(this.b.buffer,[this.b.buffer]);" +
    "this.b=new Int16Array(2048);this.n=0}}return true}}registerProcessor('shopagent-pcm',Tap);";
  var voice = null;

  function stopCapture() {
    if (!voice || !voice.capture) return;
    voice.capture.stream.getTracks().forEach(function (t) { t.stop(); });
    voice.capture.context.close();
    voice.capture = null;
    mic.setAttribute("aria-pressed", "false");
    status.textContent = "";
  }
  function endVoice() {
    if (!voice) return;
    stopCapture();
    if (voice.socket.readyState === WebSocket.OPEN) voice.socket.send(JSON.stringify({ type: "end" }));
  }
  function startVoice() {
    if (!navigator.mediaDevices || !window.AudioWorkletNode) { error("Voice input is not supported in this browser."); return; }
    var session = { state: {}, audioNext: false, capture: null };
    voice = session;
    mic.setAttribute("aria-pressed", "true");
    status.textContent = "Starting the microphone…";
    Promise.all([ensureConversation(), navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } })])
      .then(function (both) {
        var context = new AudioContext();
        session.capture = { stream: both[1], context: context };
        var moduleUrl = URL.createObjectURL(new Blob([WORKLET], { type: "text/javascript" }));
        return context.audioWorklet.addModule(moduleUrl).then(function () {
          var query = "?rate=" + context.sampleRate + "&speak=true" + (key ? "&key=" + encodeURIComponent(key) : "");
          var socket = new WebSocket(conversationUrl(both[0], "/voice/stream").replace(/^http/, "ws") + query);
          socket.binaryType = "arraybuffer";
          session.socket = socket;
          socket.onmessage = function (m) { onVoiceMessage(session, m.data); };
          socket.onclose = function () { stopCapture(); if (voice === session) voice = null; };
          socket.onerror = function () { error("The voice connection failed."); };
          socket.onopen = function () {
            var source = context.createMediaStreamSource(both[1]);
            var tap = new AudioWorkletNode(context, "shopagent-pcm");
            tap.port.onmessage = function (e) { if (socket.readyState === WebSocket.OPEN) socket.send(e.data); };
            source.connect(tap);
            status.textContent = "Listening… speak now";
          };
        });
      })
      .catch(function (e) { stopCapture(); voice = null; error(e && e.name === "NotAllowedError" ? "Microphone access was denied." : (e.message || "Voice input failed.")); });
  }
  function onVoiceMessage(session, data) {
    if (data instanceof ArrayBuffer) {  // the spoken reply announced by an "audio" event
      var url = URL.createObjectURL(new Blob([data], { type: "audio/wav" }));
      var player = el("audio", { controls: "", src: url, class: "sa-audio", "aria-label": "Spoken reply" });
      (session.state.bot || log).appendChild(player);
      player.play().catch(function () {});
      return;
    }
    var event = JSON.parse(data);
    if (event.type === "audio") return;
    handle(event.type, event.data, session.state);
    if (event.type === "transcript") { status.textContent = "Thinking…"; busy(true); }
    if (event.type === "done" || event.type === "error") busy(false);
    if (event.type === "done") endVoice();  // one spoken turn per press; the reply must not hear itself
  }
  mic.addEventListener("click", function () { if (voice) endVoice(); else startVoice(); });

  window.shopagent = { open: function () { setOpen(true); }, send: sendText };
})();
