// Autosave of a workspace's answers through PATCH /workspaces/{id}/answers.
//
// Every change is kept at once in localStorage (per user, workspace and browser tab) with the
// revision it was based on, then sent in batches after a short pause. Each tab keeps its own
// drafts, so a save in one tab never deletes another tab's; a draft is deleted only once the
// server has acknowledged that very value. Drafts of a tab that is gone (closed, or silent for a
// while) are taken over by the next tab that opens the workspace, never dropped. A stale revision (409) becomes a
// conflict the user settles (keep mine / take theirs); a value the server refuses (422) is
// marked on its question and kept; a network failure or a server error is retried with
// exponential backoff. Nothing typed is dropped until the server has stored it. While the tab is
// shown it asks every 20 s (and when it is shown again) for answers written since its last read
// (`?since=`): a newer value replaces what the form shows, or becomes a conflict at once when
// this tab holds an edit of that answer, so the tab never claims "saved" over a stale value.

import { ApiError, api } from "./api.js";
import { isAnswered, sameJson, sameSaved } from "./logic.js";

/** Whether two lists of cited document ids hold the same documents. */
function sameDocuments(a, b) {
  return sameJson([...(a || [])].sort((x, y) => x - y), [...(b || [])].sort((x, y) => x - y));
}

const MAX_BATCH = 500;
const DEBOUNCE_MS = 700;
const MAX_BACKOFF_MS = 30000;
const TAB_KEY = "cmsr.tab";
const HEARTBEAT_MS = 5000;
const GONE_MS = 180000; // a hidden tab's timers may run once a minute only
const CLOSED_MS = 10000; // a tab that closed (or reloads) is gone after this
const INSTANCE = randomId(); // this page load
const POLL_MS = 20000;
// a write still in flight when the server last read has a time before that read: ask again for
// a minute before it, and keep the highest revision of each answer
const SINCE_MARGIN_MS = 60000;

function randomId() {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

const aliveKey = (tab) => `cmsr.tab-alive:${tab}`;

/** Whether the tab that kept drafts under this id is gone (closed, crashed or long silent). */
function tabGone(tab) {
  const alive = readJson(aliveKey(tab));
  if (!alive || typeof alive.at !== "number") return true;
  return Date.now() - alive.at > (alive.closing ? CLOSED_MS : GONE_MS);
}

let currentTab = null;

/**
 * This tab's id, kept in sessionStorage: a reload keeps it, a new tab gets a new one (and so
 * does a duplicated tab, whose copied id is still alive in the original).
 */
export function tabId() {
  if (currentTab) return currentTab;
  let id = null;
  try {
    id = sessionStorage.getItem(TAB_KEY);
  } catch {
    id = null;
  }
  const alive = id ? readJson(aliveKey(id)) : null;
  const taken = alive && !alive.closing && alive.instance !== INSTANCE && Date.now() - alive.at < GONE_MS;
  if (!id || taken) {
    id = randomId();
    try {
      sessionStorage.setItem(TAB_KEY, id);
    } catch {
      // no sessionStorage: this page load is its own tab
    }
  }
  currentTab = id;
  let closing = false; // from pagehide (the tab closes or reloads) until pageshow
  const beat = () => {
    try {
      localStorage.setItem(aliveKey(id), JSON.stringify({ at: Date.now(), instance: INSTANCE, closing }));
    } catch {
      // storage full or disabled
    }
  };
  beat();
  setInterval(beat, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", beat);
  window.addEventListener("pagehide", () => {
    closing = true;
    beat();
  });
  window.addEventListener("pageshow", () => {
    closing = false;
    beat();
  });
  return id;
}

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
    this.user = user;
    this.tab = tabId();
    this.prefix = `cmsr.drafts.v2:${user}:${workspaceId}:`;
    this.legacyKey = `cmsr.drafts.v1:${user}:${workspaceId}`; // before drafts were kept per tab
    this.storageKey = this.prefix + this.tab;
    this.path = `workspaces/${workspaceId}/answers`;
    this.check = check || (() => null);
    this.server = new Map(); // slot -> {value, revision, updatedBy, carried}
    this.pending = new Map(); // slot -> {value, base}
    this.conflicts = new Map(); // slot -> {theirs, revision, updatedBy}
    this.invalid = new Map(); // slot -> message from the server
    this.held = new Map(); // slot -> [message key, params] from the client checks
    this.unreadable = new Map(); // slot -> the text typed that cannot be read (null if unknown)
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
    this.asOf = null; // when the server last read this workspace's answers for this tab
    this.checking = false;
    this.onShown = () => {
      if (!document.hidden) this.checkNewer();
    };
    document.addEventListener("visibilitychange", this.onShown);
    this.pollTimer = setInterval(() => this.checkNewer(), POLL_MS);
    // drafts of a tab that closes while this one is open are taken over too
    this.adoptTimer = setInterval(() => {
      const slots = this.adoptGone();
      if (slots.length) {
        this.persist();
        this.emit("value", slots);
        this.emit("adopted", slots);
        this.flushSoon();
      }
    }, HEARTBEAT_MS);
  }

  /** Start from the server's answers, this tab's drafts and those of tabs that are gone. */
  load(answers, asOf = null) {
    this.asOf = asOf;
    for (const a of answers) this.storeServer(a);
    const own = this.restore(readJson(this.storageKey));
    const adopted = this.adoptGone();
    this.persist();
    this.emit("status");
    if (this.pending.size) this.flushSoon(0);
    return own.length + adopted.length;
  }

  /**
   * Take the drafts of a stored record into this tab. With `adopt`, a slot this tab already
   * has a different draft of is left in the record. Returns [slots taken, record left].
   */
  restore(record, { adopt = false } = {}) {
    const taken = [];
    const left = { pending: {}, unreadable: {} };
    for (const [slot, draft] of Object.entries((record && record.pending) || {})) {
      const current = this.server.get(slot);
      // already stored (by the tab that kept it, or meanwhile): nothing is lost
      const docsStored = draft.documents === undefined || sameDocuments(current ? current.documents : [], draft.documents);
      if ((current ? sameJson(current.value, draft.value) : !isAnswered(draft.value)) && docsStored) continue;
      const mine = this.pending.get(slot);
      if (mine && !sameJson(mine.value, draft.value)) {
        left.pending[slot] = draft;
        continue;
      }
      this.pending.set(slot, { value: draft.value, base: draft.base ?? 0, reusedFrom: draft.reusedFrom || null, documents: draft.documents ?? undefined });
      taken.push(slot);
    }
    for (const [slot, text] of Object.entries((record && record.unreadable) || {})) {
      if (typeof text !== "string") continue;
      if (adopt && this.unreadable.has(slot)) {
        left.unreadable[slot] = text;
        continue;
      }
      this.unreadable.set(slot, text);
      if (!taken.includes(slot)) taken.push(slot);
    }
    return adopt ? [taken, left] : taken;
  }

  /** Take over the drafts of this user's tabs on this workspace that are gone. */
  adoptGone() {
    const keys = [];
    try {
      for (let i = 0; i < localStorage.length; i += 1) {
        const key = localStorage.key(i);
        if (key && key.startsWith(this.prefix) && key !== this.storageKey) {
          if (tabGone(key.slice(this.prefix.length))) keys.push(key);
        } else if (key === this.legacyKey) keys.push(key);
      }
    } catch {
      return [];
    }
    const slots = [];
    for (const key of keys) {
      const [taken, left] = this.restore(readJson(key), { adopt: true });
      slots.push(...taken);
      try {
        if (Object.keys(left.pending).length || Object.keys(left.unreadable).length) {
          localStorage.setItem(key, JSON.stringify({ ...left, at: new Date().toISOString() }));
        } else {
          localStorage.removeItem(key);
        }
      } catch {
        // storage disabled: the record stays where it is
      }
    }
    return [...new Set(slots)];
  }

  /**
   * The text typed in a slot's field cannot be read (a number in the wrong form, a partial
   * date): nothing of that slot is sent until it can be read; the text is kept as a draft.
   */
  refuse(slot, text = null) {
    this.unreadable.set(slot, text);
    this.persist();
    this.emit("status", [slot]);
  }

  /** Slots whose latest edit is not stored yet (sent, waiting, held or unreadable). */
  unsavedSlots() {
    return new Set([...this.pending.keys(), ...this.unreadable.keys()]);
  }

  /** Slots waiting for the user (held by a client check, or unreadable). */
  waitingSlots() {
    return new Set([...this.held.keys(), ...this.unreadable.keys()]);
  }

  storeServer(answer) {
    this.server.set(answer.slot, {
      value: answer.value,
      revision: answer.revision,
      updatedBy: answer.updated_by,
      carried: answer.carried || null,
      reusedFrom: answer.reused_from || null,
      documents: Array.isArray(answer.documents) ? answer.documents : [],
    });
  }

  /** The documents a slot's answer cites: the unsaved edit's, else the stored answer's. */
  documents(slot) {
    const draft = this.pending.get(slot);
    if (draft && draft.documents !== undefined) return draft.documents;
    const current = this.server.get(slot);
    return current && current.documents ? current.documents : [];
  }

  /** Cite these documents (ids of the Party's library) on a slot's answer; saved with it. */
  cite(slot, documents) {
    this.set(slot, this.value(slot), { force: true, documents: [...documents] });
  }

  /** Where a slot's value was taken from (a suggestion's source slot), or null. */
  reusedFrom(slot) {
    const draft = this.pending.get(slot);
    if (draft) return draft.reusedFrom || null;
    const current = this.server.get(slot);
    return current && current.reusedFrom ? current.reusedFrom.slot : null;
  }

  /** Take an answer offered from another slot; later edits of this slot keep its source. */
  reuse(slot, value, source) {
    this.set(slot, value, { force: true, reusedFrom: source });
  }

  /** The value the form shows: the unsaved edit, else the stored answer. */
  value(slot) {
    if (this.pending.has(slot)) return this.pending.get(slot).value;
    const current = this.server.get(slot);
    return current ? current.value : null;
  }

  /** Record the user's new value of a slot. */
  set(slot, value, { force = false, reusedFrom = undefined, documents = undefined } = {}) {
    const current = this.server.get(slot);
    const draft = this.pending.get(slot);
    // a value taken from a suggestion keeps its source through edits, until it is cleared
    let source = reusedFrom !== undefined ? reusedFrom : draft ? draft.reusedFrom : current && current.reusedFrom ? current.reusedFrom.slot : null;
    if (!isAnswered(value)) source = null;
    this.invalid.delete(slot);
    this.unreadable.delete(slot);
    // citations ride with the value: an edit keeps the citations of the draft it replaces
    const cited = documents !== undefined ? documents : draft ? draft.documents : undefined;
    const docsUnchanged = cited === undefined || sameDocuments(current ? current.documents : [], cited);
    const unchanged = (current ? sameJson(current.value, value) : !isAnswered(value)) && docsUnchanged;
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
      reusedFrom: source,
      documents: cited,
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
    this.pending.set(slot, { value: draft ? draft.value : null, base: conflict.revision, documents: draft ? draft.documents : undefined });
    this.persist();
    this.emit("resolved", [slot]);
    this.flushSoon(0);
  }

  /** Settle a conflict with a value of both (merged table rows), based on theirs. */
  resolveWith(slot, value) {
    const conflict = this.conflicts.get(slot);
    if (!conflict) return;
    this.conflicts.delete(slot);
    this.server.set(slot, { value: conflict.theirs, revision: conflict.revision, updatedBy: conflict.updatedBy, carried: null });
    const draft = this.pending.get(slot);
    this.pending.set(slot, { value, base: conflict.revision, documents: draft ? draft.documents : undefined });
    this.persist();
    this.emit("resolved", [slot]);
    this.emit("value", [slot]);
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
    this.unreadable.delete(slot);
    this.persist();
    this.emit("resolved", [slot]);
    this.emit("value", [slot]);
  }

  /** Slots whose edit can be sent now. */
  sendable() {
    const slots = [];
    for (const [slot, draft] of this.pending) {
      if (this.conflicts.has(slot) || this.invalid.has(slot) || this.unreadable.has(slot)) continue;
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
    const batch = slots.map((slot) => {
      const draft = this.pending.get(slot);
      const item = { slot, value: draft.value ?? null, base_revision: draft.base };
      if (draft.reusedFrom && isAnswered(draft.value)) item.reused_from = draft.reusedFrom;
      if (draft.documents !== undefined) item.documents = draft.documents;
      return item;
    });
    this.inflightSlots = new Set(slots);
    this.setState("saving");
    try {
      const result = await api.patch(this.path, { answers: batch });
      this.failures = 0;
      const acknowledged = new Map();
      for (const answer of result.answers) {
        this.storeServer(answer);
        acknowledged.set(answer.slot, answer);
      }
      for (const item of batch) {
        // a draft goes only once the server acknowledged that very value, with its revision
        const draft = this.pending.get(item.slot);
        const ack = acknowledged.get(item.slot);
        if (!draft || !ack) continue;
        const docsSaved = draft.documents === undefined || sameDocuments(draft.documents, ack.documents);
        if (sameSaved(draft.value, ack.value) && docsSaved) this.pending.delete(item.slot);
        else draft.base = ack.revision;
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
            updatedAt: null,
          });
          conflicted.push(e.slot);
        }
      }
      this.persist();
      this.failures = 0;
      this.again = true; // the rest of the batch was refused with it: send it again
      if (quiet.length) this.emit("saved", quiet);
      if (conflicted.length) {
        this.emit("conflict", conflicted);
        this.describeConflicts(conflicted);
      }
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
          // the answer it came from no longer offers this: the value stays, without its source
          const draft = this.pending.get(slot);
          if (match[2] === "/reused_from" && draft) draft.reusedFrom = null;
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

  /**
   * Who saved the value a conflict is about, and when: the server's current answer of each
   * slot (its author and time), which may be the same user in another tab.
   */
  async describeConflicts(slots) {
    let answers;
    try {
      answers = (await api.get(this.path)).answers;
    } catch {
      return; // the box keeps the author the conflict named, without the time
    }
    const changed = [];
    for (const answer of answers) {
      const conflict = this.conflicts.get(answer.slot);
      if (!conflict || !slots.includes(answer.slot)) continue;
      if (answer.revision < conflict.revision) continue;
      conflict.theirs = answer.value;
      conflict.revision = answer.revision;
      conflict.updatedBy = answer.updated_by;
      conflict.updatedAt = answer.updated_at;
      changed.push(answer.slot);
    }
    if (changed.length) this.emit("status", changed);
  }

  /** Whether an author (updated_by) is the signed-in user. */
  isMe(author) {
    return author === `user:${this.user}` || author === this.user;
  }

  /** This tab's drafts, under its own key: other tabs' drafts are never touched. */
  persist() {
    try {
      if (!this.pending.size && ![...this.unreadable.values()].some((text) => typeof text === "string")) {
        localStorage.removeItem(this.storageKey);
        return;
      }
      const pending = {};
      for (const [slot, draft] of this.pending) {
        pending[slot] = { value: draft.value, base: draft.base, reusedFrom: draft.reusedFrom || null };
        if (draft.documents !== undefined) pending[slot].documents = draft.documents;
      }
      const unreadable = Object.fromEntries([...this.unreadable].filter(([, text]) => typeof text === "string"));
      localStorage.setItem(this.storageKey, JSON.stringify({ pending, unreadable, at: new Date().toISOString() }));
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

  /**
   * Ask for the answers written since the last read and show the newer ones: a slot this tab
   * holds an edit of becomes a conflict now, not at its next save. Emits "value" and "remote"
   * with the slots updated.
   */
  async checkNewer() {
    if (!this.asOf || this.checking || document.hidden) return;
    this.checking = true;
    try {
      const since = new Date(Date.parse(this.asOf) - SINCE_MARGIN_MS).toISOString();
      const read = await api.get(`${this.path}?since=${encodeURIComponent(since)}`);
      this.asOf = read.as_of || this.asOf;
      // who else is in the form rides on this poll (assign.js shows it)
      if (read.presence) this.dispatchEvent(new CustomEvent("presence", { detail: { presence: read.presence } }));
      const shown = [];
      const conflicted = [];
      for (const a of read.answers) {
        const known = this.server.get(a.slot);
        if ((known && known.revision >= a.revision) || this.inflightSlots.has(a.slot)) continue;
        const draft = this.pending.get(a.slot);
        if (draft && !sameJson(draft.value, a.value)) {
          this.conflicts.set(a.slot, { theirs: a.value, revision: a.revision, updatedBy: a.updated_by, updatedAt: a.updated_at });
          conflicted.push(a.slot);
          continue;
        }
        this.storeServer(a);
        if (draft && draft.documents !== undefined && !sameDocuments(draft.documents, a.documents)) {
          draft.base = a.revision; // the same value, other citations: this tab's still go
          shown.push(a.slot);
          continue;
        }
        this.pending.delete(a.slot);
        this.held.delete(a.slot);
        shown.push(a.slot);
      }
      if (shown.length || conflicted.length) this.persist();
      if (shown.length) {
        this.emit("value", shown);
        this.emit("remote", shown);
      }
      if (conflicted.length) this.emit("conflict", conflicted);
    } catch {
      // asked again at the next tick
    } finally {
      this.checking = false;
    }
  }

  /** Stop listening (the user signed out). */
  close() {
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    clearInterval(this.adoptTimer);
    clearInterval(this.pollTimer);
    window.removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onShown);
  }
}
