// The mapping workbench: the suggested pairs of two templates side by side, best first, each
// with both questions, their options and the evidence; accept with a relation and a transform
// (edited as an option grid, a unit scale or a column map), reject, or skip. Keyboard: A
// accepts, R rejects, J or S goes to the next pair, K to the previous one.

import { ApiError, api } from "./api.js";
import { h, refLabel, replace } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { announce, getTemplate, problemNode, walkTemplate } from "./shared.js";

const RELATIONS = ["exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch"];

/** question id -> {question, trail} of a template in the interface language. */
async function questionsOf(templateId) {
  const template = await getTemplate(templateId, getLang());
  return new Map(walkTemplate(template).map((x) => [x.question.id, x]));
}

const qid = (ref) => ref.split(":").slice(2).join(":");

function describe(entry) {
  if (!entry) return h("p", { class: "muted" }, "—");
  const { question, trail } = entry;
  const options = question.options || question.columns || [];
  return h(
    "div",
    { class: "wb-question" },
    h("p", { class: "muted small" }, trail.map((s) => s.title).join(" › ")),
    h("p", {}, h("span", { class: "q-num" }, question.id), " ", h("strong", {}, question.text)),
    h("p", { class: "small" }, t("wb.type", { type: question.type }), question.unit ? ` (${question.unit})` : ""),
    options.length ? h("ul", { class: "plain small" }, options.map((o) => h("li", {}, h("code", {}, o.code ?? o.id), " ", o.label ?? o.text ?? ""))) : null,
  );
}

/** An editor of a proposed transform; returns {root, value()}. */
function transformEditor(transform, from, to) {
  const source = from?.question;
  const target = to?.question;
  if (transform && transform.options && source && target) {
    const targets = target.type === "boolean" ? [{ code: true, label: t("yes") }, { code: false, label: t("no") }] : target.options || [];
    const keys = source.type === "boolean" ? ["true", "false"] : (source.options || []).map((o) => o.code);
    const selects = keys.map((key) => {
      const current = transform.options[key];
      const select = h(
        "select",
        { "aria-label": t("wb.maps_to", { code: key }) },
        h("option", { value: "" }, t("wb.no_equivalent")),
        targets.map((o, i) => h("option", { value: String(i), selected: current !== undefined && current === o.code }, `${o.code} ${o.label || ""}`)),
      );
      return [key, select];
    });
    return {
      root: h("table", { class: "data compact wb-grid" }, h("tbody", {}, selects.map(([key, select]) => h("tr", {}, h("th", { scope: "row" }, h("code", {}, key)), h("td", {}, "→ ", select))))),
      value() {
        const options = {};
        for (const [key, select] of selects) if (select.value !== "") options[key] = targets[Number(select.value)].code;
        return { options };
      },
    };
  }
  if (transform && "scale" in transform) {
    const scale = h("input", { type: "number", step: "any", value: String(transform.scale), "aria-label": t("wb.scale") });
    const offset = h("input", { type: "number", step: "any", value: String(transform.offset ?? 0), "aria-label": t("wb.offset") });
    return {
      root: h("p", {}, t("wb.scale"), " ", scale, " ", t("wb.offset"), " ", offset),
      value: () => ({ scale: Number(scale.value), offset: Number(offset.value) }),
    };
  }
  if (transform && transform.columns && target) {
    const columns = Object.entries(transform.columns).map(([column, spec]) => {
      const select = h(
        "select",
        { "aria-label": t("wb.maps_to", { code: column }) },
        h("option", { value: "" }, t("wb.no_equivalent")),
        (target.columns || []).map((c) => h("option", { value: c.id, selected: c.id === spec.to }, `${c.id} ${c.text || ""}`)),
      );
      return [column, spec, select];
    });
    return {
      root: h("table", { class: "data compact wb-grid" }, h("tbody", {}, columns.map(([column, , select]) => h("tr", {}, h("th", { scope: "row" }, h("code", {}, column)), h("td", {}, "→ ", select))))),
      value() {
        const out = {};
        for (const [column, spec, select] of columns) if (select.value) out[column] = { ...spec, to: select.value };
        return { columns: out };
      },
    };
  }
  const text = transform && Object.keys(transform).length ? JSON.stringify(transform) : t("wb.identity");
  return { root: h("p", { class: "small" }, text), value: () => transform || {} };
}

export async function workbenchView(ctx, from, to) {
  const minScore = Number(ctx.query.get("min") || "0.3");
  const found = await api.get(
    `crosswalk/suggestions?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=200&min_score=${minScore}`,
  );
  const [left, right] = await Promise.all([questionsOf(found.from.template_id), questionsOf(found.to.template_id)]);
  const sections = [...new Set(found.items.map((s) => left.get(qid(s.from_question))?.trail[0]?.title).filter(Boolean))];
  const cards = [];
  const list = h("ol", { class: "wb-list plain" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const sectionFilter = h("select", { id: "wb-section" }, h("option", { value: "" }, t("wb.all_sections")), sections.map((s) => h("option", { value: s }, s)));
  const statusFilter = h(
    "select",
    { id: "wb-status" },
    ["open", "accepted", "rejected", "all"].map((x) => h("option", { value: x }, t(`wb.status_${x}`))),
  );
  const scoreInput = h("input", { id: "wb-min", type: "number", min: "0", max: "1", step: "0.05", value: String(minScore) });
  scoreInput.addEventListener("change", () => {
    location.hash = `#/workbench/${encodeURIComponent(from)}/${encodeURIComponent(to)}?min=${scoreInput.value}`;
  });

  function applyFilters() {
    let shown = 0;
    for (const card of cards) {
      const okSection = !sectionFilter.value || card.section === sectionFilter.value;
      const okStatus = statusFilter.value === "all" || card.status === statusFilter.value;
      card.el.hidden = !(okSection && okStatus);
      if (!card.el.hidden) shown += 1;
    }
    count.textContent = t("wb.count", { n: shown });
  }
  sectionFilter.addEventListener("change", applyFilters);
  statusFilter.addEventListener("change", applyFilters);

  function focusCard(index) {
    const visible = cards.filter((c) => !c.el.hidden);
    if (!visible.length) return;
    const target = visible[Math.max(0, Math.min(index, visible.length - 1))];
    target.el.focus();
  }

  for (const suggestion of found.items) {
    const a = left.get(qid(suggestion.from_question));
    const b = right.get(qid(suggestion.to_question));
    const relation = h("select", { "aria-label": t("wb.relation") }, RELATIONS.map((r) => h("option", { value: r, selected: r === suggestion.relation }, r)));
    const editor = transformEditor(suggestion.transform, a, b);
    const message = h("p", { class: "wb-msg", "aria-live": "polite" });
    const card = { suggestion, status: "open", section: a?.trail[0]?.title || "" };
    const decide = async (kind) => {
      const body = { from_question: suggestion.from_question, to_question: suggestion.to_question, relation: relation.value };
      // the editor shows the pair's transform (from -> to). The new mapping links the question
      // without a concept to the other's concept, and its transform runs from that concept: an
      // edited transform is the mapping's own only when `to` takes the concept of `from` and
      // `from` carries that concept's values as they are; otherwise the service composes it.
      const edited = JSON.stringify(editor.value()) !== JSON.stringify(suggestion.transform || {});
      if (kind === "accept" && edited) {
        const [fromLinks, toLinks] = await Promise.all([
          api.get(`crosswalk/${encodeURIComponent(suggestion.from_question)}`),
          api.get(`crosswalk/${encodeURIComponent(suggestion.to_question)}`),
        ]);
        const through = fromLinks.concepts.find((c) => c.status === "approved");
        if (toLinks.concepts.length || !through || Object.keys(through.transform || {}).length) {
          replace(message, t("wb.edit_through_concept", { concept: through ? through.concept : "—" }));
          return;
        }
        body.transform = editor.value();
      }
      try {
        await api.post(`crosswalk/suggestions/${kind}`, body);
        card.status = kind === "accept" ? "accepted" : "rejected";
        card.el.dataset.status = card.status;
        replace(message, t(`wb.done_${kind}`));
        announce(t(`wb.done_${kind}`));
        const index = cards.filter((c) => !c.el.hidden).indexOf(card);
        applyFilters();
        focusCard(index);
      } catch (error) {
        replace(message, error instanceof ApiError ? problemNode(error) : String(error));
      }
    };
    card.el = h(
      "li",
      { class: "wb-card card", tabindex: "-1", dataset: { status: "open" }, "aria-label": t("wb.card", { from: suggestion.from_question, to: suggestion.to_question }) },
      h("p", { class: "wb-score" }, h("strong", {}, t("wb.score", { score: suggestion.score.toFixed(2) }))),
      h("div", { class: "wb-pair" }, describe(a), describe(b)),
      h("ul", { class: "small wb-reasons" }, suggestion.reasons.map((r) => h("li", {}, r))),
      h("div", { class: "field" }, h("label", {}, t("wb.relation"), " ", relation)),
      h("div", { class: "field" }, h("p", { class: "small" }, t("wb.transform")), editor.root),
      h(
        "p",
        { class: "actions" },
        h("button", { type: "button", class: "btn primary", onclick: () => decide("accept") }, t("wb.accept")),
        h("button", { type: "button", class: "btn", onclick: () => decide("reject") }, t("wb.reject")),
        h("button", { type: "button", class: "btn quiet", onclick: () => focusCard(cards.filter((c) => !c.el.hidden).indexOf(card) + 1) }, t("wb.skip")),
      ),
      message,
    );
    card.el.addEventListener("keydown", (event) => {
      if (event.target !== card.el || event.ctrlKey || event.metaKey || event.altKey) return;
      const index = cards.filter((c) => !c.el.hidden).indexOf(card);
      const key = event.key.toLowerCase();
      if (key === "a") decide("accept");
      else if (key === "r") decide("reject");
      else if (key === "j" || key === "s") focusCard(index + 1);
      else if (key === "k") focusCard(index - 1);
      else return;
      event.preventDefault();
    });
    cards.push(card);
    list.append(card.el);
  }
  const page = h(
    "div",
    { class: "workbench" },
    h("p", { class: "crumbs" }, h("a", { href: "#/coverage" }, t("coverage.heading")), " › ", h("a", { href: `#/coverage/${encodeURIComponent(from)}/${encodeURIComponent(to)}` }, t("coverage.pair", { from: refLabel(from), to: refLabel(to) }))),
    h("h1", {}, t("wb.heading", { from: refLabel(from), to: refLabel(to) })),
    h("p", {}, t("wb.intro")),
    h(
      "div",
      { class: "form-filters" },
      h("div", { class: "field" }, h("label", { for: "wb-section" }, t("wb.section")), sectionFilter),
      h("div", { class: "field" }, h("label", { for: "wb-status" }, t("wb.status")), statusFilter),
      h("div", { class: "field" }, h("label", { for: "wb-min" }, t("wb.min_score")), scoreInput),
      count,
    ),
    found.items.length ? list : h("p", { class: "empty" }, t("wb.none")),
  );
  ctx.show(page, { title: t("wb.heading", { from: refLabel(from), to: refLabel(to) }) });
  applyFilters();
}
