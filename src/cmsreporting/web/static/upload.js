// Uploads into a Party's document library, with progress.
//
// When the server offers resumable uploads (tus 1.0.0: OPTIONS /api/v1/uploads answers with
// Tus-Version), a file is sent in chunks of a few MiB: POST /parties/{iso3}/uploads creates the
// upload, each PATCH sends the next chunk at Upload-Offset. After a failure the upload is
// interrupted, not lost: resume() asks the server where it stands (HEAD) and goes on from its
// Upload-Offset. Otherwise the file goes in one request (POST /parties/{iso3}/documents, or
// /documents/{id}/versions for a new version), its progress read from XMLHttpRequest.

import { API, ApiError, NetworkError, api, csrfToken, getToken } from "./api.js";

export const CHUNK_BYTES = 4 * 1024 * 1024;
const TUS = "1.0.0";

let tusOffered = null;

/** Whether the server takes resumable (tus) uploads; asked once. */
export function tusAvailable() {
  if (tusOffered === null) {
    tusOffered = fetch(`${API}/uploads`, { method: "OPTIONS" })
      .then((response) => response.status < 300 && (response.headers.get("Tus-Version") || "").split(",").includes(TUS))
      .catch(() => false);
  }
  return tusOffered;
}

function authHeaders(write) {
  const token = getToken();
  if (token) return { Authorization: `Bearer ${token}` };
  const csrf = write ? csrfToken() : null;
  return csrf ? { "X-CSRF-Token": csrf } : {};
}

function problemOf(xhr) {
  try {
    return JSON.parse(xhr.responseText);
  } catch {
    return { detail: xhr.statusText || `HTTP ${xhr.status}` };
  }
}

/**
 * One request by XMLHttpRequest (its upload reports progress). Resolves with the request once
 * answered with 2xx; rejects with ApiError (a problem) or NetworkError (no answer).
 */
function request(method, url, { headers = {}, body = null, onProgress = null, track = null } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    if (track) track(xhr);
    xhr.open(method, url);
    for (const [name, value] of Object.entries({ Accept: "application/json", ...authHeaders(method !== "GET" && method !== "HEAD"), ...headers })) {
      xhr.setRequestHeader(name, value);
    }
    if (onProgress) xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
      else if (xhr.status === 0) reject(new NetworkError("no answer"));
      else reject(new ApiError(xhr.status, problemOf(xhr)));
    });
    xhr.addEventListener("error", () => reject(new NetworkError("network error")));
    xhr.addEventListener("abort", () => reject(new NetworkError("aborted")));
    xhr.addEventListener("timeout", () => reject(new NetworkError("timeout")));
    xhr.send(body);
  });
}

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Metadata as the single-request upload takes them (query parameters). */
function metaQuery(meta, fileName) {
  const query = new URLSearchParams();
  for (const key of ["title", "description", "language", "document_date", "type"]) {
    if (meta[key]) query.set(key, meta[key]);
  }
  query.set("file_name", fileName);
  return query.toString();
}

/**
 * An upload of one file: `start()` runs it to the end (resolves with the document, detail
 * form), `resume()` goes on after an interruption, `cancel()` stops it. Events:
 * progress {sent, total}, state {state: "sending" | "interrupted" | "checking" | "done" | "failed"}.
 */
export class Upload extends EventTarget {
  constructor({ party, file, meta, documentId = null }) {
    super();
    this.party = party;
    this.file = file;
    this.meta = meta;
    this.documentId = documentId;
    this.url = null; // the tus upload, once created
    this.offset = 0;
    this.resumable = false;
    this.state = "idle";
    this.xhr = null;
    this.cancelled = false;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state, error = null) {
    this.state = state;
    this.error = error;
    this.emit("state", { state, error });
  }

  progress(sent) {
    this.emit("progress", { sent: Math.min(sent, this.file.size), total: this.file.size });
  }

  async start() {
    this.resumable = await tusAvailable();
    return this.resumable ? this.runTus() : this.runSingle();
  }

  /** Go on after an interruption: ask the server how much it has, then send the rest. */
  async resume() {
    if (!this.resumable) return this.runSingle();
    if (this.url) {
      this.setState("checking");
      try {
        const head = await request("HEAD", this.url, { headers: { "Tus-Resumable": TUS, "Cache-Control": "no-store" } });
        this.offset = Number(head.getResponseHeader("Upload-Offset") || 0);
        this.progress(this.offset);
      } catch (error) {
        if (error instanceof ApiError && [404, 410].includes(error.status)) {
          this.url = null; // gone on the server: send the file again
          this.offset = 0;
        } else {
          this.setState("interrupted", error);
          throw error;
        }
      }
    }
    return this.runTus();
  }

  cancel() {
    this.cancelled = true;
    if (this.xhr) this.xhr.abort();
    if (this.url) request("DELETE", this.url, { headers: { "Tus-Resumable": TUS } }).catch(() => {});
  }

  async runSingle() {
    const fileName = this.file.name || "document";
    const path = this.documentId ? `${API}/documents/${this.documentId}/versions` : `${API}/parties/${encodeURIComponent(this.party)}/documents`;
    this.setState("sending");
    this.progress(0);
    try {
      const xhr = await request("POST", `${path}?${metaQuery(this.meta, fileName)}`, {
        headers: { "Content-Type": this.file.type || "application/octet-stream" },
        body: this.file,
        onProgress: (loaded) => this.progress(loaded),
        track: (x) => (this.xhr = x),
      });
      this.progress(this.file.size);
      const document = JSON.parse(xhr.responseText);
      this.setState("done");
      return document;
    } catch (error) {
      this.setState(error instanceof NetworkError && !this.cancelled ? "interrupted" : "failed", error);
      throw error;
    }
  }

  async create() {
    const pairs = { ...this.meta, filename: this.file.name || "document", filetype: this.file.type || "" };
    if (this.documentId) pairs.document = String(this.documentId);
    const metadata = Object.entries(pairs)
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .map(([key, value]) => `${key} ${base64(String(value))}`)
      .join(",");
    const xhr = await request("POST", `${API}/parties/${encodeURIComponent(this.party)}/uploads`, {
      headers: { "Tus-Resumable": TUS, "Upload-Length": String(this.file.size), "Upload-Metadata": metadata },
    });
    const location = xhr.getResponseHeader("Location");
    if (!location) throw new ApiError(xhr.status, { detail: "the server gave no upload address" });
    this.url = new URL(location, window.location.href).pathname;
    this.offset = 0;
  }

  async runTus() {
    this.setState("sending");
    this.progress(this.offset);
    try {
      if (!this.url) await this.create();
      while (this.offset < this.file.size) {
        const end = Math.min(this.offset + CHUNK_BYTES, this.file.size);
        const from = this.offset;
        let xhr;
        try {
          xhr = await request("PATCH", this.url, {
            headers: { "Tus-Resumable": TUS, "Upload-Offset": String(from), "Content-Type": "application/offset+octet-stream" },
            body: this.file.slice(from, end),
            onProgress: (loaded) => this.progress(from + loaded),
            track: (x) => (this.xhr = x),
          });
        } catch (error) {
          if (error instanceof ApiError && error.status === 409) {
            // the server holds another offset: ask it, and go on from there
            const head = await request("HEAD", this.url, { headers: { "Tus-Resumable": TUS } });
            this.offset = Number(head.getResponseHeader("Upload-Offset") || 0);
            continue;
          }
          throw error;
        }
        this.offset = Number(xhr.getResponseHeader("Upload-Offset") ?? end);
        this.progress(this.offset);
      }
      const done = await api.get(this.url);
      if (!done.document) throw new ApiError(500, { detail: "the upload ended without a document" });
      const document = await api.get(`documents/${done.document}`);
      this.setState("done");
      return document;
    } catch (error) {
      const interrupted = !this.cancelled && (error instanceof NetworkError || (error instanceof ApiError && error.status >= 500));
      if (!interrupted) this.url = null; // refused: the server discards the upload
      this.setState(interrupted ? "interrupted" : "failed", error);
      throw error;
    }
  }
}

/** A size in bytes, in B, KB, MB or GB. */
export function formatBytes(size) {
  const units = ["B", "KB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit ? value.toFixed(value < 10 ? 1 : 0) : value} ${units[unit]}`;
}
