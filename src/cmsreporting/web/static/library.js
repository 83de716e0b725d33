// A Party's document library (#/library/{ISO3}): its documents page by page (keyset cursor),
// searched and filtered by type, withdrawn ones on demand; each document's versions with their
// downloads; a new version (replace) and withdrawal; and the upload of a file with its
// metadata, chosen or dropped, with a progress bar (resumable where the server offers it).

import { api, download } from "./api.js";
import { day, focusElement, h, replace, when } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { announce, partyName, problemNode, session } from "./shared.js";
import { Upload, formatBytes, tusAvailable } from "./upload.js";

export const DOCUMENT_TYPES = ["law", "policy_plan", "report", "data", "map", "other"];
const LANGUAGE_CODES = ["en", "fr", "es", "ar", "ru", "zh", "pt", "de", "it", "nl", "sw", "am", "hi", "id", "ja", "ko", "tr", "uk", "vi"];
const PAGE = 20;

/** Whether the user writes a Party's library (admins, its focal points and contributors). */
export function writesLibrary(party) {
  return session.isAdmin || session.roles.some((r) => ["focal_point", "contributor"].includes(r.role) && r.party === party);
}

/** Parties whose library the user writes. */
export function libraryParties() {
  return [...new Set(session.roles.filter((r) => ["focal_point", "contributor"].includes(r.role) && r.party).map((r) => r.party))];
}

function languageName(code) {
  try {
    return new Intl.DisplayNames([getLang()], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

/** A link that downloads a file with the user's credentials (token or session). */
export function downloadLink(path, label, { aria = null, onError = null } = {}) {
  return h(
    "a",
    {
      href: path,
      class: "download",
      "aria-label": aria,
      onclick: async (event) => {
        event.preventDefault();
        try {
          await download(path);
        } catch (error) {
          if (onError) onError(error);
          else console.error(error);
        }
      },
    },
    label,
  );
}

export async function libraryView(ctx, iso3) {
  const party = iso3.toUpperCase();
  const name = await partyName(party);
  const canWrite = writesLibrary(party);
  const resumable = await tusAvailable();
  const errorBox = h("div", { "aria-live": "assertive" });
  const state = { q: "", type: "", withdrawn: false, cursor: null, loaded: [] };

  // --- the list ---------------------------------------------------------------------------
  const list = h("ul", { class: "doc-list plain", id: "doc-list" });
  const count = h("p", { class: "muted small", id: "doc-count", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "btn", hidden: true, onclick: () => load(false) }, t("lib.more"));
  const search = h("input", { id: "lib-q", type: "search", maxlength: 200, autocomplete: "off" });
  const typeFilter = h(
    "select",
    { id: "lib-type" },
    h("option", { value: "" }, t("lib.all_types")),
    DOCUMENT_TYPES.map((x) => h("option", { value: x }, t(`doctype.${x}`))),
  );
  const withdrawnBox = h("input", { id: "lib-withdrawn", type: "checkbox" });
  const filters = h(
    "form",
    {
      class: "lib-filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        applyFilters();
      },
    },
    h("div", { class: "field" }, h("label", { for: "lib-q" }, t("lib.search")), h("div", { class: "input-row" }, search, h("button", { type: "submit", class: "btn" }, t("lib.search_go")))),
    h("div", { class: "field" }, h("label", { for: "lib-type" }, t("lib.type")), typeFilter),
    h("div", { class: "option" }, withdrawnBox, h("label", { for: "lib-withdrawn" }, t("lib.show_withdrawn"))),
  );
  typeFilter.addEventListener("change", applyFilters);
  withdrawnBox.addEventListener("change", applyFilters);
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applyFilters, 400);
  });

  function applyFilters() {
    clearTimeout(searchTimer);
    state.q = search.value.trim();
    state.type = typeFilter.value;
    state.withdrawn = withdrawnBox.checked;
    load(true);
  }

  let loading = 0;
  async function load(fresh) {
    const mine = ++loading;
    if (fresh) {
      state.cursor = null;
      state.loaded = [];
    }
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (state.q) query.set("q", state.q);
    if (state.type) query.set("type", state.type);
    if (state.withdrawn) query.set("withdrawn", "true");
    if (state.cursor) query.set("cursor", state.cursor);
    let page;
    try {
      page = await api.get(`parties/${party}/documents?${query}`);
    } catch (error) {
      if (mine === loading) replace(errorBox, problemNode(error));
      return;
    }
    if (mine !== loading) return;
    replace(errorBox);
    if (fresh) replace(list);
    state.loaded.push(...page.items);
    state.cursor = page.next_cursor;
    for (const doc of page.items) list.append(documentItem(doc));
    more.hidden = !page.next_cursor;
    const filtered = state.q || state.type;
    count.textContent = state.loaded.length
      ? t(page.next_cursor ? "lib.count_more" : "lib.count", { n: state.loaded.length })
      : filtered
        ? t("lib.none_found")
        : t("lib.none");
  }

  function metaLine(doc) {
    return h(
      "p",
      { class: "doc-meta muted small" },
      [
        h("span", { class: "badge doc-type" }, t(`doctype.${doc.type}`)),
        doc.document_date ? day(doc.document_date) : null,
        languageName(doc.language),
        t("lib.version_n", { n: doc.version }),
        formatBytes(doc.current.size),
        h("span", { class: "file-name" }, doc.current.file_name),
      ]
        .filter(Boolean)
        .flatMap((x, i) => (i ? [" · ", x] : [x])),
    );
  }

  function documentItem(doc) {
    const withdrawn = doc.status === "withdrawn";
    const versionsBox = h("div", { class: "doc-versions" });
    const details = h("details", { class: "versions" }, h("summary", {}, t("lib.versions", { n: doc.version })), versionsBox);
    details.addEventListener("toggle", async () => {
      if (!details.open || versionsBox.dataset.loaded) return;
      replace(versionsBox, h("p", { class: "muted" }, t("loading")));
      try {
        const full = await api.get(`documents/${doc.id}`);
        versionsBox.dataset.loaded = "1";
        replace(
          versionsBox,
          h(
            "ol",
            { class: "version-list", reversed: true },
            [...full.versions].reverse().map((v) =>
              h(
                "li",
                { dataset: { version: v.version } },
                h("strong", {}, t("lib.version_n", { n: v.version })),
                ` — ${v.file_name}, ${formatBytes(v.size)}, ${when(v.created_at)}, ${v.created_by.replace(/^user:/, "")} `,
                downloadLink(v.download, t("lib.download"), { aria: t("lib.download_version", { title: doc.title, n: v.version }), onError: showError }),
                h("br"),
                h("span", { class: "muted small sha" }, `SHA-256 ${v.sha256}`),
              ),
            ),
          ),
        );
      } catch (error) {
        replace(versionsBox, problemNode(error));
      }
    });
    const actions = h("div", { class: "actions doc-actions" });
    const li = h(
      "li",
      { class: `doc card${withdrawn ? " is-withdrawn" : ""}`, dataset: { id: doc.id } },
      h("h3", { class: "doc-title" }, doc.title, withdrawn ? [" ", h("span", { class: "badge sev-warning" }, t("lib.withdrawn"))] : null),
      metaLine(doc),
      doc.description ? h("p", { class: "doc-desc" }, doc.description) : null,
      actions,
      details,
    );
    const fillActions = () =>
      replace(
        actions,
        downloadLink(doc.current.download, t("lib.download"), { aria: t("lib.download_one", { title: doc.title }), onError: showError }),
        canWrite && !withdrawn
          ? [
              " ",
              h("button", { type: "button", class: "btn small", "aria-label": t("lib.replace_one", { title: doc.title }), onclick: () => startReplace(doc) }, t("lib.replace")),
              " ",
              h("button", { type: "button", class: "btn small danger", "aria-label": t("lib.withdraw_one", { title: doc.title }), onclick: askWithdraw }, t("lib.withdraw")),
            ]
          : null,
      );
    function askWithdraw() {
      const yes = h(
        "button",
        {
          type: "button",
          class: "btn small danger",
          onclick: async () => {
            yes.disabled = true;
            try {
              const after = await api.post(`documents/${doc.id}/withdraw`);
              announce(t("lib.withdrawn_done", { title: after.title }));
              load(true);
            } catch (error) {
              replace(actions, problemNode(error));
            }
          },
        },
        t("lib.withdraw_confirm"),
      );
      const no = h("button", { type: "button", class: "btn small quiet", onclick: () => { fillActions(); actions.querySelector("button")?.focus(); } }, t("cancel"));
      replace(actions, h("p", { class: "confirm", role: "group", "aria-label": t("lib.withdraw") }, t("lib.withdraw_ask", { title: doc.title }), " ", yes, " ", no));
      yes.focus();
    }
    fillActions();
    return li;
  }

  function showError(error) {
    replace(errorBox, problemNode(error));
  }

  // --- the upload form ---------------------------------------------------------------------
  let replacing = null; // the document a new version is for
  let chosen = null;
  let current = null; // the running Upload
  const formHeading = h("h2", { id: "upload-h" }, t("lib.upload_heading"));
  const fileInput = h("input", { id: "lib-file", type: "file", class: "file-input", "aria-describedby": "lib-file-help" });
  const chosenText = h("p", { class: "chosen small", id: "lib-chosen", "aria-live": "polite" });
  const drop = h(
    "div",
    { class: "dropzone", id: "lib-drop" },
    h("p", { id: "lib-file-help" }, t("lib.drop")),
    h("label", { for: "lib-file", class: "btn" }, t("lib.file")),
    fileInput,
    chosenText,
  );
  const title = h("input", { id: "lib-title", maxlength: 500, required: true, autocomplete: "off" });
  const description = h("textarea", { id: "lib-desc", rows: 2, maxlength: 5000 });
  const language = h(
    "select",
    { id: "lib-lang", required: true },
    [...new Set([getLang(), ...LANGUAGE_CODES])].map((code) => h("option", { value: code }, `${languageName(code)} (${code})`)),
  );
  const date = h("input", { id: "lib-date", type: "date" });
  const type = h(
    "select",
    { id: "lib-doctype", required: true },
    h("option", { value: "" }, t("choose")),
    DOCUMENT_TYPES.map((x) => h("option", { value: x }, t(`doctype.${x}`))),
  );
  const bar = h("progress", { id: "lib-progress", max: 100, value: 0, "aria-labelledby": "lib-progress-text" });
  const barText = h("span", { id: "lib-progress-text", class: "small" });
  const progressBox = h("div", { class: "upload-progress", hidden: true }, bar, " ", barText);
  const uploadResult = h("div", { id: "lib-upload-result", "aria-live": "assertive" });
  const submit = h("button", { type: "submit", class: "btn primary", id: "lib-submit" }, t("lib.upload"));
  const resumeButton = h("button", { type: "button", class: "btn primary", hidden: true, onclick: () => resume() }, t("lib.resume"));
  const cancelUpload = h("button", { type: "button", class: "btn quiet", hidden: true, onclick: () => stopUpload() }, t("lib.cancel_upload"));
  const cancelReplace = h("button", { type: "button", class: "btn quiet", hidden: true, onclick: () => endReplace() }, t("lib.cancel_replace"));

  function choose(file) {
    chosen = file || null;
    chosenText.textContent = chosen ? t("lib.chosen", { name: chosen.name, size: formatBytes(chosen.size) }) : "";
    if (chosen && !title.value.trim()) title.value = chosen.name.replace(/\.[A-Za-z0-9]{1,5}$/, "");
  }
  fileInput.addEventListener("change", () => choose(fileInput.files[0]));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) choose(file);
  });

  function startReplace(doc) {
    replacing = doc;
    formHeading.textContent = t("lib.replace_heading", { title: doc.title });
    title.value = doc.title;
    description.value = doc.description || "";
    if (![...language.options].some((o) => o.value === doc.language)) language.append(h("option", { value: doc.language }, languageName(doc.language)));
    language.value = doc.language;
    date.value = doc.document_date || "";
    type.value = doc.type;
    submit.textContent = t("lib.upload_version");
    cancelReplace.hidden = false;
    replace(uploadResult);
    focusElement(formHeading);
  }

  function endReplace() {
    replacing = null;
    formHeading.textContent = t("lib.upload_heading");
    submit.textContent = t("lib.upload");
    cancelReplace.hidden = true;
  }

  function resetForm() {
    chosen = null;
    fileInput.value = "";
    chosenText.textContent = "";
    title.value = "";
    description.value = "";
    date.value = "";
    type.value = "";
    endReplace();
  }

  function showProgress({ sent, total }) {
    const pct = total ? Math.floor((sent / total) * 100) : 100;
    bar.value = pct;
    barText.textContent = t("lib.progress", { sent: formatBytes(sent), total: formatBytes(total), pct });
  }

  function busy(on) {
    submit.disabled = on;
    cancelUpload.hidden = !on;
  }

  /** An interrupted upload: "Resume" (or "Stop" to give it up) instead of a new upload. */
  function interrupted(on) {
    resumeButton.hidden = !on;
    submit.hidden = on;
    if (on) cancelUpload.hidden = false;
  }

  async function run(step) {
    busy(true);
    interrupted(false);
    try {
      const doc = await step();
      const version = doc.version > 1;
      announce(t(version ? "lib.uploaded_version" : "lib.uploaded", { title: doc.title, n: doc.version }));
      replace(uploadResult, h("p", { class: "alert ok", id: "lib-done" }, t(version ? "lib.uploaded_version" : "lib.uploaded", { title: doc.title, n: doc.version })));
      current = null;
      resetForm();
      load(true);
    } catch (error) {
      if (current && current.state === "interrupted" && current.resumable) {
        interrupted(true);
        replace(uploadResult, h("p", { class: "alert warn", id: "lib-interrupted" }, t("lib.interrupted", { sent: formatBytes(current.offset), total: formatBytes(current.file.size) })));
      } else if (current && current.cancelled) {
        replace(uploadResult, h("p", { class: "alert warn" }, t("lib.cancelled")));
        progressBox.hidden = true;
        current = null;
      } else {
        replace(uploadResult, problemNode(error, { intro: t("lib.upload_failed") }));
        current = null;
      }
    } finally {
      busy(false);
      if (!resumeButton.hidden) cancelUpload.hidden = false; // an interrupted upload can be given up
    }
  }

  function resume() {
    if (!current) return;
    replace(uploadResult, h("p", { class: "muted" }, t("lib.resuming")));
    run(() => current.resume());
  }

  function stopUpload() {
    if (!current) return;
    const waiting = current.state === "interrupted";
    current.cancel(); // the server's part of it is removed
    if (waiting) {
      // nothing is running: give the upload up here
      current = null;
      interrupted(false);
      busy(false);
      progressBox.hidden = true;
      replace(uploadResult, h("p", { class: "alert warn" }, t("lib.cancelled")));
    }
  }

  // an interrupted upload goes on by itself when the connection comes back
  const onOnline = () => {
    if (current && current.state === "interrupted" && current.resumable) resume();
  };
  window.addEventListener("online", onOnline);
  ctx.onLeave(() => {
    window.removeEventListener("online", onOnline);
    if (current && current.state === "sending") current.cancel();
  });

  const uploadForm = h(
    "form",
    {
      class: "card upload-form",
      "aria-labelledby": "upload-h",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        replace(uploadResult);
        const missing = [];
        if (!chosen) missing.push([fileInput, t("lib.need_file")]);
        else if (!chosen.size) missing.push([fileInput, t("lib.empty_file")]);
        if (!title.value.trim()) missing.push([title, t("lib.need_title")]);
        if (!type.value) missing.push([type, t("lib.need_type")]);
        if (missing.length) {
          replace(uploadResult, h("div", { class: "alert error", role: "alert" }, h("ul", {}, missing.map(([, text]) => h("li", {}, text)))));
          missing[0][0].focus();
          return;
        }
        const meta = { title: title.value.trim(), description: description.value.trim(), language: language.value, document_date: date.value, type: type.value };
        current = new Upload({ party, file: chosen, meta, documentId: replacing ? replacing.id : null });
        current.addEventListener("progress", (e) => showProgress(e.detail));
        progressBox.hidden = false;
        showProgress({ sent: 0, total: chosen.size });
        const upload = current;
        run(() => upload.start());
      },
    },
    formHeading,
    h("p", { class: "help" }, t(resumable ? "lib.upload_help_resumable" : "lib.upload_help")),
    drop,
    h("div", { class: "field" }, h("label", { for: "lib-title" }, t("lib.title"), requiredStar()), title),
    h("div", { class: "field" }, h("label", { for: "lib-desc" }, t("lib.description")), description),
    h(
      "div",
      { class: "field-row" },
      h("div", { class: "field" }, h("label", { for: "lib-doctype" }, t("lib.type"), requiredStar()), type),
      h("div", { class: "field" }, h("label", { for: "lib-lang" }, t("lib.language")), language),
      h("div", { class: "field" }, h("label", { for: "lib-date" }, t("lib.date")), date),
    ),
    progressBox,
    uploadResult,
    h("p", { class: "actions" }, submit, " ", resumeButton, " ", cancelUpload, " ", cancelReplace),
  );

  const page = h(
    "div",
    { class: "library" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, t("nav.home"))),
    h("h1", {}, t("lib.heading", { party: name })),
    h("p", { class: "muted" }, t("lib.intro")),
    canWrite ? uploadForm : null,
    h("section", { class: "block", "aria-labelledby": "docs-h" }, h("h2", { id: "docs-h" }, t("lib.documents")), filters, errorBox, count, list, h("p", {}, more)),
  );
  await load(true);
  ctx.show(page, { title: t("lib.heading", { party: name }) });
}

function requiredStar() {
  return h("span", { class: "req" }, h("span", { "aria-hidden": "true" }, " *"), h("span", { class: "sr-only" }, ` (${t("required")})`));
}
