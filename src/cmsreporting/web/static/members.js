// A convention's membership: how many Parties are members today, the published lists it was
// taken from (address and date read), every membership with its dates; and, for the
// convention's secretariat and admins, the import of a new list after a preview of what it
// changes (PUT /conventions/{code}/memberships?dry_run=true, then without the dry run).

import { api, getAll } from "./api.js";
import { day, h, replace } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { announce, problemNode, rememberPartyNames, session } from "./shared.js";

const KINDS = ["added", "withdrawn", "changed", "removed"];

/** The body and content type of a chosen file: CSV, or JSON by its name or first character. */
async function readList(file) {
  const text = await file.text();
  const json = /\.json$/i.test(file.name) || /^\s*\{/.test(text);
  return { text, type: json ? "application/json" : "text/csv" };
}

async function sendList(code, list, dryRun) {
  return api.send("PUT", `conventions/${encodeURIComponent(code)}/memberships?dry_run=${dryRun}`, {
    headers: { "Content-Type": list.type },
    rawBody: list.text,
  });
}

/** The membership summary (from the first page) and every membership, page by page. */
async function loadMembership(code) {
  const items = [];
  let summary = null;
  let cursor = null;
  do {
    const page = await api.get(`conventions/${encodeURIComponent(code)}/memberships?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    summary = summary || page;
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return { summary, items };
}

export async function membersView(ctx, code) {
  const [convention, overview, parties] = await Promise.all([
    api.get(`conventions/${encodeURIComponent(code)}`),
    loadMembership(code),
    getAll(`parties?lang=${encodeURIComponent(getLang())}`),
  ]);
  rememberPartyNames(parties);
  const names = new Map(parties.map((p) => [p.iso3, p.name]));
  const label = (iso3) => names.get(iso3) || iso3;
  const { summary, items } = overview;
  const canImport = session.isAdmin || session.isSecretariat(code);

  const sources = summary.sources.length
    ? h(
        "ul",
        { class: "plain sources" },
        summary.sources.map((s) =>
          h(
            "li",
            {},
            s.url && /^https?:\/\//i.test(s.url) ? h("a", { href: s.url, rel: "noopener noreferrer", target: "_blank" }, s.name || s.url) : s.name || s.url || t("members.no_source"),
            s.read_on ? ` — ${t("members.read_on", { date: day(s.read_on) })}` : "",
            s.demo ? [" ", h("span", { class: "badge sev-warning" }, t("members.demo"))] : "",
            " ",
            h("span", { class: "muted small" }, `(${t("members.n_memberships", { n: s.memberships })})`),
          ),
        ),
      )
    : h("p", { class: "empty" }, t("members.none"));

  const table = items.length
    ? h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data members-table" },
          h("caption", { class: "sr-only" }, t("members.heading", { convention: code })),
          h("thead", {}, h("tr", {}, [t("col.party"), t("members.since"), t("members.withdrawn_on"), t("members.member"), t("members.source")].map((x) => h("th", { scope: "col" }, x)))),
          h(
            "tbody",
            {},
            items.map((m) =>
              h(
                "tr",
                { "data-party": m.party },
                h("th", { scope: "row" }, label(m.party), h("span", { class: "muted small" }, ` (${m.party})`)),
                h("td", {}, m.since ? day(m.since) : "—"),
                h("td", {}, m.withdrawn_on ? day(m.withdrawn_on) : "—"),
                h("td", {}, m.member ? t("yes") : t("no")),
                h("td", { class: "small" }, m.source_read_on ? t("members.read_on", { date: day(m.source_read_on) }) : m.demo ? t("members.demo") : "—"),
              ),
            ),
          ),
        ),
      )
    : null;

  const page = h(
    "div",
    { class: "members-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/?section=cycles" }, t("nav.cycles"))),
    h("h1", {}, t("members.heading", { convention: code })),
    h("p", { class: "muted" }, convention.name),
    h(
      "ul",
      { class: "totals", "aria-label": t("status.totals") },
      h("li", { id: "members-count" }, h("span", { class: "total-n" }, String(summary.members)), " ", t("members.count", { n: summary.members, date: day(summary.on) })),
      h("li", {}, h("span", { class: "total-n" }, String(summary.withdrawn)), " ", t("members.withdrawn", { n: summary.withdrawn })),
    ),
    h("section", { class: "block", "aria-labelledby": "src-h" }, h("h2", { id: "src-h" }, t("members.sources")), sources),
    canImport ? importPanel(code, label) : null,
    h("section", { class: "block", "aria-labelledby": "list-h" }, h("h2", { id: "list-h" }, t("members.list")), table || h("p", { class: "empty" }, t("members.none"))),
  );
  ctx.show(page, { title: t("members.heading", { convention: code }) });
}

function importPanel(code, label) {
  const input = h("input", { id: "members-file", type: "file", accept: ".csv,.json,text/csv,application/json", "aria-describedby": "members-help" });
  const errorBox = h("div", { id: "members-error", "aria-live": "assertive" });
  const previewBox = h("div", { id: "members-preview", "aria-live": "polite" });
  const previewButton = h("button", { type: "submit", class: "btn" }, t("members.preview"));
  let list = null;

  const apply = async (button) => {
    button.disabled = true;
    replace(errorBox);
    try {
      const done = await sendList(code, list, false);
      announce(t("members.applied", { n: KINDS.reduce((n, k) => n + done.totals[k], 0) }));
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      replace(errorBox, problemNode(error));
      button.disabled = false;
    }
  };

  const showPreview = (result) => {
    const changes = KINDS.reduce((n, k) => n + result.totals[k], 0);
    const applyButton = h("button", { type: "button", class: "btn primary", id: "members-apply", onclick: (e) => apply(e.currentTarget) }, t("members.apply", { n: changes }));
    replace(
      previewBox,
      h("h3", {}, t("members.preview_heading")),
      h(
        "ul",
        { class: "totals", "aria-label": t("members.preview_heading") },
        [...KINDS, "unchanged"].map((k) => h("li", { "data-kind": k }, h("span", { class: "total-n" }, String(result.totals[k])), " ", t(`members.kind.${k}`))),
      ),
      KINDS.filter((k) => result[k].length).map((k) =>
        h(
          "div",
          { class: `change-list kind-${k}` },
          h("h4", {}, t(`members.kind.${k}`)),
          h(
            "ul",
            { class: "plain" },
            result[k].map((c) => {
              const after = c.after || c;
              const dates = [after.since ? t("members.since_on", { date: day(after.since) }) : "", after.withdrawn_on ? t("members.withdrawn_since", { date: day(after.withdrawn_on) }) : ""].filter(Boolean).join(", ");
              return h("li", {}, h("strong", {}, label(c.party)), ` (${c.party})`, dates ? ` — ${dates}` : "");
            }),
          ),
        ),
      ),
      changes
        ? h("p", { class: "actions" }, applyButton)
        : h("p", { class: "empty", id: "members-nochange" }, t("members.nochange")),
    );
  };

  const form = h(
    "form",
    {
      class: "members-import",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errorBox);
        replace(previewBox);
        const file = input.files && input.files[0];
        if (!file) {
          replace(errorBox, h("p", { class: "alert error" }, t("members.choose")));
          input.focus();
          return;
        }
        previewButton.disabled = true;
        try {
          list = await readList(file);
          showPreview(await sendList(code, list, true));
        } catch (error) {
          replace(errorBox, problemNode(error));
        } finally {
          previewButton.disabled = false;
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "members-file" }, t("members.file")), input),
    h("p", { class: "help", id: "members-help" }, t("members.help")),
    h("p", {}, previewButton),
    errorBox,
  );
  return h("section", { class: "block card", "aria-labelledby": "imp-h" }, h("h2", { id: "imp-h" }, t("members.import")), form, previewBox);
}
