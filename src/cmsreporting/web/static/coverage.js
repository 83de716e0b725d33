// What the crosswalk is worth: every pair of published templates as a heatmap of how much of one
// report answering the other fills (and how much more it only suggests), and, for one pair, each
// question of the receiving report with the link that fills or suggests it.

import { getAll, api } from "./api.js";
import { h, refLabel } from "./dom.js";
import { t } from "./i18n.js";

const percent = (share) => `${Math.round(share * 100)} %`;

/** The published templates' cycles, in a stable order. */
async function publishedCycles() {
  const templates = await getAll("templates?status=published");
  return [...new Set(templates.map((x) => x.cycle))].sort();
}

export async function coverageView(ctx) {
  const cycles = await publishedCycles();
  const pairs = cycles.flatMap((from) => cycles.filter((to) => to !== from).map((to) => [from, to]));
  const results = await Promise.all(
    pairs.map(([from, to]) =>
      api
        .get(`crosswalk/coverage?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)
        .then((x) => x.totals)
        .catch(() => null),
    ),
  );
  const totals = new Map(pairs.map(([from, to], i) => [`${from}|${to}`, results[i]]));
  const cell = (from, to) => {
    if (from === to) return h("td", { class: "heat self" }, h("span", { class: "sr-only" }, t("coverage.same")), "—");
    const found = totals.get(`${from}|${to}`);
    if (!found) return h("td", { class: "heat" }, "?");
    const suggested = found.questions ? found.suggestion_only / found.questions : 0;
    // the colour says how much is filled; the second line how much more is only suggested
    const td = h(
      "td",
      { class: "heat" },
      h(
        "a",
        {
          href: `#/coverage/${encodeURIComponent(from)}/${encodeURIComponent(to)}`,
          "aria-label": t("coverage.cell_label", { from: refLabel(from), to: refLabel(to), filled: percent(found.share_fillable), suggested: percent(suggested) }),
        },
        h("strong", {}, percent(found.share_fillable)),
        h("span", { class: "small" }, t("coverage.plus_suggested", { share: percent(suggested) })),
      ),
    );
    // set through the CSS object model: the page's content security policy refuses style attributes
    td.style.setProperty("--fill", `${Math.round(found.share_fillable * 100)}%`);
    td.style.setProperty("--hint", `${Math.round(suggested * 100)}%`);
    return td;
  };
  const table = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data heatmap" },
      h("caption", {}, t("coverage.caption")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("coverage.from_to")), cycles.map((to) => h("th", { scope: "col" }, refLabel(to))))),
      h(
        "tbody",
        {},
        cycles.map((from) => h("tr", {}, h("th", { scope: "row" }, refLabel(from)), cycles.map((to) => cell(from, to)))),
      ),
    ),
  );
  ctx.show(
    h("div", { class: "coverage-page" }, h("h1", {}, t("coverage.heading")), h("p", {}, t("coverage.intro")), table),
    { title: t("coverage.heading") },
  );
}

export async function coveragePairView(ctx, from, to) {
  const found = await api.get(`crosswalk/coverage?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  const totals = found.totals;
  const state = (row) => (row.fillable ? t("coverage.filled") : row.suggestion_only ? t("coverage.suggested") : t("coverage.unlinked"));
  ctx.show(
    h(
      "div",
      { class: "coverage-page" },
      h("p", { class: "crumbs" }, h("a", { href: "#/coverage" }, t("coverage.heading"))),
      h("h1", {}, t("coverage.pair", { from: refLabel(from), to: refLabel(to) })),
      h("p", {}, h("a", { class: "btn primary", href: `#/workbench/${encodeURIComponent(from)}/${encodeURIComponent(to)}` }, t("coverage.review"))),
      h(
        "p",
        {},
        t("coverage.pair_totals", {
          filled: totals.fillable,
          suggested: totals.suggestion_only,
          unlinked: totals.unlinked,
          total: totals.questions,
          share: percent(totals.share_fillable),
        }),
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data" },
          h(
            "thead",
            {},
            h("tr", {}, [t("coverage.col_question", { to: refLabel(to) }), t("coverage.col_state"), t("coverage.col_relation"), t("coverage.col_from", { from: refLabel(from) })].map((x) => h("th", { scope: "col" }, x))),
          ),
          h(
            "tbody",
            {},
            found.questions.map((row) =>
              h(
                "tr",
                { class: `cov-${row.fillable ? "filled" : row.suggestion_only ? "suggested" : "unlinked"}` },
                h("th", { scope: "row" }, h("span", { class: "q-num" }, row.question)),
                h("td", {}, state(row)),
                h("td", {}, row.relation || "—", row.concept ? h("span", { class: "muted small" }, ` (${row.concept})`) : null),
                h("td", {}, row.from_question ? h("span", { class: "q-num" }, row.from_question) : "—"),
              ),
            ),
          ),
        ),
      ),
    ),
    { title: t("coverage.pair", { from: refLabel(from), to: refLabel(to) }) },
  );
}
