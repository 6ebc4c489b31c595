// Calling the Bindesk HTTP API from the pages. Errors come back as {"error": {"code", "message"}}; they are
// raised as ApiError so each page can show the message the server gave.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * request(path, {method, json, form, token, csrf}) -> parsed JSON (or null for 204).
 * token: a bearer secret (widget key or customer token). csrf: the session's CSRF token, sent on unsafe
 * methods (the cookie itself travels by the browser, same origin only).
 */
export async function request(path, { method = "GET", json, form, token, csrf, signal } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  if (csrf && UNSAFE.has(method)) headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin", signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
  }
  return parse(response);
}

async function parse(response) {
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = (payload && payload.error) || {};
    throw new ApiError(response.status, error.code || "error", error.message || `Request failed (${response.status}).`);
  }
  return payload;
}

/**
 * Upload a multipart form with progress (fetch cannot report upload progress; XMLHttpRequest can).
 * onProgress receives a fraction from 0 to 1.
 */
export function uploadWithProgress(path, form, { csrf, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let payload = null;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        payload = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve(payload);
      } else {
        const error = (payload && payload.error) || {};
        reject(new ApiError(xhr.status, error.code || "error", error.message || `Upload failed (${xhr.status}).`));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload was interrupted.")));
    xhr.send(form);
  });
}

/**
 * A server-sent-event stream that reconnects with backoff and tells the page when it is (re)connected, so
 * the page can re-read what it may have missed. Returns {close()}.
 */
export function follow(url, handlers, { onOpen, onDown } = {}) {
  let source = null;
  let closed = false;
  let delay = 1000;
  const connect = () => {
    if (closed) return;
    source = new EventSource(url, { withCredentials: true });
    source.addEventListener("open", () => {
      delay = 1000;
      if (onOpen) onOpen();
    });
    for (const [type, handler] of Object.entries(handlers)) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        handler(data);
      });
    }
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && !closed) {
        if (onDown) onDown();
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      }
    });
  };
  connect();
  return {
    close() {
      closed = true;
      if (source) source.close();
    },
  };
}
