// The agent inbox (/agent): escalated conversations newest first, filters, live updates, and the open
// conversation with its actions (claim, reply, resolve, rate, save as knowledge).

import { follow } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { REASON_KEYS, reasonLabel, statusLabel, timeAgo } from "./format.js";
import { openConversation } from "./agent-conversation.js";
import { setLive, startSession, toast } from "./staff.js";

const el = {
  items: document.getElementById("items"),
  count: document.getElementById("inbox-count"),
  segments: Array.from(document.querySelectorAll(".segment")),
  reason: document.getElementById("reason-filter"),
  detail: document.getElementById("detail"),
};

const state = { session: null, view: "open", reason: "", items: [], selected: null, conversation: null };

async function loadInbox() {
  const query = new URLSearchParams({ status: state.view });
  if (state.reason) query.set("reason", state.reason);
  try {
    const result = await state.session.api(`/v1/agent/inbox?${query}`);
    state.items = result.items;
    renderItems();
  } catch (error) {
    replaceChildren(el.items, h("li", { class: "empty" }, error.message));
  }
}

function renderItems() {
  el.count.textContent = String(state.items.length);
  if (!state.items.length) {
    const empty = { open: "Nothing waiting. Escalations appear here as they happen.", mine: "You have no claimed conversations.", resolved: "No resolved conversations yet." };
    replaceChildren(el.items, h("li", { class: "empty" }, empty[state.view]));
    return;
  }
  replaceChildren(el.items, state.items.map(itemRow));
}

function itemRow(item) {
  const last = item.last_message;
  const who = last ? { customer: "Customer", bot: "Assistant", agent: "Agent", system: "" }[last.role] || "" : "";
  const preview = last ? last.text || last.transcript || (last.image_url ? "Photo" : last.audio_url ? "Voice note" : "") : "";
  const ownership = item.status === "resolved" ? "Resolved" : item.assigned_to_me ? "Claimed by you" : item.claimed ? "Claimed" : "Waiting";
  const tone = item.status === "resolved" ? "badge-success" : item.assigned_to_me ? "badge-accent" : item.claimed ? "badge" : "badge-warning";
  const button = h(
    "button",
    {
      type: "button",
      class: "item",
      dataset: { id: item.id },
      "aria-current": item.id === state.selected ? "true" : null,
      onclick: () => select(item.id),
    },
    h(
      "span",
      { class: "item-top" },
      h("span", { class: "item-reason" }, reasonLabel(item.escalation_reason) || statusLabel(item.status)),
      h("time", { class: "item-time", datetime: item.escalated_at || "" }, timeAgo(item.escalated_at)),
    ),
    h("span", { class: "item-preview" }, who ? h("span", { class: "item-who" }, `${who}: `) : null, preview),
    h("span", { class: "item-bottom" }, h("span", { class: `badge ${tone}` }, ownership), h("span", { class: "item-count muted" }, `${item.message_count} messages`)),
  );
  return h("li", {}, button);
}

async function select(id, { focus = true } = {}) {
  state.selected = id;
  for (const button of el.items.querySelectorAll(".item")) {
    if (button.dataset.id === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
  if (state.conversation) state.conversation.close();
  state.conversation = await openConversation(el.detail, id, {
    session: state.session,
    onChanged: loadInbox,
  });
  if (focus) el.detail.focus();
}

function setView(view) {
  state.view = view;
  for (const segment of el.segments) segment.setAttribute("aria-pressed", String(segment.dataset.view === view));
  loadInbox();
}

function listKeys(event) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const buttons = Array.from(el.items.querySelectorAll(".item"));
  const index = buttons.indexOf(document.activeElement);
  if (index < 0) return;
  event.preventDefault();
  const next = buttons[Math.max(0, Math.min(buttons.length - 1, index + (event.key === "ArrowDown" ? 1 : -1)))];
  next.focus();
}

function followInbox() {
  follow(
    "/v1/agent/events",
    {
      escalated: () => {
        loadInbox();
        toast("A new conversation needs a person.", "info");
      },
      changed: (event) => {
        loadInbox();
        if (state.conversation && event.conversation_id === state.selected) state.conversation.refresh();
      },
    },
    {
      onOpen: () => {
        setLive(true);
        loadInbox();
      },
      onDown: () => setLive(false),
    },
  );
}

async function start() {
  try {
    state.session = await startSession("agent");
  } catch {
    return; // not signed in (redirected to /login) or the wrong role (the page says so)
  }
  for (const reason of REASON_KEYS) el.reason.append(h("option", { value: reason }, reasonLabel(reason)));
  for (const segment of el.segments) segment.addEventListener("click", () => setView(segment.dataset.view));
  el.reason.addEventListener("change", () => {
    state.reason = el.reason.value;
    loadInbox();
  });
  el.items.addEventListener("keydown", listKeys);
  await loadInbox();
  followInbox();
  const wanted = new URLSearchParams(window.location.search).get("conversation");
  if (wanted) select(wanted, { focus: false });
  document.body.dataset.ready = "true";
}

start();
