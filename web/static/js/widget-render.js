// How the customer sees each message. Text is set as text, never parsed as HTML.

import { h, icon } from "./dom.js";
import { citationLabel, clockTime } from "./format.js";

const WHO = { customer: "You", bot: "Assistant", agent: "Support agent", system: "" };

/**
 * One message as a list item. `media(url)` turns a media path into one the customer may load (adds the
 * token); `onRate(message, rating, buttons)` is called when a thumb is pressed.
 */
export function messageItem(message, { media, onRate }) {
  const role = message.role in WHO ? message.role : "system";
  if (role === "system") {
    return h("li", { class: "msg msg-system", dataset: { id: message.id } }, h("p", { text: message.text }));
  }
  const photo = message.image_url
    ? h("img", { class: "msg-photo", src: media(message.image_url), alt: "Photo you sent", loading: "lazy" })
    : null;
  const bubble = h("div", { class: "bubble" });
  if (message.audio_url) {
    bubble.append(h("audio", { class: "msg-audio", controls: true, preload: "metadata", src: media(message.audio_url), "aria-label": "Voice note" }));
  }
  if (message.text) bubble.append(h("p", { class: "msg-text", text: message.text }));
  if (message.transcript) {
    bubble.append(h("p", { class: "msg-transcript" }, h("span", { class: "label" }, "Voice note: "), message.transcript));
  }
  if (role === "bot" && message.citations && message.citations.length) {
    bubble.append(sources(message, media));
  }
  const author = role === "agent" ? message.author || WHO.agent : WHO[role];
  const item = h(
    "li",
    { class: `msg msg-${role}`, dataset: { id: message.id } },
    h("span", { class: "visually-hidden" }, `${author} said:`),
    photo,
    bubble.childNodes.length ? bubble : null,
  );
  if (role === "bot" && message.decision === "answer" && onRate) item.append(rating(message, onRate));
  item.append(h("p", { class: "msg-meta", "aria-hidden": "true" }, [author, clockTime(message.created_at)].filter(Boolean).join(" · ")));
  return item;
}

/** The citations of an answer: each names its document and page and opens to the quoted passage. */
function sources(message, media) {
  const list = h("ul", { class: "sources-list" });
  message.citations.forEach((citation, index) => {
    const label = citationLabel(citation);
    const panel = h("div", { class: "source-panel" });
    if (citation.snippet) panel.append(h("blockquote", { class: "source-snippet", text: citation.snippet }));
    if (citation.url) {
      panel.append(
        h("a", { class: "source-open", href: media(citation.url), target: "_blank", rel: "noopener noreferrer" }, `Open ${citation.source || "the document"}`),
      );
    }
    list.append(
      h(
        "li",
        {},
        h(
          "details",
          { class: "source" },
          h("summary", { class: "source-link" }, h("span", { class: "source-index", "aria-hidden": "true" }, String(index + 1)), icon("doc"), h("span", { text: label })),
          panel,
        ),
      ),
    );
  });
  return h("div", { class: "sources" }, h("p", { class: "sources-label" }, "Sources"), list);
}

function rating(message, onRate) {
  const up = h("button", { class: "thumb", type: "button", "aria-pressed": "false", "aria-label": "Helpful" }, icon("up"));
  const down = h("button", { class: "thumb", type: "button", "aria-pressed": "false", "aria-label": "Not helpful" }, icon("down"));
  const note = h("span", { class: "rating-note", role: "status" });
  const buttons = { up, down, note };
  up.addEventListener("click", () => onRate(message, "up", buttons));
  down.addEventListener("click", () => onRate(message, "down", buttons));
  return h("div", { class: "rating", role: "group", "aria-label": "Was this answer helpful?" }, h("span", { class: "rating-label", "aria-hidden": "true" }, "Helpful?"), up, down, note);
}

/** A customer message shown at once, before the server has it (replaced when it comes back). */
export function pendingItem({ text, imageUrl, audioUrl, audioName }) {
  const photo = imageUrl ? h("img", { class: "msg-photo", src: imageUrl, alt: "Photo you are sending" }) : null;
  const bubble = h("div", { class: "bubble" });
  if (audioUrl) bubble.append(h("audio", { class: "msg-audio", controls: true, src: audioUrl, "aria-label": audioName || "Voice note" }));
  if (text) bubble.append(h("p", { class: "msg-text", text }));
  return h(
    "li",
    { class: "msg msg-customer is-pending", dataset: { pending: "1" } },
    h("span", { class: "visually-hidden" }, "You said:"),
    photo,
    bubble.childNodes.length ? bubble : null,
    h("p", { class: "msg-meta", "aria-hidden": "true" }, "Sending…"),
  );
}

export function typingItem() {
  return h(
    "li",
    { class: "msg msg-bot msg-typing", "aria-label": "The assistant is writing" },
    h("div", { class: "bubble" }, h("span", { class: "dot" }), h("span", { class: "dot" }), h("span", { class: "dot" })),
  );
}
