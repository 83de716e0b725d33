// Secretariat pages: a cycle's status table and a submission with its comment thread and
// decision. Focal points open the same submission page to read the thread and answer it.

import { ApiError, api, download, getAll } from "./api.js";
import { day, h, refLabel, replace, valueNode, when } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { citedSection } from "./picker.js";
import {
  announce,
  exportButtons,
  getTemplate,
  issuesList,
  partyName,
  problemNode,
  rememberPartyNames,
  reportTable,
  session,
  statusBadge,
  walkTemplate,
} from "./shared.js";

// --- cycle status ----------------------------------------------------------------------------

export async function statusView(ctx, ref) {
  const convention = ref.split(":")[0];
  const [cycle, status] = await Promise.all([api.get(`cycles/${encodeURIComponent(ref)}`), api.get(`cycles/${encodeURIComponent(ref)}/status`)]);
  // the members on the due date, by name; a Party that has withdrawn since is looked up alone
  const parties = await getAll(`parties?convention=${encodeURIComponent(convention)}&on=${encodeURIComponent(cycle.due_on)}&lang=${encodeURIComponent(getLang())}`);
  rememberPartyNames(parties);
  const names = new Map(parties.map((p) => [p.iso3, p.name]));
  for (const row of status.parties) if (!names.has(row.party)) names.set(row.party, await partyName(row.party));
  const totals = status.totals;
  const errorBox = h("div", { "aria-live": "polite" });
  const order = ["not_started", "in_progress", "submitted", "returned", "accepted"];
  const exportButton = (label, query) =>
    h(
      "button",
      {
        type: "button",
        class: "btn small",
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          replace(errorBox);
          try {
            await download(`/api/v1/cycles/${encodeURIComponent(ref)}/export?${query}&lang=${getLang()}`);
          } catch (error) {
            replace(errorBox, problemNode(error));
          } finally {
            button.disabled = false;
          }
        },
      },
      label,
    );
  const page = h(
    "div",
    { class: "status-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/?section=cycles" }, t("nav.cycles"))),
    h("h1", {}, t("status.heading", { cycle: refLabel(ref) })),
    h("p", { class: "muted" }, cycle.title, " — ", t("due", { date: day(status.due_on) }), status.past_due ? [" ", h("span", { class: "badge sev-error" }, t("status.past_due"))] : null),
    h("p", { class: "muted" }, t("status.members", { n: status.totals.members, date: day(status.due_on) }), " ", h("a", { href: `#/members/${encodeURIComponent(convention)}` }, t("status.membership"))),
    h(
      "ul",
      { class: "totals", "aria-label": t("status.totals") },
      h("li", {}, h("span", { class: "total-n" }, String(totals.parties)), " ", t("status.parties", { n: totals.parties })),
      order.map((key) => h("li", {}, h("span", { class: "total-n" }, String(totals[key] || 0)), " ", statusBadge(key))),
      h("li", {}, h("span", { class: "total-n" }, String(totals.late || 0)), " ", t("status.late")),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data status-table" },
        h("caption", { class: "sr-only" }, t("status.heading", { cycle: refLabel(ref) })),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [t("col.party"), t("col.status"), t("col.progress"), t("col.version"), t("col.submitted"), t("col.actions")].map((x) => h("th", { scope: "col" }, x)),
          ),
        ),
        h(
          "tbody",
          {},
          status.parties.map((row) => {
            let progress = "—";
            if (row.status === "in_progress") {
              const share = Math.round((row.share_answered || 0) * 100);
              progress = h(
                "span",
                { class: "progress-cell" },
                h("progress", { max: "100", value: String(share), "aria-label": t("status.progress_label", { party: names.get(row.party) || row.party }) }),
                " ",
                t("status.required", { done: row.required_answered, total: row.required_total }),
              );
            }
            return h(
              "tr",
              { "data-party": row.party },
              h("th", { scope: "row" }, names.get(row.party) || row.party, h("span", { class: "muted small" }, ` (${row.party})`), row.member === false ? [" ", h("span", { class: "badge sev-warning" }, t("status.not_member"))] : null),
              h("td", {}, statusBadge(row.status), row.late ? [" ", h("span", { class: "badge sev-error" }, t("status.late_one"))] : null),
              h("td", {}, progress),
              h("td", {}, row.version ? `v${row.version}` : "—"),
              h("td", {}, row.submitted_at ? when(row.submitted_at) : "—"),
              h(
                "td",
                {},
                row.submission_id
                  ? h("a", { href: `#/s/${row.submission_id}`, class: "btn small" }, t("status.open"), h("span", { class: "sr-only" }, ` ${names.get(row.party) || row.party}`))
                  : "",
              ),
            );
          }),
        ),
      ),
    ),
    h(
      "section",
      { class: "block", "aria-labelledby": "cyc-exp" },
      h("h2", { id: "cyc-exp" }, t("status.exports")),
      h("p", { class: "muted" }, t("status.exports_help")),
      h(
        "p",
        { class: "exports" },
        exportButton(t("status.export_long"), "format=csv&layout=long"),
        exportButton(t("status.export_wide"), "format=csv&layout=wide"),
        exportButton("XLSX", "format=xlsx"),
        exportButton("JSONL", "format=jsonl"),
      ),
      errorBox,
    ),
  );
  ctx.show(page, { title: t("status.heading", { cycle: refLabel(ref) }) });
}

// --- one submission --------------------------------------------------------------------------

export async function submissionView(ctx, id) {
  const lang = getLang();
  const submission = await api.get(`submissions/${id}`);
  const [template, name, comments, diff, versions] = await Promise.all([
    getTemplate(submission.template_id, lang),
    partyName(submission.party),
    api.get(`submissions/${id}/comments`).catch((error) => (error instanceof ApiError && error.status === 403 ? null : Promise.reject(error))),
    submission.version > 1 ? api.get(`submissions/${id}/diff`).catch(() => null) : Promise.resolve(null),
    getAll(`submissions?party=${encodeURIComponent(submission.party)}&cycle=${encodeURIComponent(submission.cycle)}`).catch(() => []),
  ]);
  const questions = new Map(walkTemplate(template).map((x) => [x.question.id, x.question]));
  const canDecide = session.isSecretariat(submission.convention) && submission.status === "submitted";
  const page = h("div", { class: "submission-page" });
  const errorBox = h("div", { "aria-live": "polite" });

  page.append(
    h("p", { class: "crumbs" }, session.isSecretariat(submission.convention) || session.isReviewer ? h("a", { href: `#/cycles/${encodeURIComponent(submission.cycle)}` }, t("status.heading", { cycle: refLabel(submission.cycle) })) : h("a", { href: `#/w/${submission.workspace_id}/submit` }, t("subs.back"))),
    h("div", { class: "block-head" }, h("h1", {}, t("sub.heading", { party: name, cycle: refLabel(submission.cycle), v: submission.version })), statusBadge(submission.status)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("col.submitted")),
      h("dd", {}, when(submission.submitted_at), " — ", submission.submitted_by.replace(/^user:/, "")),
      submission.decided_at ? [h("dt", {}, t("col.decided")), h("dd", {}, when(submission.decided_at), " — ", (submission.decided_by || "").replace(/^user:/, ""))] : null,
      versions.length > 1
        ? [
            h("dt", {}, t("sub.versions")),
            h(
              "dd",
              { class: "versions" },
              versions
                .slice()
                .sort((a, b) => a.version - b.version)
                .map((v, i) => [
                  i ? " · " : "",
                  v.id === submission.id
                    ? h("span", { "aria-current": "page" }, `v${v.version} (${t("sub.this_version")}) `, statusBadge(v.status))
                    : h("a", { href: `#/s/${v.id}` }, `v${v.version} `, statusBadge(v.status)),
                ]),
            ),
          ]
        : null,
      h("dt", {}, t("sub.template")),
      h("dd", {}, template.title, ` — ${t("version")} ${submission.template_version}`),
      h("dt", {}, t("col.exports")),
      h("dd", {}, exportButtons(submission, lang, { onError: (error) => replace(errorBox, problemNode(error)) }), " ", packageButton(submission, lang, errorBox)),
    ),
    errorBox,
  );

  if (canDecide) page.append(decisionPanel(submission));

  if (comments) page.append(commentThread(submission, comments, questions));

  if (diff) {
    page.append(
      h(
        "section",
        { class: "block", "aria-labelledby": "diff-h" },
        h("h2", { id: "diff-h" }, t("sub.diff", { v: diff.from.version })),
        diff.changes.length
          ? h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { class: "data" },
                h("thead", {}, h("tr", {}, [t("col.question"), t("sub.before"), t("sub.after")].map((x) => h("th", { scope: "col" }, x)))),
                h(
                  "tbody",
                  {},
                  diff.changes.map((c) =>
                    h(
                      "tr",
                      {},
                      h("th", { scope: "row" }, h("span", { class: "q-num" }, c.question), " ", questions.get(c.question)?.text || ""),
                      h("td", {}, valueNode(questions.get(c.question), c.before)),
                      h("td", {}, valueNode(questions.get(c.question), c.after)),
                    ),
                  ),
                ),
              ),
            )
          : h("p", { class: "empty" }, t("sub.nochange")),
      ),
    );
  }

  if (submission.issues.length) {
    page.append(h("section", { class: "block", "aria-labelledby": "sub-issues" }, h("h2", { id: "sub-issues" }, t("sub.issues")), issuesList(template, submission.issues)));
  }
  page.append(h("section", { class: "block", "aria-labelledby": "sub-values" }, h("h2", { id: "sub-values" }, t("sub.values")), reportTable(template, submission, { comments: comments || [] })));
  page.append(citedSection(submission.documents || [], 2));
  ctx.show(page, { title: t("sub.heading", { party: name, cycle: refLabel(submission.cycle), v: submission.version }) });
}

/** The submission's package: the report and every document it cites, in one ZIP. */
function packageButton(submission, lang, errorBox) {
  return h(
    "button",
    {
      type: "button",
      class: "btn small package",
      "aria-label": t("docs.package_label", { what: `${refLabel(submission.cycle)} v${submission.version}` }),
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          await download(`/api/v1/submissions/${submission.id}/package?lang=${encodeURIComponent(lang)}`);
        } catch (error) {
          replace(errorBox, problemNode(error));
        } finally {
          button.disabled = false;
        }
      },
    },
    t("docs.package"),
  );
}

function decisionPanel(submission) {
  const comment = h("textarea", { id: "decision-comment", rows: 4, maxlength: 20000, "aria-describedby": "decision-help decision-error" });
  const errorBox = h("div", { id: "decision-error", "aria-live": "assertive" });
  const decide = async (decision, button) => {
    replace(errorBox);
    const text = comment.value.trim();
    if (decision === "return" && !text) {
      replace(errorBox, h("p", { class: "alert error" }, t("decide.need_comment")));
      comment.setAttribute("aria-invalid", "true");
      comment.focus();
      return;
    }
    button.disabled = true;
    try {
      await api.post(`submissions/${submission.id}/${decision}`, { comment: text || null });
      announce(t(`decide.done_${decision}`));
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      replace(errorBox, problemNode(error));
      button.disabled = false;
    }
  };
  const accept = h("button", { type: "button", class: "btn primary", onclick: (e) => decide("accept", e.currentTarget) }, t("decide.accept"));
  const ret = h("button", { type: "button", class: "btn danger", onclick: (e) => decide("return", e.currentTarget) }, t("decide.return"));
  return h(
    "section",
    { class: "block card decision", "aria-labelledby": "decide-h" },
    h("h2", { id: "decide-h" }, t("decide.heading")),
    h("div", { class: "field" }, h("label", { for: "decision-comment" }, t("decide.comment")), comment),
    h("p", { class: "help", id: "decision-help" }, t("decide.help")),
    errorBox,
    h("p", { class: "actions" }, accept, " ", ret),
  );
}

function commentThread(submission, comments, questions) {
  const list = h("ol", { class: "thread" });
  const render = (c) =>
    h(
      "li",
      { class: `comment kind-${c.kind}` },
      h(
        "p",
        { class: "comment-meta" },
        h("strong", {}, c.author.replace(/^user:/, "")),
        " ",
        c.kind !== "comment" ? h("span", { class: `badge kind-${c.kind}` }, t(`kind.${c.kind}`)) : null,
        " ",
        h("span", { class: "muted small" }, when(c.created_at), ` · v${c.version}`),
        c.question ? [" · ", h("span", { class: "q-num" }, c.question), " ", h("span", { class: "muted small" }, questions.get(c.question)?.text?.slice(0, 80) || "")] : null,
      ),
      h("p", { class: "comment-body" }, c.body),
    );
  for (const c of comments) list.append(render(c));
  const empty = h("p", { class: "empty" }, t("thread.empty"));
  empty.hidden = comments.length > 0;
  const body = h("textarea", { id: "comment-body", rows: 3, maxlength: 20000 });
  const about = h(
    "select",
    { id: "comment-q" },
    h("option", { value: "" }, t("thread.general")),
    [...questions.values()].map((q) => h("option", { value: q.id }, `${q.id} — ${q.text.slice(0, 70)}`)),
  );
  const errorBox = h("div", { "aria-live": "assertive" });
  const post = h("button", { type: "submit", class: "btn" }, t("thread.post"));
  const formEl = h(
    "form",
    {
      class: "comment-form",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(errorBox);
        if (!body.value.trim()) {
          replace(errorBox, h("p", { class: "alert error" }, t("thread.empty_error")));
          body.focus();
          return;
        }
        post.disabled = true;
        try {
          const made = await api.post(`submissions/${submission.id}/comments`, { body: body.value, question: about.value || null });
          list.append(render(made));
          empty.hidden = true;
          body.value = "";
          about.value = "";
          announce(t("thread.posted"));
          body.focus();
        } catch (error) {
          replace(errorBox, problemNode(error));
        } finally {
          post.disabled = false;
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "comment-body" }, t("thread.add")), body),
    h("div", { class: "field" }, h("label", { for: "comment-q" }, t("thread.about")), about),
    errorBox,
    h("p", {}, post),
  );
  return h("section", { class: "block", "aria-labelledby": "thread-h" }, h("h2", { id: "thread-h" }, t("thread.heading")), empty, list, formEl);
}


