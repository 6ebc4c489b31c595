// One conversation in the inbox: header with its state and actions, the live transcript, the reply box and
// the "save as knowledge" dialog. The agent's draft survives live updates (only new messages are appended).

import { follow } from "./api.js";
import { h, icon, replaceChildren } from "./dom.js";
import { fullTime, reasonLabel, shortId, statusLabel, timeAgo } from "./format.js";
import { transcriptItem } from "./agent-transcript.js";
import { toast } from "./staff.js";

/** Show conversation `id` in `container`; returns {refresh(), close()}. */
export async function openConversation(container, id, { session, onChanged }) {
  const path = `/v1/conversations/${encodeURIComponent(id)}`;
  const rendered = new Set();
  let data = null;
  let timer = null;

  const header = h("div", { class: "detail-header" });
  const alert = h("p", { class: "form-error detail-error", role: "alert", hidden: true });
  const transcript = h("ol", { class: "transcript", role: "log", "aria-live": "polite", "aria-label": "Transcript" });
  const replyText = h("textarea", { id: "reply-text", rows: "3", maxlength: "8000", placeholder: "Write to the customer…" });
  const replyButton = h("button", { class: "btn btn-primary", type: "submit" }, icon("send"), "Send reply");
  const replyForm = h(
    "form",
    { class: "reply-form", novalidate: true },
    h("label", { class: "field-label", for: "reply-text" }, "Reply to the customer"),
    replyText,
    h("div", { class: "reply-actions" }, h("span", { class: "field-hint" }, "Ctrl+Enter sends. The customer sees it at once."), replyButton),
  );
  replaceChildren(container, header, alert, h("div", { class: "transcript-scroll" }, transcript), replyForm);

  const fail = (error) => {
    alert.textContent = error.message;
    alert.hidden = false;
  };
  const act = async (work) => {
    alert.hidden = true;
    try {
      await work();
      onChanged();
    } catch (error) {
      fail(error);
    }
  };

  async function refresh() {
    try {
      data = await session.api(path);
    } catch (error) {
      fail(error);
      return;
    }
    render();
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 120);
  }

  function render() {
    const mine = data.assigned_key_id === session.key_id;
    const takenByOther = data.status === "claimed" && !mine;
    const resolved = data.status === "resolved";
    const claim = h("button", { class: "btn btn-secondary", type: "button", disabled: mine || takenByOther || resolved, onclick: () => act(doClaim) }, mine ? "Claimed by you" : "Claim");
    const knowledge = h("button", { class: "btn btn-secondary", type: "button", onclick: () => openKnowledge() }, icon("book"), "Save as knowledge");
    const resolve = h("button", { class: "btn btn-primary", type: "button", disabled: resolved, onclick: () => act(doResolve) }, icon("check"), resolved ? "Resolved" : "Resolve");
    const tone = resolved ? "badge-success" : data.status === "claimed" ? "badge-accent" : "badge-warning";
    replaceChildren(
      header,
      h(
        "div",
        { class: "detail-title" },
        h("h2", {}, `Conversation ${shortId(data.id)}`),
        h(
          "p",
          { class: "detail-meta" },
          h("span", { class: `badge ${tone}` }, takenByOther ? "Claimed by another agent" : statusLabel(data.status)),
          data.escalation_reason ? h("span", { class: "badge badge-warning" }, reasonLabel(data.escalation_reason)) : null,
          h("span", { class: "muted", title: fullTime(data.created_at) }, `Started ${timeAgo(data.created_at)}`),
          data.reopened_count ? h("span", { class: "muted" }, `Reopened ${data.reopened_count}×`) : null,
        ),
      ),
      h("div", { class: "detail-actions" }, claim, knowledge, resolve),
    );
    for (const message of data.messages) {
      if (rendered.has(message.id)) continue;
      rendered.add(message.id);
      transcript.append(transcriptItem(message, { myKeyId: session.key_id, onRate: rate }));
    }
    transcript.parentElement.scrollTop = transcript.parentElement.scrollHeight;
    replyText.disabled = resolved;
    replyButton.disabled = resolved || takenByOther;
  }

  async function doClaim() {
    data = await session.api(`/v1/agent/conversations/${encodeURIComponent(id)}/claim`, { method: "POST" });
    render();
    toast("Claimed. The customer will see your replies live.", "success");
  }

  async function doResolve() {
    await session.api(`/v1/agent/conversations/${encodeURIComponent(id)}/resolve`, { method: "POST" });
    await refresh();
    toast("Resolved.", "success");
  }

  async function sendReply(event) {
    event.preventDefault();
    const text = replyText.value.trim();
    if (!text) {
      replyText.focus();
      return;
    }
    replyButton.disabled = true;
    await act(async () => {
      await session.api(`/v1/agent/conversations/${encodeURIComponent(id)}/reply`, { method: "POST", json: { text } });
      replyText.value = "";
      await refresh();
    });
    replyButton.disabled = false;
    replyText.focus();
  }

  async function rate(message, rating, reason, controls) {
    try {
      await session.api(`/v1/messages/${encodeURIComponent(message.id)}/feedback`, { method: "POST", json: { rating, reason } });
      controls.up.setAttribute("aria-pressed", String(rating === "up"));
      controls.down.setAttribute("aria-pressed", String(rating === "down"));
      controls.note.textContent = "Rating saved";
    } catch (error) {
      controls.note.textContent = error.message;
    }
  }

  function openKnowledge() {
    const suggestion = suggestKnowledge(data.messages);
    knowledgeDialog(id, session, suggestion);
  }

  replyForm.addEventListener("submit", sendReply);
  replyText.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) replyForm.requestSubmit();
  });

  await refresh();
  const stream = follow(`${path}/events`, { message: schedule, status: schedule }, { onOpen: schedule });
  return {
    refresh: schedule,
    close() {
      stream.close();
      window.clearTimeout(timer);
    },
  };
}

/**
 * The FAQ entry an agent most likely wants: the customer's question before a person joined (not the
 * "talk to a person" request itself) and the agent's replies as the answer.
 */
export function suggestKnowledge(messages) {
  const firstAgent = messages.findIndex((m) => m.role === "agent");
  const before = firstAgent < 0 ? messages : messages.slice(0, firstAgent);
  const questions = [];
  before.forEach((message, index) => {
    if (message.role !== "customer") return;
    const words = (message.text || message.transcript || message.ocr_text || "").trim();
    if (!words) return;
    const reply = before.slice(index + 1).find((m) => m.role === "bot");
    const askedForPerson = reply && reply.escalation_reason === "customer_asked_for_human";
    questions.push({ words, askedForPerson });
  });
  const substantive = questions.filter((q) => !q.askedForPerson);
  const question = (substantive.length ? substantive : questions).map((q) => q.words).pop() || "";
  const answer = messages
    .filter((m) => m.role === "agent")
    .map((m) => m.text.trim())
    .filter(Boolean)
    .join("\n\n");
  return { question, answer };
}

function knowledgeDialog(conversationId, session, suggestion) {
  const dialog = document.getElementById("knowledge-dialog");
  const form = document.getElementById("knowledge-form");
  const question = document.getElementById("knowledge-question");
  const answer = document.getElementById("knowledge-answer");
  const title = document.getElementById("knowledge-title-input");
  const error = document.getElementById("knowledge-error");
  const save = document.getElementById("knowledge-save");
  const cancel = document.getElementById("knowledge-cancel");
  question.value = suggestion.question;
  answer.value = suggestion.answer;
  title.value = "";
  error.hidden = true;

  const submit = async (event) => {
    event.preventDefault();
    if (question.value.trim().length < 3 || answer.value.trim().length < 3) {
      error.textContent = "Write both the question and the answer.";
      error.hidden = false;
      return;
    }
    save.disabled = true;
    try {
      const saved = await session.api(`/v1/agent/conversations/${encodeURIComponent(conversationId)}/knowledge`, {
        method: "POST",
        json: { question: question.value.trim(), answer: answer.value.trim(), title: title.value.trim() },
      });
      dialog.close();
      toast(`Saved as ${saved.filename}. It answers customers once it is indexed.`, "success");
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  };
  const close = () => dialog.close();
  form.addEventListener("submit", submit);
  cancel.addEventListener("click", close);
  dialog.addEventListener(
    "close",
    () => {
      form.removeEventListener("submit", submit);
      cancel.removeEventListener("click", close);
    },
    { once: true },
  );
  dialog.showModal();
  (question.value ? answer : question).focus();
}
