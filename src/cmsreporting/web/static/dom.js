// Small DOM helpers. Text always goes in as text nodes, never as HTML.

import { t } from "./i18n.js";
import { isAnswered } from "./logic.js";
import { formatNumber } from "./numbers.js";

/**
 * Create an element: h("button", {type: "button", onclick: fn, class: "x"}, "text", child).
 * Attributes that are false, null or undefined are left out; `true` sets an empty attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (strings, nodes, arrays of them; null and false are skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace the content of an element. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let counter = 0;
/** A unique element id. */
export function uid(prefix = "id") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A safe element id from an answer slot. */
export function slotId(slot) {
  return "q-" + slot.replace(/[^A-Za-z0-9_-]/g, (c) => "_" + c.charCodeAt(0).toString(16));
}

/** A date-time in the interface language. */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return isolated(
    date.toLocaleString(document.documentElement.lang || "en", {
      dateStyle: "medium",
      timeStyle: "short",
    }),
  );
}

/**
 * A right-to-left date set apart (first-strong isolate) so that it keeps its own order inside a
 * sentence shown in English, as the interface's texts are in Arabic.
 */
function isolated(text) {
  return document.documentElement.dir === "rtl" ? `\u2068${text}\u2069` : text;
}

/** A date (YYYY-MM-DD) in the interface language. */
export function day(iso) {
  if (!iso) return "";
  const date = new Date(iso + "T00:00:00");
  if (Number.isNaN(date.getTime())) return iso;
  return isolated(
    date.toLocaleDateString(document.documentElement.lang || "en", { dateStyle: "medium" }),
  );
}

function optionLabel(definition, code) {
  const option = (definition.options || []).find((o) => o.code === code);
  return option ? option.label : code;
}

/** A value as text, with option labels, units and yes/no in the interface language. */
export function formatValue(definition, value) {
  if (!isAnswered(value)) return t("value.none");
  const type = definition ? definition.type : typeof value;
  if (typeof value === "boolean") return value ? t("yes") : t("no");
  if (type === "single_choice") return optionLabel(definition, value);
  if (type === "multi_choice" && Array.isArray(value)) {
    return value.map((c) => optionLabel(definition, c)).join("; ");
  }
  if (type === "number" && typeof value === "number") {
    const number = formatNumber(value);
    return definition.unit ? `${number} ${definition.unit}` : number;
  }
  if (type === "date") return day(value);
  if (type === "table" && Array.isArray(value)) return t("value.rows", { n: value.length });
  if (type === "documents" && Array.isArray(value)) return t("value.documents", { n: value.length });
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A value as a node: tables become a small table, other values text. */
export function valueNode(definition, value) {
  if (definition && definition.type === "table" && Array.isArray(value) && value.length) {
    const cols = definition.columns || [];
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data compact" },
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c.text)))),
        h(
          "tbody",
          {},
          value.map((row) =>
            h(
              "tr",
              {},
              cols.map((c) => h("td", {}, isAnswered(row[c.id]) ? formatValue(c, row[c.id]) : "")),
            ),
          ),
        ),
      ),
    );
  }
  const text = formatValue(definition, value);
  return isAnswered(value) ? h("span", { class: "value" }, text) : h("span", { class: "muted" }, text);
}

/** "CMS:COP15" as "CMS COP15"; "CMS:COP15:I(a).3" as "CMS COP15 · I(a).3". */
export function refLabel(ref) {
  const [convention, cycle, ...rest] = ref.split(":");
  const head = cycle ? `${convention} ${cycle}` : convention;
  return rest.length ? `${head} · ${rest.join(":")}` : head;
}

/** Move keyboard focus to an element (made focusable if it is not) and bring it into view. */
export function focusElement(el) {
  if (!el) return;
  if (!el.matches("a, button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: "center" });
}
