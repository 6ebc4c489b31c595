// The transcript as an agent sees it: the customer's photo with its OCR text, the voice note with its
// transcript, and for each bot answer what was retrieved, the decision and why. Text is always textContent.

import { h, icon } from "./dom.js";
import { citationLabel, clockTime, fullTime, milliseconds, reasonLabel } from "./format.js";

const DECISIONS = {
  answer: ["Answered", "badge-success"],
  clarify: ["Asked to clarify", "badge-info"],
  escalate: ["Escalated", "badge-warning"],
  handoff: ["Handed off", "badge-warning"],
};

/** One message of the transcript. `onRate(message, rating, reason)` saves the agent's rating of a bot answer. */
export function transcriptItem(message, { myKeyId, onRate }) {
  if (message.role === "system") {
    return h("li", { class: "t-msg t-system", dataset: { id: message.id } }, h("p", { text: message.text }));
  }
  const author =
    message.role === "customer"
      ? "Customer"
      : message.role === "bot"
        ? "Assistant"
        : message.author_key_id === myKeyId
          ? "You"
          : "Agent";
  const head = h(
    "div",
    { class: "t-head" },
    h("span", { class: "t-author" }, author),
    h("time", { class: "t-time", datetime: message.created_at || "", title: fullTime(message.created_at) }, clockTime(message.created_at)),
    message.role === "bot" ? decisionBadges(message) : null,
  );
  const body = h("div", { class: "t-body" });
  if (message.image_url) body.append(photo(message));
  if (message.audio_url) body.append(voice(message));
  if (message.text) body.append(h("p", { class: "t-text", text: message.text }));
  if (message.role === "bot") {
    if (message.citations && message.citations.length) body.append(citations(message));
    body.append(retrieval(message));
  }
  const item = h("li", { class: `t-msg t-${message.role}`, dataset: { id: message.id } }, head, body);
  if (message.role === "bot" && onRate) item.append(ratingForm(message, onRate));
  return item;
}

function decisionBadges(message) {
  const [label, tone] = DECISIONS[message.decision] || [message.decision || "", "badge"];
  const parts = [h("span", { class: `badge ${tone}` }, label)];
  if (message.escalation_reason) parts.push(h("span", { class: "badge badge-warning" }, reasonLabel(message.escalation_reason)));
  if (message.confidence !== null && message.confidence !== undefined) {
    parts.push(h("span", { class: "t-confidence", title: "Answerability score from the retrieved evidence" }, `confidence ${Number(message.confidence).toFixed(2)}`));
  }
  return h("span", { class: "t-badges" }, parts);
}

function photo(message) {
  const figure = h(
    "figure",
    { class: "t-photo" },
    h("a", { href: message.image_url, target: "_blank", rel: "noopener" }, h("img", { src: message.image_url, alt: "Photo the customer sent" })),
  );
  const caption = h("figcaption", {});
  if (message.ocr_text) {
    caption.append(h("span", { class: "t-label" }, "Text in the photo (OCR)"), h("p", { class: "t-ocr", text: message.ocr_text }));
  } else {
    caption.append(h("span", { class: "t-label muted" }, "No text found in the photo"));
  }
  if (message.visual_tags && message.visual_tags.length) {
    const tags = message.visual_tags.map((t) => (typeof t === "string" ? t : t.label || t.tag || JSON.stringify(t)));
    caption.append(h("p", { class: "t-tags muted" }, `Looks like: ${tags.slice(0, 5).join(", ")}`));
  }
  figure.append(caption);
  return figure;
}

function voice(message) {
  const language = message.transcript_language ? ` (${message.transcript_language})` : "";
  return h(
    "div",
    { class: "t-voice" },
    h("audio", { controls: true, preload: "metadata", src: message.audio_url, "aria-label": "Voice note from the customer" }),
    h("span", { class: "t-label" }, `Transcript${language}`),
    h("p", { class: "t-transcript", text: message.transcript || "(no speech recognised)" }),
  );
}

function citations(message) {
  return h(
    "div",
    { class: "t-citations" },
    h("span", { class: "t-label" }, "Cited"),
    h(
      "ul",
      {},
      message.citations.map((c, i) => h("li", {}, h("span", { class: "source-index", "aria-hidden": "true" }, String(i + 1)), icon("doc"), h("span", { text: citationLabel(c) }))),
    ),
  );
}

/** What the bot looked at: the query it ran and the retrieved passages with scores, cited ones marked. */
function retrieval(message) {
  const retrieved = message.retrieved || [];
  const cited = new Set((message.citations || []).map((c) => c.chunk_id));
  const details = h(
    "details",
    { class: "t-retrieval" },
    h("summary", {}, `What the bot retrieved (${retrieved.length})`),
  );
  const facts = h("dl", { class: "t-facts" });
  const add = (term, value) => value && facts.append(h("dt", {}, term), h("dd", { text: value }));
  add("Query", message.query);
  add("Decision", (DECISIONS[message.decision] || [message.decision])[0]);
  add("Why it escalated", message.escalation_reason ? reasonLabel(message.escalation_reason) : "");
  add("Evidence", message.decision_detail);
  add("Confidence", message.confidence !== null && message.confidence !== undefined ? Number(message.confidence).toFixed(3) : "");
  add("Answer time", message.timings_ms && message.timings_ms.total ? milliseconds(message.timings_ms.total) : "");
  if (message.entities && message.entities.length) {
    add("Entities", message.entities.map((e) => `${e.type}: ${e.value}`).join(", "));
  }
  details.append(facts);
  if (!retrieved.length) {
    details.append(h("p", { class: "muted t-none" }, "Nothing was retrieved for this turn."));
    return details;
  }
  const rows = retrieved.map((hit, index) =>
    h(
      "tr",
      { class: cited.has(hit.chunk_id) ? "is-cited" : "" },
      h("td", { class: "num" }, String(index + 1)),
      h("td", { class: "num" }, Number(hit.score).toFixed(4)),
      h(
        "td",
        {},
        h("span", { class: "t-source" }, citationLabel(hit)),
        cited.has(hit.chunk_id) ? h("span", { class: "badge badge-success" }, "cited") : null,
        hit.ranks ? h("span", { class: "t-ranks muted" }, Object.entries(hit.ranks).map(([k, v]) => `${k} #${v}`).join(" · ")) : null,
      ),
      h("td", { class: "t-snippet", text: hit.snippet || "" }),
    ),
  );
  details.append(
    h(
      "table",
      { class: "t-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, "Score"), h("th", { scope: "col" }, "Source"), h("th", { scope: "col" }, "Passage"))),
      h("tbody", {}, rows),
    ),
  );
  return details;
}

function ratingForm(message, onRate) {
  const reasonId = `rate-reason-${message.id}`;
  const reason = h("input", { id: reasonId, type: "text", class: "t-rate-reason", maxlength: "2000", placeholder: "Why? (e.g. wrong product, outdated)" });
  const note = h("span", { class: "t-rate-note", role: "status" });
  const make = (rating, label, name) => {
    const button = h("button", { type: "button", class: "thumb", "aria-pressed": "false", "aria-label": label, dataset: { rating } }, icon(name));
    button.addEventListener("click", () => onRate(message, rating, reason.value, { up, down, note }));
    return button;
  };
  const up = make("up", "Rate this answer good", "up");
  const down = make("down", "Rate this answer bad", "down");
  return h(
    "div",
    { class: "t-rate", role: "group", "aria-label": "Rate this bot answer" },
    h("span", { class: "t-label" }, "Rate this answer"),
    up,
    down,
    h("label", { class: "visually-hidden", for: reasonId }, "Reason for the rating"),
    reason,
    note,
  );
}
