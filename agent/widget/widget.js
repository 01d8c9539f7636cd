/* shopagent chat widget: embed with one tag
 *   <script src="https://your-shopagent/widget.js" defer></script>
 * Everything the server sends is inserted as text (textContent), never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  var key = script && script.dataset.shopagentKey;
  var conversationId = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function headers(extra) {
    var h = Object.assign({}, extra || {});
    if (key) h["X-Shopagent-Key"] = key;
    return h;
  }

  var css = el("link", { rel: "stylesheet", href: base + "/widget.css" });
  document.head.appendChild(css);
  var launcher = el("button", { class: "sa-launcher", "aria-expanded": "false", "aria-controls": "sa-panel" }, "Chat with us");
  var panel = el("section", { id: "sa-panel", class: "sa-panel", role: "dialog", "aria-label": "Shop assistant", hidden: "" });
  var log = el("div", { class: "sa-log", role: "log", "aria-live": "polite" });
  var chips = el("div", { class: "sa-chips" });
  var form = el("form", { class: "sa-form" });
  var input = el("input", { type: "text", class: "sa-input", "aria-label": "Your message", placeholder: "Type your message", maxlength: "4000", autocomplete: "off" });
  var send = el("button", { type: "submit", class: "sa-send", "aria-label": "Send" }, "Send");
  var mic = el("button", { type: "button", class: "sa-mic", "aria-label": "Speak your message", "aria-pressed": "false" }, "🎤");
  form.append(input, mic, send);
  panel.append(log, chips, form);
  document.body.append(launcher, panel);

  launcher.addEventListener("click", function () {
    var open = panel.hasAttribute("hidden");
    if (open) panel.removeAttribute("hidden"); else panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { input.focus(); ensureConversation(); }
  });

  function bubble(role, text) {
    var b = el("div", { class: "sa-msg sa-" + role }, text);
    log.appendChild(b);
    log.scrollTop = log.scrollHeight;
    return b;
  }
  function card(c) {
    var node = el("article", { class: "sa-card" });
    if (c.image_url) node.appendChild(el("img", { src: c.image_url, alt: c.name, loading: "lazy" }));
    node.appendChild(el("h3", {}, c.name));
    node.appendChild(el("p", { class: "sa-variant" }, c.variant));
    node.appendChild(el("p", { class: "sa-price" }, c.price));
    if (c.reason) node.appendChild(el("p", { class: "sa-reason" }, c.reason));
    log.appendChild(node);
  }
  function showChips(awaiting) {
    chips.textContent = "";
    if (awaiting !== "confirmation") return;
    ["Yes", "No"].forEach(function (label) {
      var chip = el("button", { type: "button", class: "sa-chip" }, label);
      chip.addEventListener("click", function () { chips.textContent = ""; sendText(label.toLowerCase()); });
      chips.appendChild(chip);
    });
  }
  function error(message) { bubble("error", message); }

  function ensureConversation() {
    if (conversationId) return Promise.resolve(conversationId);
    conversationId = sessionStorage.getItem("shopagent.conversation");
    if (conversationId) return Promise.resolve(conversationId);
    return fetch(base + "/v1/conversations", { method: "POST", headers: headers() })
      .then(function (r) { if (!r.ok) throw new Error("could not start a conversation"); return r.json(); })
      .then(function (body) { conversationId = body.conversation_id; sessionStorage.setItem("shopagent.conversation", conversationId); return conversationId; });
  }

  function handle(kind, data, state) {
    if (kind === "transcript") bubble("user", data);
    else if (kind === "text_delta") { state.bot = state.bot || bubble("bot", ""); state.bot.textContent += data; }
    else if (kind === "text_reset") { state.bot = state.bot || bubble("bot", ""); state.bot.textContent = data; }
    else if (kind === "card") card(data);
    else if (kind === "awaiting") showChips(data);
    else if (kind === "handoff") bubble("system", "A human colleague will take over this conversation.");
    log.scrollTop = log.scrollHeight;
  }

  function readErrorThen(r) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      throw new Error(body.reason || body.detail || ("request failed (" + r.status + ")"));
    });
  }

  function sendText(text) {
    text = text.trim();
    if (!text) return;
    bubble("user", text);
    input.value = "";
    var state = {};
    ensureConversation().then(function (id) {
      return fetch(base + "/v1/conversations/" + encodeURIComponent(id) + "/messages", {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream", "Idempotency-Key": crypto.randomUUID() }),
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
    }).catch(function (e) { error(e.message); });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); sendText(input.value); });

  var recorder = null;
  mic.addEventListener("click", function () {
    if (recorder) { recorder.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) { error("Voice input is not supported in this browser."); return; }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (e) { if (e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        recorder = null;
        mic.setAttribute("aria-pressed", "false");
        sendVoice(new Blob(chunks, { type: chunks.length ? chunks[0].type : "audio/webm" }));
      };
      recorder.start();
      mic.setAttribute("aria-pressed", "true");
    }).catch(function () { error("Microphone access was denied."); });
  });

  function sendVoice(blob) {
    ensureConversation().then(function (id) {
      var body = new FormData();
      body.append("audio", blob, "speech.webm");
      body.append("speak", "true");
      return fetch(base + "/v1/conversations/" + encodeURIComponent(id) + "/voice", { method: "POST", headers: headers(), body: body });
    }).then(function (r) {
      if (!r.ok) return readErrorThen(r);
      return r.json().then(function (reply) {
        var state = {};
        if (reply.transcript) handle("transcript", reply.transcript, state);
        handle("text_reset", reply.text, state);
        (reply.cards || []).forEach(card);
        showChips(reply.awaiting);
        if (reply.audio_wav_base64) new Audio("data:audio/wav;base64," + reply.audio_wav_base64).play().catch(function () {});
      });
    }).catch(function (e) { error(e.message); });
  }

  window.shopagent = { open: function () { if (panel.hasAttribute("hidden")) launcher.click(); }, send: sendText };
})();
