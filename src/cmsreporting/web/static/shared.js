// State and helpers shared by the pages: the signed-in user, announcements, problems.

import { ApiError, api, download } from "./api.js";
import { h, refLabel, valueNode } from "./dom.js";
import { getLang, t } from "./i18n.js";

const partyNames = new Map();

/** A Party's name in the interface language (its code when it cannot be read). */
export function partyName(code) {
  const key = `${getLang()}:${code}`;
  if (!partyNames.has(key)) {
    partyNames.set(
      key,
      api
        .get(`parties/${encodeURIComponent(code)}?lang=${encodeURIComponent(getLang())}`)
        .then((p) => p.name)
        .catch(() => code),
    );
  }
  return partyNames.get(key);
}

/** Remember names read in a list of Parties (asked for in the interface language). */
export function rememberPartyNames(parties) {
  for (const p of parties) partyNames.set(`${getLang()}:${p.iso3}`, Promise.resolve(p.name));
}

/** Who is signed in and what they may do. */
export const session = {
  me: null,
  get roles() {
    return this.me ? this.me.roles : [];
  },
  get isAdmin() {
    return this.roles.some((r) => r.role === "admin");
  },
  get isReviewer() {
    return this.roles.some((r) => r.role === "reviewer");
  },
  /** Parties the user is a focal point of. */
  get parties() {
    return [...new Set(this.roles.filter((r) => r.role === "focal_point" && r.party).map((r) => r.party))];
  },
  /** Conventions the user is a focal point of for a Party. */
  focalConventions(party) {
    return this.roles.filter((r) => r.role === "focal_point" && r.party === party).map((r) => r.convention);
  },
  /** Uses a Party's workspaces whole (admins, its focal points). */
  isFocalOf(party) {
    return this.isAdmin || this.roles.some((r) => r.role === "focal_point" && r.party === party);
  },
  /** Works only in the sections of a Party's workspaces assigned to them. */
  isContributorOnly(party) {
    return !this.isFocalOf(party) && this.roles.some((r) => r.role === "contributor" && r.party === party);
  },
  canSubmit(party, convention) {
    return this.isAdmin || this.focalConventions(party).includes(convention);
  },
  /** Conventions the user is the secretariat of. */
  get secretariatOf() {
    return this.roles.filter((r) => r.role === "secretariat" && r.convention).map((r) => r.convention);
  },
  isSecretariat(convention) {
    return this.isAdmin || this.secretariatOf.includes(convention);
  },
};

/** Say something to screen reader users at once. */
export function announce(text) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  setTimeout(() => (announcer.textContent = text), 50);
}

/** A problem (API error) as a block of text with its field errors. */
export function problemNode(error, { intro } = {}) {
  let detail = error.message || String(error);
  if (!(error instanceof ApiError)) detail = t("error.network");
  const items = error instanceof ApiError ? error.errors.filter((e) => e.detail) : [];
  return h(
    "div",
    { class: "alert error", role: "alert" },
    intro ? h("p", { class: "alert-title" }, intro) : null,
    h("p", {}, detail),
    items.length ? h("ul", {}, items.slice(0, 20).map((e) => h("li", {}, e.pointer ? `${e.pointer}: ${e.detail}` : e.detail))) : null,
  );
}

/** A status as a coloured badge with its name. */
export function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, t(`status.${status}`));
}

// --- templates and reports -------------------------------------------------------------------

const templates = new Map();

/** A template with its labels in one language (cached: published templates never change). */
export async function getTemplate(id, lang) {
  const key = `${id}|${lang}`;
  if (!templates.has(key)) {
    templates.set(
      key,
      api.get(`templates/${id}?lang=${encodeURIComponent(lang)}`).catch((error) => {
        templates.delete(key);
        throw error;
      }),
    );
  }
  return templates.get(key);
}

/** Every question of a template in order, with the sections it sits in. */
export function walkTemplate(template) {
  const out = [];
  const walk = (sections, trail) => {
    for (const section of sections || []) {
      const path = [...trail, section];
      for (const question of section.questions || []) out.push({ trail: path, question });
      walk(section.sections, path);
    }
  };
  walk(template.sections, []);
  return out;
}

function issueWhere(issue, question) {
  const parts = [];
  if (issue.row !== undefined) parts.push(t("issue.row", { n: issue.row + 1 }));
  if (issue.column !== undefined) {
    const column = (question?.columns || []).find((c) => c.id === issue.column);
    parts.push(column ? column.text : issue.column);
  }
  return parts.join(", ");
}

/**
 * The issues of a report as a list; each links to its question when `linkFor(qid)` gives an
 * address.
 */
export function issuesList(template, issues, { linkFor = () => null } = {}) {
  const byId = new Map(walkTemplate(template).map((x) => [x.question.id, x.question]));
  const sorted = [...issues].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
  return h(
    "ul",
    { class: "issues" },
    sorted.map((issue) => {
      const question = byId.get(issue.question);
      const href = linkFor(issue.question);
      const name = [h("span", { class: "q-num" }, issue.question), question ? ` ${question.text}` : ""];
      const where = issueWhere(issue, question);
      return h(
        "li",
        { class: `issue ${issue.severity}` },
        h("span", { class: `badge sev-${issue.severity}` }, t(`severity.${issue.severity}`)),
        " ",
        href ? h("a", { href }, name) : h("span", {}, name),
        h("span", { class: "issue-msg" }, " — ", where ? `${where}: ` : "", issue.message),
      );
    }),
  );
}

/**
 * A report's values in the template's order with where each came from: `report` holds values,
 * provenance and optionally hidden, suggestions, divergences, needs_direct_answer and issues.
 */
export function reportTable(template, report, { linkFor = () => null, level = 3, comments = [] } = {}) {
  const remarks = new Map();
  for (const c of comments) if (c.question) remarks.set(c.question, [...(remarks.get(c.question) || []), c]);
  const hidden = new Set(report.hidden || []);
  const needsDirect = new Set(report.needs_direct_answer || []);
  const divergences = new Map((report.divergences || []).map((d) => [d.question, d]));
  const errors = new Set((report.issues || []).filter((i) => i.severity === "error").map((i) => i.question));
  const wrap = h("div", { class: "report" });
  let currentTop = null;
  let tbody = null;
  for (const { trail, question } of walkTemplate(template)) {
    const top = trail[0];
    if (top !== currentTop) {
      currentTop = top;
      tbody = h("tbody");
      wrap.append(
        h(
          "section",
          { class: "report-section" },
          h(`h${level}`, {}, top.title),
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "data report-table" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col", class: "col-num" }, t("col.number")),
                  h("th", { scope: "col", class: "col-q" }, t("col.question")),
                  h("th", { scope: "col", class: "col-a" }, t("col.answer")),
                  h("th", { scope: "col", class: "col-src" }, t("col.source")),
                ),
              ),
              tbody,
            ),
          ),
        ),
      );
    }
    const qid = question.id;
    const href = linkFor(qid);
    const source = report.provenance?.[qid];
    let sourceNode;
    if (hidden.has(qid)) sourceNode = h("span", { class: "muted" }, t("prov.hidden"));
    else if (source && source.startsWith("concept:")) {
      sourceNode = h("span", { class: "badge shared", title: source }, t("prov.shared"));
    } else if (source && source.startsWith("reused:")) {
      const from = source.slice("reused:".length);
      sourceNode = h("span", { class: "badge own", title: source }, t("prov.reused", { source: from.startsWith("concept:") ? t("prov.shared") : refLabel(from) }));
    } else if (source === "native") {
      sourceNode = h("span", { class: "badge own" }, t("prov.native"));
    } else sourceNode = h("span", { class: "muted" }, "—");
    const notes = [];
    if (divergences.has(qid)) {
      notes.push(h("p", { class: "note small" }, t("prov.divergence", { value: valueNode(question, divergences.get(qid).concept_value).textContent })));
    }
    if (needsDirect.has(qid)) notes.push(h("p", { class: "note small warn" }, t("prov.direct")));
    const suggestion = report.suggestions?.[qid];
    if (suggestion) {
      notes.push(h("p", { class: "note small" }, t("prov.suggestion", { value: valueNode(question, suggestion.value).textContent })));
    }
    for (const c of remarks.get(qid) || []) {
      notes.push(h("p", { class: `note small q-remark kind-${c.kind}` }, h("strong", {}, `${c.author.replace(/^user:/, "")}, v${c.version}: `), c.body));
    }
    const sub = trail.length > 1 ? h("span", { class: "muted small sub-sec" }, trail.slice(1).map((s) => s.title).join(" › ")) : null;
    tbody.append(
      h(
        "tr",
        { class: [hidden.has(qid) ? "is-hidden" : "", errors.has(qid) ? "has-error" : ""].join(" ").trim() || null },
        h("th", { scope: "row", class: "col-num" }, href ? h("a", { href, "aria-label": t("goto.question", { q: qid }) }, qid) : qid),
        h("td", { class: "col-q" }, sub, question.text, question.required ? h("span", { class: "req" }, h("span", { "aria-hidden": "true" }, " *"), h("span", { class: "sr-only" }, ` (${t("required")})`)) : null),
        h("td", { class: "col-a" }, hidden.has(qid) ? h("span", { class: "muted" }, "—") : valueNode(question, report.values?.[qid]), notes),
        h("td", { class: "col-src" }, sourceNode),
      ),
    );
  }
  return wrap;
}

/** Buttons that download a submission in each export format. */
export function exportButtons(submission, lang, { onError } = {}) {
  return h(
    "span",
    { class: "exports" },
    ["json", "csv", "xlsx", "html", "pdf"].map((format) =>
      h(
        "button",
        {
          type: "button",
          class: "btn small",
          "aria-label": t("export.one", { format: format.toUpperCase(), what: `${refLabel(submission.cycle)} v${submission.version}` }),
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            try {
              await download(`/api/v1/submissions/${submission.id}/export?format=${format}&lang=${encodeURIComponent(lang)}`);
            } catch (error) {
              if (onError) onError(error);
            } finally {
              button.disabled = false;
            }
          },
        },
        format.toUpperCase(),
      ),
    ),
  );
}
