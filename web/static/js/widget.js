// The customer chat widget: /widget?key=<widget key> (framed by embed.js on other sites, or opened directly).
// The conversation id and its token live in sessionStorage, so a reload continues the same conversation.

import { ApiError, follow, request } from "./api.js";
import { h, icon, replaceChildren } from "./dom.js";
import { Attachments } from "./widget-attachments.js";
import { messageItem, pendingItem, typingItem } from "./widget-render.js";

const params = new URLSearchParams(window.location.search);
const widgetKey = params.get("key") || "";
const embedded = params.get("embed") === "1";
const storageKey = `bindesk.conversation.${widgetKey.slice(-12)}`;

const STATUS_TEXT = {
  bot: "Assistant · replies in seconds",
  escalated: "Waiting for a person — we will reply here",
  claimed: "You are chatting with a person",
  resolved: "Resolved · write again if you need more help",
};

const $ = (id) => document.getElementById(id);
const el = {
  log: $("log"),
  form: $("composer"),
  text: $("text"),
  send: $("send"),
  error: $("error"),
  attachments: $("attachments"),
  status: $("chat-status"),
  handoff: $("handoff"),
  close: $("close"),
  photoButton: $("photo-button"),
  photoInput: $("photo-input"),
  audioButton: $("audio-button"),
  audioInput: $("audio-input"),
  recordButton: $("record-button"),
  recordTime: $("record-time"),
  announcer: $("announcer"),
};

const state = {
  conversation: null, // {id, token}
  status: "bot",
  rendered: new Set(),
  stream: null,
  sending: false,
  attachments: null, // Attachments, made at start
};

// ---- conversation ----------------------------------------------------------------------------------------

function saved() {
  try {
    const value = JSON.parse(window.sessionStorage.getItem(storageKey) || "null");
    return value && value.id && value.token ? value : null;
  } catch {
    return null;
  }
}

async function ensureConversation() {
  if (state.conversation) return state.conversation;
  const created = await request("/v1/conversations", { method: "POST", token: widgetKey });
  state.conversation = { id: created.id, token: created.token };
  window.sessionStorage.setItem(storageKey, JSON.stringify(state.conversation));
  openStream();
  return state.conversation;
}

function openStream() {
  const { id, token } = state.conversation;
  if (state.stream) state.stream.close();
  state.stream = follow(
    `/v1/conversations/${encodeURIComponent(id)}/events?token=${encodeURIComponent(token)}`,
    {
      message: (event) => event.message && addMessage(event.message, { live: true }),
      delta: (event) => showDelta(event.text),
      status: (event) => setStatus(event.status),
    },
    { onOpen: () => sync().catch(() => {}) }, // catch up on anything sent while we were not connected
  );
}

/** Read the whole conversation and show what is not on screen yet. */
async function sync() {
  if (!state.conversation) return;
  const { id, token } = state.conversation;
  const view = await request(`/v1/conversations/${encodeURIComponent(id)}`, { token });
  setStatus(view.status);
  for (const message of view.messages) addMessage(message);
}

function media(url) {
  const separator = url.includes("?") ? "&" : "?";
  return `${url}${separator}token=${encodeURIComponent(state.conversation ? state.conversation.token : "")}`;
}

function addMessage(message, { live = false } = {}) {
  if (!message || !message.id || state.rendered.has(message.id)) return;
  state.rendered.add(message.id);
  const item = messageItem(message, { media, onRate: rate });
  if (live && message.role === "agent" && (state.status === "bot" || state.status === "escalated")) {
    setStatus("claimed"); // a person wrote: they have the conversation, whether or not a status event came
  }
  if (message.role === "bot") {
    const streamed = el.log.querySelector(".msg-typing.is-streaming");
    if (streamed) streamed.remove(); // the whole answer, with its sources, replaces the streamed text
  }
  const pending = message.role === "customer" ? el.log.querySelector("[data-pending]") : null;
  if (pending) {
    pending.replaceWith(item);
  } else {
    const typing = el.log.querySelector(".msg-typing");
    el.log.insertBefore(item, typing);
  }
  scrollToEnd();
}

/** Answer text as the generator streams it, shown in the typing bubble until the full message arrives. */
function showDelta(text) {
  const typing = el.log.querySelector(".msg-typing");
  if (!typing || !text) return;
  const streamed = (typing.dataset.streamed || "") + text;
  typing.dataset.streamed = streamed;
  typing.classList.add("is-streaming");
  typing.setAttribute("aria-hidden", "true"); // screen readers hear the finished answer once, not every chunk
  replaceChildren(typing.querySelector(".bubble"), h("p", { class: "msg-text", text: streamed }));
  scrollToEnd();
}

function scrollToEnd() {
  el.log.scrollTop = el.log.scrollHeight;
}

function setStatus(status) {
  if (!status) return;
  state.status = status;
  el.status.textContent = STATUS_TEXT[status] || STATUS_TEXT.bot;
  const withPerson = status === "escalated" || status === "claimed";
  el.handoff.disabled = withPerson;
  el.handoff.textContent = withPerson ? (status === "claimed" ? "Person connected" : "Person requested") : "Talk to a person";
  document.body.dataset.status = status;
}

// ---- sending ---------------------------------------------------------------------------------------------

async function send(event) {
  event.preventDefault();
  if (state.sending) return;
  const text = el.text.value.trim();
  const { photo, audio } = await state.attachments.take();
  if (!text && !photo && !audio) {
    showError("Type a message, or attach a photo or a voice note.");
    el.text.focus();
    return;
  }
  showError("");
  state.sending = true;
  el.send.disabled = true;
  const pending = pendingItem({ text, imageUrl: photo && photo.url, audioUrl: audio && audio.url, audioName: audio && audio.filename });
  el.log.append(pending);
  const typing = state.status === "bot" || state.status === "resolved" ? typingItem() : null;
  if (typing) el.log.append(typing);
  scrollToEnd();
  el.text.value = "";
  autosize();
  try {
    const { id, token } = await ensureConversation();
    const form = new FormData();
    if (text) form.append("text", text);
    if (photo) form.append("image", photo.blob, photo.filename);
    if (audio) form.append("audio", audio.blob, audio.filename);
    await request(`/v1/conversations/${encodeURIComponent(id)}/messages`, { method: "POST", form, token });
    await sync();
    Attachments.release({ photo, audio });
  } catch (error) {
    pending.remove();
    el.text.value = text;
    autosize();
    state.attachments.restore({ photo, audio });
    showError(describe(error));
  } finally {
    if (typing) typing.remove();
    state.sending = false;
    el.send.disabled = false;
  }
}

function describe(error) {
  if (error instanceof ApiError) {
    if (error.status === 404) return "This conversation has ended. Reload the page to start a new one.";
    return error.message;
  }
  return error && error.message ? error.message : "Something went wrong. Please try again.";
}

function showError(message) {
  el.error.textContent = message;
  el.error.hidden = !message;
}

async function handoff() {
  el.handoff.disabled = true;
  try {
    const { id, token } = await ensureConversation();
    const result = await request(`/v1/conversations/${encodeURIComponent(id)}/handoff`, { method: "POST", token });
    setStatus(result.status);
    await sync();
    announce("A person has been asked to join. They will reply in this chat.");
  } catch (error) {
    el.handoff.disabled = false;
    showError(describe(error));
  }
}

async function rate(message, rating, buttons) {
  const { token } = state.conversation;
  try {
    await request(`/v1/messages/${encodeURIComponent(message.id)}/feedback`, { method: "POST", json: { rating }, token });
    buttons.up.setAttribute("aria-pressed", String(rating === "up"));
    buttons.down.setAttribute("aria-pressed", String(rating === "down"));
    buttons.note.textContent = "Thanks for the feedback";
  } catch (error) {
    buttons.note.textContent = describe(error);
  }
}

function announce(text) {
  el.announcer.textContent = "";
  window.setTimeout(() => (el.announcer.textContent = text), 50);
}

// ---- set-up ----------------------------------------------------------------------------------------------

function autosize() {
  el.text.style.height = "auto";
  el.text.style.height = `${Math.min(el.text.scrollHeight, 140)}px`;
}

function decorate() {
  el.send.append(icon("send"));
  el.close.append(icon("close"));
  el.photoButton.prepend(icon("camera"));
  el.recordButton.prepend(icon("mic"));
  el.audioButton.prepend(icon("audio"));
  // The last child of each tool button is its text, which the recorder rewrites ("Stop recording").
  for (const button of [el.photoButton, el.recordButton, el.audioButton]) {
    const text = button.lastChild;
    if (text.nodeType === Node.TEXT_NODE) button.replaceChild(h("span", {}, text.textContent), text);
  }
}

function closeEmbedded() {
  window.parent.postMessage({ type: "bindesk:close" }, "*");
}

async function start() {
  decorate();
  if (!widgetKey) {
    showError("This chat is not set up: the page address needs ?key= with a widget key.");
    el.send.disabled = true;
    return;
  }
  if (embedded) {
    el.close.hidden = false;
    el.close.addEventListener("click", closeEmbedded);
    document.addEventListener("keydown", (event) => event.key === "Escape" && closeEmbedded());
  }
  el.form.addEventListener("submit", send);
  el.text.addEventListener("input", autosize);
  el.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.form.requestSubmit();
    }
  });
  el.handoff.addEventListener("click", handoff);
  state.attachments = new Attachments(el, {
    onError: (error) => showError(typeof error === "string" ? error : describe(error)),
    announce,
  });
  window.addEventListener("pagehide", () => state.stream && state.stream.close());

  state.conversation = saved();
  if (state.conversation) {
    try {
      await sync();
      openStream();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        window.sessionStorage.removeItem(storageKey); // expired or deleted: the next message starts afresh
        state.conversation = null;
      } else {
        showError(describe(error));
      }
    }
  }
  document.body.dataset.ready = "true";
}

start();
