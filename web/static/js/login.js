// /login: exchange an agent or ops key for an HttpOnly session cookie, then go to the right page.

import { ApiError, request } from "./api.js";

const PAGE_FOR_ROLE = { agent: "/agent", ops: "/ops" };

const form = document.getElementById("login-form");
const input = document.getElementById("key");
const error = document.getElementById("login-error");
const button = document.getElementById("login-button");

/** Only our own pages are allowed as ?next= (no open redirect). */
function destination(role) {
  const next = new URLSearchParams(window.location.search).get("next");
  if (next && next === PAGE_FOR_ROLE[role]) return next;
  return PAGE_FOR_ROLE[role] || "/login";
}

function showError(message) {
  error.textContent = message;
  error.hidden = !message;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = input.value.trim();
  if (!key) {
    showError("Paste your key first.");
    input.focus();
    return;
  }
  showError("");
  button.disabled = true;
  try {
    const session = await request("/v1/auth/login", { method: "POST", json: { key } });
    input.value = "";
    window.location.assign(destination(session.role));
  } catch (err) {
    const message =
      err instanceof ApiError && err.status === 401
        ? "That key is not valid (or was revoked)."
        : err instanceof ApiError && err.status === 422
          ? "That does not look like a key."
          : err.message;
    showError(message);
    input.select();
    button.disabled = false;
  }
});

// Already signed in: go straight on.
request("/v1/auth/me")
  .then((me) => {
    if (PAGE_FOR_ROLE[me.role] && me.csrf_token) window.location.replace(destination(me.role));
  })
  .catch(() => input.focus());
