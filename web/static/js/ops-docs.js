// The knowledge-base panel: drag-and-drop upload of several files with progress, the document list with
// status and errors (polled while anything is being indexed), delete, and re-upload of a new version.

import { uploadWithProgress } from "./api.js";
import { h, icon, replaceChildren } from "./dom.js";
import { fileSize, timeAgo, fullTime } from "./format.js";
import { toast } from "./staff.js";

const STATUS = {
  queued: ["Queued", "badge-info"],
  processing: ["Indexing…", "badge-accent"],
  indexed: ["Indexed", "badge-success"],
  failed: ["Failed", "badge-danger"],
};
const BUSY_POLL_MS = 1500;
const IDLE_POLL_MS = 15000;

export function knowledgeBase(session) {
  const el = {
    dropzone: document.getElementById("dropzone"),
    choose: document.getElementById("choose-files"),
    input: document.getElementById("file-input"),
    replaceInput: document.getElementById("replace-input"),
    uploads: document.getElementById("uploads"),
    docs: document.getElementById("docs"),
    summary: document.getElementById("kb-summary"),
    refresh: document.getElementById("kb-refresh"),
  };
  let timer = null;
  let replacing = null; // the document a "Replace" press is for
  const armed = new Map(); // document id -> timeout of a pending delete confirmation

  async function load() {
    window.clearTimeout(timer);
    let documents = [];
    try {
      documents = await session.api("/v1/kb/documents");
      render(documents);
    } catch (error) {
      el.summary.textContent = error.message;
    }
    const busy = documents.some((d) => d.status === "queued" || d.status === "processing");
    timer = window.setTimeout(load, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
  }

  function render(documents) {
    const counts = { indexed: 0, failed: 0, busy: 0 };
    for (const d of documents) {
      if (d.status === "indexed") counts.indexed += 1;
      else if (d.status === "failed") counts.failed += 1;
      else counts.busy += 1;
    }
    const parts = [`${documents.length} documents`, `${counts.indexed} indexed`];
    if (counts.busy) parts.push(`${counts.busy} in progress`);
    if (counts.failed) parts.push(`${counts.failed} failed`);
    el.summary.textContent = parts.join(" · ");
    if (!documents.length) {
      replaceChildren(el.docs, h("tr", {}, h("td", { colspan: "6", class: "empty" }, "No documents yet. Drop your manuals, FAQs and help pages above.")));
      return;
    }
    const sorted = documents.slice().sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
    replaceChildren(el.docs, sorted.map(row));
  }

  function row(doc) {
    const [label, tone] = STATUS[doc.status] || [doc.status, "badge"];
    const name = h(
      "td",
      { class: "doc-name" },
      h(
        "div",
        { class: "doc-name-inner" },
        h("span", { class: "doc-icon", "aria-hidden": "true" }, icon("doc")),
        h(
          "span",
          { class: "doc-text" },
          h("span", { class: "doc-filename", text: doc.filename }),
          h("span", { class: "doc-sub muted" }, [doc.kind, doc.version > 1 ? `version ${doc.version}` : null, doc.origin === "resolution" ? "from an agent's resolution" : null].filter(Boolean).join(" · ")),
          doc.error ? h("span", { class: "doc-error", text: doc.error }) : null,
        ),
      ),
    );
    // Icon buttons with full names for screen readers and a tooltip for the mouse; the text label of Delete
    // appears only while it waits for the confirming second press.
    const replace = h("button", { class: "btn btn-quiet btn-small", type: "button", title: "Upload a new version", "aria-label": `Upload a new version of ${doc.filename}`, onclick: () => chooseReplacement(doc) }, icon("refresh"));
    const remove = h("button", { class: "btn btn-quiet btn-small btn-delete", type: "button", title: "Delete", "aria-label": `Delete ${doc.filename}` }, icon("trash"), h("span", { class: "delete-label" }));
    remove.addEventListener("click", () => confirmDelete(doc, remove));
    return h(
      "tr",
      { dataset: { id: doc.id, status: doc.status } },
      name,
      h("td", {}, h("span", { class: `badge ${tone} doc-status` }, label)),
      h("td", { class: "num" }, doc.status === "indexed" ? String(doc.chunks) : "–"),
      h("td", { class: "num nowrap" }, fileSize(doc.size_bytes)),
      h("td", { class: "nowrap" }, h("time", { datetime: doc.updated_at, title: fullTime(doc.updated_at) }, timeAgo(doc.updated_at))),
      h("td", { class: "doc-actions" }, replace, remove),
    );
  }

  async function confirmDelete(doc, button) {
    if (!armed.has(doc.id)) {
      button.lastChild.textContent = "Confirm";
      button.classList.add("is-armed");
      button.setAttribute("aria-label", `Press again to delete ${doc.filename}`);
      armed.set(
        doc.id,
        window.setTimeout(() => {
          armed.delete(doc.id);
          button.lastChild.textContent = "";
          button.classList.remove("is-armed");
          button.setAttribute("aria-label", `Delete ${doc.filename}`);
        }, 4000),
      );
      return;
    }
    window.clearTimeout(armed.get(doc.id));
    armed.delete(doc.id);
    button.disabled = true;
    try {
      await session.api(`/v1/kb/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
      toast(`Deleted ${doc.filename}.`, "success");
    } catch (error) {
      toast(error.message, "error");
    }
    load();
  }

  function chooseReplacement(doc) {
    replacing = doc;
    el.replaceInput.click();
  }

  /** Upload files in one request, with a progress bar; `names` renames them (a re-upload keeps its name). */
  async function upload(files, names = null) {
    if (!files.length) return;
    const form = new FormData();
    files.forEach((file, i) => form.append("files", file, names ? names[i] : file.name));
    const title = files.length === 1 ? (names ? names[0] : files[0].name) : `${files.length} files`;
    const bar = h("progress", { max: "100", value: "0", "aria-label": `Uploading ${title}` });
    const status = h("span", { class: "upload-status" }, "0%");
    const item = h("li", { class: "upload" }, h("span", { class: "upload-name", text: title }), bar, status);
    el.uploads.append(item);
    try {
      const accepted = await uploadWithProgress("/v1/kb/documents", form, {
        csrf: session.csrf,
        onProgress: (fraction) => {
          bar.value = Math.round(fraction * 100);
          status.textContent = `${Math.round(fraction * 100)}%`;
        },
      });
      status.textContent = "Uploaded";
      toast(`${accepted.length} ${accepted.length === 1 ? "file" : "files"} queued for indexing.`, "success");
      window.setTimeout(() => item.remove(), 1500);
    } catch (error) {
      item.classList.add("is-failed");
      status.textContent = error.message;
      window.setTimeout(() => item.remove(), 8000);
    }
    load();
  }

  el.choose.addEventListener("click", () => el.input.click());
  el.input.addEventListener("change", () => {
    upload(Array.from(el.input.files || []));
    el.input.value = "";
  });
  el.replaceInput.addEventListener("change", () => {
    const file = el.replaceInput.files && el.replaceInput.files[0];
    el.replaceInput.value = "";
    if (file && replacing) upload([file], [replacing.filename]);
    replacing = null;
  });
  el.refresh.addEventListener("click", load);
  for (const type of ["dragenter", "dragover"]) {
    el.dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      el.dropzone.classList.add("is-over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    el.dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      if (type === "dragleave" && el.dropzone.contains(event.relatedTarget)) return;
      el.dropzone.classList.remove("is-over");
    });
  }
  el.dropzone.addEventListener("drop", (event) => upload(Array.from(event.dataTransfer.files || [])));

  return { load };
}
