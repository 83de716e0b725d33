// The form's filters: show only unanswered, required, commented or erroneous questions, and
// search the questions' numbers and texts. They read what the form marks on each question
// (data-answered, data-required, data-error, the comments beside it) and never change a value.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const FILTERS = {
  all: () => true,
  unanswered: (el) => el.dataset.answered !== "true",
  required: (el) => el.dataset.required === "true" && el.dataset.answered !== "true",
  errors: (el) => el.dataset.error === "true",
  comments: (el) => Boolean(el.querySelector(".q-remarks")),
};

/** Lower case, without accents, for matching what people type against question texts. */
export function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/**
 * A toolbar that filters the questions rendered in `container`. `otherTexts()` may resolve to a
 * Map of slot -> the question's texts in the template's other languages, so a search finds a
 * question by its words in any language the template carries.
 */
export function formFilters(container, { otherTexts = null } = {}) {
  const select = h(
    "select",
    { id: "form-filter" },
    Object.keys(FILTERS).map((key) => h("option", { value: key }, t(`filter.${key}`))),
  );
  const search = h("input", { type: "search", id: "form-search", autocomplete: "off", placeholder: t("filter.search_hint") });
  const count = h("p", { class: "filter-count muted small", "aria-live": "polite" });
  const texts = new WeakMap();
  let others = null; // slot -> folded texts in other languages, once loaded
  let loading = null;

  function textOf(el) {
    if (!texts.has(el)) {
      const own = fold(el.querySelector(".q-label")?.textContent || el.textContent);
      const slots = [...el.querySelectorAll(".field-wrap[data-slot], [data-feed]")].map((x) => x.dataset.slot || x.dataset.feed);
      const extra = others ? slots.map((slot) => others.get(slot) || "").join(" ") : "";
      texts.set(el, `${own} ${extra}`);
    }
    return texts.get(el);
  }

  function apply() {
    const keep = FILTERS[select.value] || FILTERS.all;
    const words = fold(search.value).split(/\s+/).filter(Boolean);
    const filtering = select.value !== "all" || words.length > 0;
    let shown = 0;
    for (const section of container.querySelectorAll(".form-section")) {
      let any = false;
      for (const el of section.querySelectorAll(":scope > .q")) {
        // the question being typed in stays, even when its answer takes it out of the filter
        const match = el.contains(document.activeElement) || (keep(el) && words.every((word) => textOf(el).includes(word)));
        el.classList.toggle("filtered-out", filtering && !match);
        if (match && !el.hidden) {
          any = true;
          shown += 1;
        }
      }
      section.classList.toggle("filtered-out", filtering && !any);
    }
    count.textContent = filtering ? t("filter.count", { n: shown }) : "";
  }

  select.addEventListener("change", apply);
  search.addEventListener("input", () => {
    apply();
    if (otherTexts && !others && !loading && search.value.trim()) {
      loading = otherTexts()
        .then((found) => {
          others = new Map([...found].map(([slot, text]) => [slot, fold(text)]));
          for (const el of container.querySelectorAll(".q")) texts.delete(el);
          apply();
        })
        .catch(() => {
          loading = null; // asked again at the next search
        });
    }
  });
  container.addEventListener("completeness", apply);
  return {
    root: h(
      "div",
      { class: "form-filters", role: "search" },
      h("div", { class: "field" }, h("label", { for: "form-filter" }, t("filter.show")), select),
      h("div", { class: "field" }, h("label", { for: "form-search" }, t("filter.search")), search),
      count,
    ),
    apply,
  };
}
