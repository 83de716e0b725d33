// Citing documents of the Party's library in the form: under any question, the documents its
// answer cites (each with its download and a Remove button) and "Cite a document", which opens
// a search of the library; a `documents` question is filled with the same picker (its value is
// the list of document ids). And the documents a report cites, as a table with downloads
// (previews and submissions).

import { api } from "./api.js";
import { h, replace, uid } from "./dom.js";
import { t } from "./i18n.js";
import { downloadLink } from "./library.js";
import { announce, problemNode } from "./shared.js";
import { formatBytes } from "./upload.js";

let libraryParty = null;
const known = new Map(); // document id -> document (as listed), or a promise of it

/** The Party whose library the form cites (the workspace's). */
export function setLibraryParty(party) {
  if (party !== libraryParty) known.clear();
  libraryParty = party;
}

function remember(doc) {
  known.set(doc.id, doc);
}

/** A cited document, if read already; else null (and it is read, then `then` is called). */
function knownDocument(id, then) {
  const found = known.get(id);
  if (found && !(found instanceof Promise)) return found;
  if (!found) {
    const loading = api
      .get(`documents/${id}`)
      .then((doc) => {
        remember(doc);
        return doc;
      })
      .catch(() => {
        const unknown = { id, title: t("cite.unknown", { id }), missing: true };
        known.set(id, unknown);
        return unknown;
      });
    known.set(id, loading);
  }
  known.get(id).then(then);
  return null;
}

function titleOf(id, then) {
  const doc = knownDocument(id, then);
  return doc ? doc.title : t("cite.unknown", { id });
}

/**
 * A search of the library: each result with a "Cite" button (those already cited are not
 * offered). Returns {root, focus()}.
 */
function searchPanel({ isCited, onChoose, onClose }) {
  const inputId = uid("cite-q");
  const input = h("input", { id: inputId, type: "search", maxlength: 200, autocomplete: "off", class: "cite-q" });
  const results = h("ul", { class: "picker-results", "aria-live": "polite" });
  const errorBox = h("div");
  let timer = null;
  let asked = 0;
  async function search() {
    const mine = ++asked;
    const query = new URLSearchParams({ limit: "20" });
    if (input.value.trim()) query.set("q", input.value.trim());
    let page;
    try {
      page = await api.get(`parties/${encodeURIComponent(libraryParty)}/documents?${query}`);
    } catch (error) {
      if (mine === asked) replace(errorBox, problemNode(error));
      return;
    }
    if (mine !== asked) return;
    replace(errorBox);
    page.items.forEach(remember);
    const offered = page.items.filter((doc) => !isCited(doc.id));
    replace(
      results,
      offered.length
        ? offered.map((doc) =>
            h(
              "li",
              { dataset: { id: doc.id } },
              h("span", {}, h("strong", {}, doc.title), h("span", { class: "muted small" }, ` — ${t(`doctype.${doc.type}`)}, ${doc.current.file_name}`)),
              h(
                "button",
                {
                  type: "button",
                  class: "btn small",
                  "aria-label": t("cite.choose_one", { title: doc.title }),
                  onclick: () => {
                    onChoose(doc);
                    search();
                  },
                },
                t("cite.choose"),
              ),
            ),
          )
        : h("li", { class: "muted" }, page.items.length ? t("cite.all_cited") : input.value.trim() ? t("cite.none") : t("cite.empty")),
    );
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 300);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") onClose();
  });
  const root = h(
    "div",
    { class: "picker", role: "group", "aria-label": t("cite.button") },
    h("div", { class: "field" }, h("label", { for: inputId }, t("cite.search")), input),
    errorBox,
    results,
    h(
      "p",
      { class: "small" },
      h("a", { href: `#/library/${libraryParty}`, target: "_blank", rel: "noopener" }, t("cite.open_library")),
      " ",
      h("button", { type: "button", class: "btn small quiet", onclick: onClose }, t("cite.close")),
    ),
  );
  return { root, search, focus: () => input.focus() };
}

/**
 * The cited documents of one answer and the button that opens the search: `get()` gives the
 * ids, `onChange(ids)` is called when the user adds or removes one; `render()` shows the
 * current ids again. `addLabel` names the button.
 */
export function citationBox({ get, onChange, addLabel = t("cite.button"), labelledBy = null }) {
  const list = h("ul", { class: "cited" });
  const panelBox = h("div");
  let panel = null;
  const toggle = h(
    "button",
    {
      type: "button",
      class: "btn small cite-open",
      "aria-expanded": "false",
      "aria-describedby": labelledBy,
      onclick: () => (panel ? close() : open()),
    },
    addLabel,
  );
  function open() {
    panel = searchPanel({
      isCited: (id) => get().includes(id),
      onChoose: (doc) => {
        onChange([...get(), doc.id]);
        announce(t("cite.added", { title: doc.title }));
        render();
      },
      onClose: close,
    });
    replace(panelBox, panel.root);
    toggle.setAttribute("aria-expanded", "true");
    panel.search();
    panel.focus();
  }
  function close() {
    panel = null;
    replace(panelBox);
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }
  let shownKey = null;
  function render() {
    const ids = get();
    const titles = ids.map((id) => titleOf(id, () => render()));
    const key = JSON.stringify([ids, titles]);
    if (key === shownKey) return;
    shownKey = key;
    replace(
      list,
      ids.map((id, i) => {
        const doc = known.get(id);
        const ready = doc && !(doc instanceof Promise) && !doc.missing ? doc : null;
        return h(
          "li",
          { dataset: { id } },
          h("span", { class: "doc-ref" }, titles[i]),
          ready && ready.status === "withdrawn" ? h("span", { class: "badge sev-warning" }, t("cite.withdrawn")) : null,
          ready ? downloadLink(ready.current.download, t("lib.download"), { aria: t("lib.download_one", { title: ready.title }) }) : null,
          h(
            "button",
            {
              type: "button",
              class: "btn small quiet",
              "aria-label": t("cite.remove_one", { title: titles[i] }),
              onclick: () => {
                onChange(get().filter((x) => x !== id));
                announce(t("cite.removed", { title: titles[i] }));
                render();
                toggle.focus();
              },
            },
            t("cite.remove"),
          ),
        );
      }),
    );
    list.hidden = !ids.length;
    list.setAttribute("aria-label", t("cite.cited"));
  }
  const root = h("div", { class: "cite-box" }, list, toggle, panelBox);
  render();
  return { root, render, focusTarget: toggle };
}

/** A control for a `documents` question: its value is the list of cited document ids. */
export function documentsControl(def, { id, label, describedBy, change }) {
  let ids = [];
  const legendId = `${id}-legend`;
  const box = citationBox({
    get: () => ids,
    onChange: (next) => {
      ids = next;
      change();
    },
    addLabel: t("cite.add"),
  });
  box.focusTarget.id = id;
  const root = h(
    "fieldset",
    { class: "field documents-field", "aria-describedby": describedBy || null },
    h("legend", { class: "q-label", id: legendId }, label, def.required ? h("span", { class: "req" }, h("span", { "aria-hidden": "true" }, " *"), h("span", { class: "sr-only" }, ` (${t("required")})`)) : null),
    box.root,
  );
  return {
    root,
    focusTarget: box.focusTarget,
    get: () => (ids.length ? [...ids] : null),
    set: (value) => {
      ids = Array.isArray(value) ? value.filter((x) => Number.isInteger(x)) : [];
      box.render();
    },
    bad: () => null,
  };
}

/** The documents a report cites, with their downloads (`documents` of a preview or submission). */
export function citedTable(documents, { onError = null } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data docs-table" },
      h("caption", { class: "sr-only" }, t("docs.heading")),
      h(
        "thead",
        {},
        h("tr", {}, [t("docs.title"), t("docs.type"), t("version"), t("docs.size"), t("docs.questions")].map((x) => h("th", { scope: "col" }, x))),
      ),
      h(
        "tbody",
        {},
        documents.map((doc) =>
          h(
            "tr",
            { dataset: { document: doc.document } },
            h(
              "th",
              { scope: "row" },
              downloadLink(doc.download, doc.title, { aria: t("docs.download_one", { title: doc.title }), onError }),
              h("br"),
              h("span", { class: "muted small" }, doc.file_name),
            ),
            h("td", {}, t(`doctype.${doc.type}`)),
            h("td", { class: "num" }, String(doc.version)),
            h("td", { class: "num" }, formatBytes(doc.size)),
            h("td", {}, doc.questions.join(", ")),
          ),
        ),
      ),
    ),
  );
}

/** The documents a report cites, with their downloads (none: said so). */
export function citedSection(documents, level) {
  return h(
    "section",
    { class: "block cited-docs", "aria-labelledby": "docs-h" },
    h(`h${level}`, { id: "docs-h" }, t("docs.heading")),
    documents.length ? citedTable(documents) : h("p", { class: "empty" }, t("docs.none")),
  );
}
