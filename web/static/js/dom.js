// Building DOM nodes without HTML strings. Every piece of text goes in through text nodes (textContent),
// so stored customer or document text can never become markup. No innerHTML anywhere in Bindesk's pages.

const SVG_NS = "http://www.w3.org/2000/svg";
const FORBIDDEN_ATTRIBUTES = new Set(["style", "srcdoc", "innerhtml", "outerhtml"]);

/**
 * h("button", {class: "btn", type: "button", onclick: fn, "aria-label": "Send"}, "Send", childNode)
 * Children: strings and numbers become text nodes; null/undefined/false are skipped; arrays are flattened.
 */
export function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** The same for SVG elements (charts and icons). */
export function s(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name === "text") {
      node.textContent = String(value);
    } else if (FORBIDDEN_ATTRIBUTES.has(name.toLowerCase()) || name.startsWith("on")) {
      throw new Error(`attribute ${name} is not allowed`);
    } else if (name === "href" || name === "src") {
      node.setAttribute(name, safeUrl(String(value)));
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Only same-origin paths, http(s) and blob: URLs; anything else (javascript:, data:text/html) becomes "#". */
export function safeUrl(url) {
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  if (url.startsWith("#") || url.startsWith("blob:")) return url;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : "#";
  } catch {
    return "#";
  }
}

/** Replace all children of `node` with `children`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A small inline icon (stroke paths on a 24x24 grid), hidden from screen readers. */
export function icon(name) {
  const paths = ICONS[name] || [];
  return s(
    "svg",
    { class: "icon", viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    paths.map((d) => s("path", { d })),
  );
}

const ICONS = {
  send: ["M4 12l16-8-6 16-3-6-7-2z", "M11 14l9-10"],
  camera: ["M4 8h3l2-3h6l2 3h3v11H4z", "M12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"],
  mic: ["M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z", "M5 11a7 7 0 0 0 14 0", "M12 18v3"],
  stop: ["M7 7h10v10H7z"],
  audio: ["M9 18V6l10-2v12", "M9 18a3 3 0 1 1-6 0 3 3 0 0 1 6 0z", "M19 16a3 3 0 1 1-6 0 3 3 0 0 1 6 0z"],
  person: ["M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M4 21a8 8 0 0 1 16 0"],
  up: ["M7 11v9H4v-9z", "M7 11l4-8a2 2 0 0 1 2 2v4h5a2 2 0 0 1 2 2.3l-1.2 7A2 2 0 0 1 16.8 20H7"],
  down: ["M7 13V4H4v9z", "M7 13l4 8a2 2 0 0 0 2-2v-4h5a2 2 0 0 0 2-2.3l-1.2-7A2 2 0 0 0 16.8 4H7"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  doc: ["M6 3h8l4 4v14H6z", "M14 3v4h4"],
  upload: ["M12 16V4", "M7 9l5-5 5 5", "M4 20h16"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13"],
  refresh: ["M20 11a8 8 0 1 0-2.3 5.7", "M20 4v7h-7"],
  search: ["M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z", "M20 20l-4-4"],
  chat: ["M4 5h16v11H9l-5 4z"],
  check: ["M5 12l5 5L20 7"],
  book: ["M4 5a2 2 0 0 1 2-2h14v16H6a2 2 0 0 0-2 2z", "M4 19V5"],
};
