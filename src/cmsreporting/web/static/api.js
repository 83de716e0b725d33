// The public API (/api/v1), signed in by the session cookie or a bearer token, and
// problem+json errors.
//
// A password sign-in sets an HttpOnly session cookie that this code never sees: every tab of the
// browser is signed in with it, and every write carries the session's CSRF token (read from the
// cmsr_csrf cookie) in X-CSRF-Token. A pasted access token is kept in sessionStorage instead: it
// is a long-lived credential, so it stays with this browser tab (a reload keeps it) and is gone
// when the tab is closed, rather than staying on a shared office computer. Unsaved answers are
// not credentials and are kept in localStorage (see autosave.js), so they survive a closed tab,
// a crash or a lost connection.

const TOKEN_KEY = "cmsr.token";
export const API = "/api/v1";

/** An API error: the HTTP status and the problem document (RFC 9457). */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** The field errors of the problem: [{pointer, detail, ...}]. */
  get errors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** The request never reached the server, or its answer never came back. */
export class NetworkError extends Error {}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The CSRF token of the browser's session, from its script-readable cookie. */
export function csrfToken() {
  const match = /(?:^|;\s*)cmsr_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : null;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

let onUnauthorized = () => {};
/** Called when the API says the token is not (or no longer) valid. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

async function send(method, path, { body, rawBody, headers = {}, token = getToken(), raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  else if (!SAFE.has(method)) {
    const csrf = csrfToken();
    if (csrf) init.headers["X-CSRF-Token"] = csrf;
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  } else if (rawBody !== undefined) {
    init.body = rawBody; // a file as it is, with the Content-Type given in `headers`
  }
  let response;
  try {
    response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, init);
  } catch (error) {
    throw new NetworkError(error.message || "network error");
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = { detail: response.statusText };
    }
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch (error) {
    throw new NetworkError(error.message || "incomplete response");
  }
}

export const api = {
  get: (path, options) => send("GET", path, options),
  post: (path, body, options = {}) => send("POST", path, { ...options, body }),
  patch: (path, body, options = {}) => send("PATCH", path, { ...options, body }),
  put: (path, body, options = {}) => send("PUT", path, { ...options, body }),
  delete: (path, options) => send("DELETE", path, options),
  send,
};

/** Every item of a paginated list. */
export async function getAll(path, { max = 5000 } = {}) {
  const items = [];
  let cursor = null;
  const sep = path.includes("?") ? "&" : "?";
  do {
    const page = await api.get(
      `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** Fetch a file with the token and hand it to the browser as a download. */
export async function download(path) {
  const response = await send("GET", path, { raw: true, headers: { Accept: "*/*" } });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/.exec(disposition);
  const name = match ? match[1] : path.split("/").pop().split("?")[0];
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
