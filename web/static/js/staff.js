// What the staff pages (inbox and console) share: the browser session (cookie + CSRF token) and the top bar.

import { ApiError, request } from "./api.js";
import { h, replaceChildren } from "./dom.js";

/**
 * The signed-in key, or a redirect to /login. Resolves to {role, name, workspace, key_id, csrf} with a
 * bound `api(path, options)` that sends the CSRF token on every unsafe request.
 */
export async function startSession(expectedRole) {
  let me;
  try {
    me = await request("/v1/auth/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      window.location.replace(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    }
    throw error;
  }
  const session = { ...me, csrf: me.csrf_token };
  session.api = (path, options = {}) => request(path, { ...options, csrf: session.csrf });
  fillTopbar(session);
  if (me.role !== expectedRole) {
    wrongRole(session, expectedRole);
    throw new Error(`this page needs an ${expectedRole} key`);
  }
  return session;
}

function fillTopbar(session) {
  const who = document.getElementById("who");
  if (who) {
    replaceChildren(
      who,
      h("span", { class: "who-name" }, session.name || `${session.role} key`),
      h("span", { class: "who-workspace" }, `${session.role} · ${session.workspace}`),
    );
  }
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try {
        await session.api("/v1/auth/logout", { method: "POST" });
      } finally {
        window.location.assign("/login");
      }
    });
  }
}

function wrongRole(session, expectedRole) {
  const main = document.querySelector("main") || document.body;
  const other = session.role === "ops" ? "/ops" : session.role === "agent" ? "/agent" : null;
  replaceChildren(
    main,
    h(
      "div",
      { class: "empty wrong-role", role: "alert" },
      h("h1", {}, `This page needs an ${expectedRole} key`),
      h("p", {}, `You are signed in with an ${session.role} key.`),
      other ? h("p", {}, h("a", { href: other }, `Go to the ${session.role === "ops" ? "console" : "inbox"}`)) : null,
    ),
  );
}

/** Show a short message in the page's toast region (role=status), gone after a few seconds. */
export function toast(text, kind = "info") {
  const region = document.getElementById("toasts");
  if (!region) return;
  const note = h("div", { class: `toast toast-${kind}` }, text);
  region.append(note);
  window.setTimeout(() => note.remove(), 5000);
}

/** Show the live-connection state in the top bar. */
export function setLive(connected) {
  const live = document.getElementById("live");
  if (!live) return;
  live.dataset.state = connected ? "on" : "off";
  live.textContent = connected ? "Live" : "Reconnecting…";
}
