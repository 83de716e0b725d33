// Autosave of a workspace's answers through PATCH /workspaces/{id}/answers.
//
// Every change is kept at once in localStorage (per user and workspace) with the revision it
// was based on, then sent in batches after a short pause. A stale revision (409) becomes a
// conflict the user settles (keep mine / take theirs); a value the server refuses (422) is
// marked on its question and kept; a network failure or a server error is retried with
// exponential backoff. Nothing typed is dropped until the server has stored it.

import { ApiError, api } from "./api.js";
import { isAnswered, sameJson } from "./logic.js";

const MAX_BATCH = 500;
const DEBOUNCE_MS = 700;
const MAX_BACKOFF_MS = 30000;

export class Saver extends EventTarget {
  /**
   * @param {object} options
   * @param {number} options.workspaceId
   * @param {string} options.user  the signed-in user's name (drafts are kept per user)
   * @param {(slot: string, value: any) => (string|null)} options.check  why a value cannot be
   *   sent yet (an incomplete table row, a number out of range), or null
   */
  constructor({ workspaceId, user, check }) {
    super();
    this.storageKey = `cmsr.drafts.v1:${user}:${workspaceId}`;
    this.path = `workspaces/${workspaceId}/answers`;
    this.check = check || (() => null);
    this.server = new Map(); // slot -> {value, revision, updatedBy, carried}
    this.pending = new Map(); // slot -> {value, base}
    this.conflicts = new Map(); // slot -> {theirs, revision, updatedBy}
    this.invalid = new Map(); // slot -> message from the server
    this.held = new Map(); // slot -> [message key, params] from the client checks
    this.state = "saved"; // saved | waiting | saving | offline | retrying | error | signed-out
    this.message = "";
    this.inflight = null;
    this.inflightSlots = new Set();
    this.again = false;
    this.timer = null;
    this.retryTimer = null;
    this.retryAt = null;
    this.failures = 0;
    this.lastSaved = null;
    this.onOnline = () => this.retryNow();
    window.addEventListener("online", this.onOnline);
  }

  /** Start from the server's answers and the drafts kept on this device. */
  load(answers) {
    for (const a of answers) this.storeServer(a);
    let stored = {};
    try {
      stored = JSON.parse(localStorage.getItem(this.storageKey) || "{}");
    } catch {
      stored = {};
    }
    for (const [slot, draft] of Object.entries(stored.pending || {})) {
      const current = this.server.get(slot);
      if (current ? sameJson(current.value, draft.value) : !isAnswered(draft.value)) continue;
      this.pending.set(slot, { value: draft.value, base: draft.base ?? 0 });
    }
    this.persist();
    this.emit("status");
    if (this.pending.size) this.flushSoon(0);
    return this.pending.size;
  }

  storeServer(answer) {
    this.server.set(answer.slot, {
      value: answer.value,
      revision: answer.revision,
      updatedBy: answer.updated_by,
      carried: answer.carried || null,
    });
  }

  /** The value the form shows: the unsaved edit, else the stored answer. */
  value(slot) {
    if (this.pending.has(slot)) return this.pending.get(slot).value;
    const current = this.server.get(slot);
    return current ? current.value : null;
  }

  /** Record the user's new value of a slot. */
  set(slot, value, { force = false } = {}) {
    const current = this.server.get(slot);
    const draft = this.pending.get(slot);
    this.invalid.delete(slot);
    const unchanged = current ? sameJson(current.value, value) : !isAnswered(value);
    if (!force && unchanged && !this.conflicts.has(slot) && !this.inflightSlots.has(slot)) {
      if (!draft || draft.base === (current ? current.revision : 0)) {
        this.pending.delete(slot);
        this.held.delete(slot);
        this.persist();
        this.emit("status", [slot]);
        return;
      }
    }
    this.pending.set(slot, {
      value,
      base: draft ? draft.base : current ? current.revision : 0,
    });
    this.persist();
    this.emit("status", [slot]);
    this.flushSoon();
  }

  /** Confirm a carried-forward answer: write the same value so it is no longer marked. */
  confirm(slot) {
    this.set(slot, this.value(slot), { force: true });
  }

  /** Keep my value over the one saved meanwhile: re-send it based on their revision. */
  keepMine(slot) {
    const conflict = this.conflicts.get(slot);
    if (!conflict) return;
    this.conflicts.delete(slot);
    this.server.set(slot, {
      value: conflict.theirs,
      revision: conflict.revision,
      updatedBy: conflict.updatedBy,
      carried: null,
    });
    const draft = this.pending.get(slot);
    this.pending.set(slot, { value: draft ? draft.value : null, base: conflict.revision });
    this.persist();
    this.emit("resolved", [slot]);
    this.flushSoon(0);
  }

  /** Take the value saved meanwhile and drop mine. */
  takeTheirs(slot) {
    const conflict = this.conflicts.get(slot);
    if (!conflict) return;
    this.conflicts.delete(slot);
    this.server.set(slot, {
      value: conflict.theirs,
      revision: conflict.revision,
      updatedBy: conflict.updatedBy,
      carried: null,
    });
    this.pending.delete(slot);
    this.held.delete(slot);
    this.persist();
    this.emit("resolved", [slot]);
    this.emit("value", [slot]);
  }

  /** Slots whose edit can be sent now. */
  sendable() {
    const slots = [];
    for (const [slot, draft] of this.pending) {
      if (this.conflicts.has(slot) || this.invalid.has(slot)) continue;
      const reason = this.check(slot, draft.value);
      if (reason) {
        this.held.set(slot, reason);
        continue;
      }
      this.held.delete(slot);
      slots.push(slot);
    }
    return slots;
  }

  flushSoon(delay = DEBOUNCE_MS) {
    clearTimeout(this.timer);
    if (this.retryTimer && delay > 0) {
      // a retry is scheduled; it sends the latest values
      this.emit("status");
      return;
    }
    if (this.state === "saved" && this.pending.size) this.setState("waiting");
    this.timer = setTimeout(() => this.flush(), delay);
  }

  retryNow() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
    this.flushSoon(0);
  }

  /** Send what can be sent; resolves when this round is over. */
  flush() {
    clearTimeout(this.timer);
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    this.inflight = this.round().finally(() => {
      this.inflight = null;
      if (this.again) {
        this.again = false;
        if (!this.retryTimer && this.state !== "signed-out") this.flushSoon(0);
      }
    });
    return this.inflight;
  }

  /** Send until nothing more can be sent (before a preview or a submission). */
  async settle() {
    for (let i = 0; i < 10; i += 1) {
      await this.flush();
      if (this.inflight) continue;
      if (!this.sendable().length || ["offline", "retrying", "error", "signed-out"].includes(this.state)) {
        break;
      }
    }
    this.emit("status");
  }

  async round() {
    const slots = this.sendable().slice(0, MAX_BATCH);
    if (!slots.length) {
      this.setState(this.pending.size ? "saved-partly" : "saved");
      return;
    }
    const batch = slots.map((slot) => ({
      slot,
      value: this.pending.get(slot).value ?? null,
      base_revision: this.pending.get(slot).base,
    }));
    this.inflightSlots = new Set(slots);
    this.setState("saving");
    try {
      const result = await api.patch(this.path, { answers: batch });
      this.failures = 0;
      for (const answer of result.answers) this.storeServer(answer);
      for (const item of batch) {
        const draft = this.pending.get(item.slot);
        const current = this.server.get(item.slot);
        if (draft && sameJson(draft.value, item.value)) this.pending.delete(item.slot);
        else if (draft && current) draft.base = current.revision;
      }
      this.lastSaved = new Date();
      this.persist();
      this.inflightSlots = new Set();
      this.emit("saved", slots);
      if (this.sendable().length) this.again = true;
      this.setState(this.pending.size ? "saved-partly" : "saved");
    } catch (error) {
      this.inflightSlots = new Set();
      this.failed(error, batch);
    }
  }

  failed(error, batch) {
    if (error instanceof ApiError && error.status === 409 && error.errors.some((e) => e.slot)) {
      const conflicted = [];
      const quiet = [];
      for (const e of error.errors) {
        if (!e.slot) continue;
        const mine = this.pending.has(e.slot) ? this.pending.get(e.slot).value : null;
        if (sameJson(e.current_value, mine)) {
          // the same value was saved meanwhile (another tab, or a retried request)
          this.server.set(e.slot, {
            value: e.current_value,
            revision: e.current_revision,
            updatedBy: e.updated_by,
            carried: null,
          });
          this.pending.delete(e.slot);
          quiet.push(e.slot);
        } else {
          this.conflicts.set(e.slot, {
            theirs: e.current_value,
            revision: e.current_revision,
            updatedBy: e.updated_by,
          });
          conflicted.push(e.slot);
        }
      }
      this.persist();
      this.failures = 0;
      this.again = true; // the rest of the batch was refused with it: send it again
      if (quiet.length) this.emit("saved", quiet);
      if (conflicted.length) this.emit("conflict", conflicted);
      this.setState("saved-partly");
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      this.setState("signed-out");
      return;
    }
    if (error instanceof ApiError && error.status >= 400 && error.status < 500 && ![408, 425, 429].includes(error.status)) {
      // refused content: mark the answers named by the problem (all of the batch if none is)
      const named = new Map();
      for (const e of error.errors) {
        const match = /^\/answers\/(\d+)(\/.*)?$/.exec(e.pointer || "");
        if (match && batch[Number(match[1])]) {
          const slot = batch[Number(match[1])].slot;
          if (!named.has(slot)) named.set(slot, e.detail);
        }
      }
      if (!named.size) for (const item of batch) named.set(item.slot, error.message);
      for (const [slot, detail] of named) this.invalid.set(slot, detail);
      this.failures = 0;
      this.again = true;
      this.emit("invalid", [...named.keys()]);
      this.setState("saved-partly");
      return;
    }
    // the network, or the server, failed: keep everything and try again later
    this.failures += 1;
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      this.flush();
    }, delay);
    this.message = error.message || "";
    const offline = !(error instanceof ApiError) || navigator.onLine === false;
    this.setState(offline ? "offline" : "retrying");
  }

  persist() {
    try {
      if (!this.pending.size) {
        localStorage.removeItem(this.storageKey);
        return;
      }
      const pending = {};
      for (const [slot, draft] of this.pending) pending[slot] = { value: draft.value, base: draft.base };
      localStorage.setItem(this.storageKey, JSON.stringify({ pending, at: new Date().toISOString() }));
    } catch {
      // storage full or disabled: the edits stay in memory and are still sent
    }
  }

  setState(state) {
    this.state = state;
    this.emit("status");
  }

  emit(type, slots = []) {
    this.dispatchEvent(new CustomEvent(type, { detail: { slots } }));
  }

  /** Stop listening (the user signed out). */
  close() {
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.onOnline);
  }
}
