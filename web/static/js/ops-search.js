// The retrieval playground: a question (and/or a photo) -> POST /v1/kb/search -> the scored chunks.

import { h, icon, replaceChildren } from "./dom.js";
import { citationLabel } from "./format.js";
import { prepareImage } from "./media.js";

export function playground(session) {
  const el = {
    form: document.getElementById("search-form"),
    query: document.getElementById("search-query"),
    k: document.getElementById("search-k"),
    photoButton: document.getElementById("search-photo"),
    photoInput: document.getElementById("search-photo-input"),
    preview: document.getElementById("search-photo-preview"),
    submit: document.getElementById("search-submit"),
    error: document.getElementById("search-error"),
    results: document.getElementById("search-results"),
  };
  let photo = null;

  const showError = (message) => {
    el.error.textContent = message;
    el.error.hidden = !message;
  };

  function renderPhoto() {
    if (!photo) {
      el.preview.hidden = true;
      replaceChildren(el.preview);
      return;
    }
    const remove = h("button", { class: "btn btn-quiet btn-small", type: "button", "aria-label": "Remove the photo" }, icon("close"), "Remove");
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      photo = null;
      renderPhoto();
      el.photoButton.focus();
    });
    replaceChildren(el.preview, h("img", { src: photo.url, alt: "Photo to search with" }), h("span", { class: "muted" }, `${photo.width}×${photo.height}`), remove);
    el.preview.hidden = false;
  }

  async function search(event) {
    event.preventDefault();
    const query = el.query.value.trim();
    const k = Number(el.k.value);
    if (!query && !photo) {
      showError("Type a question or add a photo.");
      el.query.focus();
      return;
    }
    showError("");
    el.submit.disabled = true;
    const started = performance.now();
    try {
      let result;
      if (photo) {
        const form = new FormData();
        form.append("query", query);
        form.append("k", String(k));
        form.append("image", photo.blob, photo.filename);
        result = await session.api("/v1/kb/search", { method: "POST", form });
      } else {
        result = await session.api("/v1/kb/search", { method: "POST", json: { query, k } });
      }
      render(result, performance.now() - started);
    } catch (error) {
      showError(error.message);
    } finally {
      el.submit.disabled = false;
    }
  }

  function render(result, elapsed) {
    const hits = result.hits || [];
    const top = hits.length ? Math.max(...hits.map((hit) => Math.abs(hit.score))) || 1 : 1;
    const header = h("p", { class: "results-summary muted" }, `${hits.length} ${hits.length === 1 ? "chunk" : "chunks"} in ${Math.round(elapsed)} ms, best first.`);
    const ocr = result.ocr_text ? h("p", { class: "results-ocr" }, h("span", { class: "t-label" }, "Text read from the photo: "), result.ocr_text) : null;
    if (!hits.length) {
      replaceChildren(el.results, header, ocr, h("p", { class: "empty" }, "Nothing in the knowledge base matches. The bot would escalate this question."));
      return;
    }
    const list = h(
      "ol",
      { class: "hits" },
      hits.map((hit, index) =>
        h(
          "li",
          { class: "hit" },
          h(
            "div",
            { class: "hit-head" },
            h("span", { class: "hit-rank" }, String(index + 1)),
            h("span", { class: "hit-source", text: citationLabel(hit) }),
            hit.modality && hit.modality !== "text" ? h("span", { class: "badge badge-info" }, hit.modality) : null,
            h("span", { class: "hit-score", title: "Fused retrieval score" }, h("meter", { min: "0", max: "1", value: String(Math.abs(hit.score) / top), "aria-label": `Score ${hit.score.toFixed(4)}` }), hit.score.toFixed(4)),
          ),
          hit.heading ? h("p", { class: "hit-heading", text: hit.heading }) : null,
          h("p", { class: "hit-snippet", text: hit.snippet }),
        ),
      ),
    );
    replaceChildren(el.results, header, ocr, list);
  }

  el.form.addEventListener("submit", search);
  el.photoButton.addEventListener("click", () => el.photoInput.click());
  el.photoInput.addEventListener("change", async () => {
    const file = el.photoInput.files && el.photoInput.files[0];
    el.photoInput.value = "";
    if (!file) return;
    try {
      const prepared = await prepareImage(file);
      if (photo) URL.revokeObjectURL(photo.url);
      photo = { ...prepared, url: URL.createObjectURL(prepared.blob) };
      renderPhoto();
    } catch (error) {
      showError(error.message);
    }
  });
}
