/* Bindesk chat on any site, with one line:
 *
 *   <script src="https://support.example.com/widget.js" data-key="bk_widget_..." async></script>
 *
 * Optional attributes: data-label (the launcher's text for screen readers, default "Chat with support"),
 * data-color (the launcher's colour, default #2b59c3), data-position ("right" or "left").
 * It adds a launcher button; the first press loads the chat (an iframe of /widget) from the same server that
 * served this script. The chat asks for the microphone only when the customer records a voice note.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__bindeskEmbedded) return;
  window.__bindeskEmbedded = true;

  var key = script.getAttribute("data-key") || "";
  var origin = new URL(script.src, window.location.href).origin;
  var label = script.getAttribute("data-label") || "Chat with support";
  var color = script.getAttribute("data-color") || "#2b59c3";
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";
  var SVG = "http://www.w3.org/2000/svg";

  function icon(paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "26");
    svg.setAttribute("height", "26");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
      svg.appendChild(path);
    });
    return svg;
  }

  var CHAT = ["M4 5h16v11H9l-5 4z"];
  var CLOSE = ["M6 6l12 12", "M18 6L6 18"];

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "bindesk-chat-frame");
  button.appendChild(icon(CHAT));
  style(button, {
    position: "fixed",
    bottom: "20px",
    width: "56px",
    height: "56px",
    borderRadius: "50%",
    border: "0",
    padding: "0",
    display: "grid",
    placeItems: "center",
    background: color,
    color: "#fff",
    cursor: "pointer",
    boxShadow: "0 6px 20px rgba(0,0,0,0.22)",
    zIndex: "2147483000",
  });
  button.style[side] = "20px";

  var frame = null;
  var open = false;

  function style(node, values) {
    for (var name in values) node.style[name] = values[name];
  }

  function placeFrame() {
    if (!frame) return;
    var small = window.innerWidth < 480;
    style(frame, small
      ? { top: "0", bottom: "0", left: "0", right: "0", width: "100%", height: "100%", borderRadius: "0" }
      : { top: "auto", bottom: "88px", width: "380px", height: "min(620px, calc(100vh - 110px))", borderRadius: "14px" });
    if (!small) {
      frame.style[side] = "20px";
      frame.style[side === "right" ? "left" : "right"] = "auto";
    }
  }

  function makeFrame() {
    frame = document.createElement("iframe");
    frame.id = "bindesk-chat-frame";
    frame.title = "Support chat";
    frame.src = origin + "/widget?embed=1&key=" + encodeURIComponent(key);
    frame.setAttribute("allow", "microphone");
    style(frame, {
      position: "fixed",
      border: "0",
      background: "#fff",
      boxShadow: "0 12px 40px rgba(0,0,0,0.25)",
      zIndex: "2147483001",
      display: "none",
    });
    document.body.appendChild(frame);
    placeFrame();
  }

  function setOpen(value) {
    open = value;
    if (open && !frame) makeFrame();
    if (frame) frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    button.replaceChild(icon(open ? CLOSE : CHAT), button.firstChild);
    button.setAttribute("aria-label", open ? "Close support chat" : label);
    if (open && frame) frame.focus();
    if (!open) button.focus();
    // On a phone the open chat covers the page, the launcher included; the chat has its own close button.
    button.style.display = open && window.innerWidth < 480 ? "none" : "grid";
  }

  button.addEventListener("click", function () {
    setOpen(!open);
  });

  window.addEventListener("message", function (event) {
    if (event.origin === origin && event.data && event.data.type === "bindesk:close") setOpen(false);
  });

  window.addEventListener("resize", placeFrame);

  function mount() {
    document.body.appendChild(button);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
