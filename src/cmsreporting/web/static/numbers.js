// Numbers and dates as the user reads and types them. A number is shown and typed with the
// decimal and group separators of the user's locale (learned from Intl.NumberFormat), and stored
// as the canonical JSON number. Text the field cannot read exactly is refused, never guessed.

import { getLang } from "./i18n.js";

/** The locale of numbers: the browser's own variant of the interface language (fr-CH for fr). */
export function numberLocale() {
  const lang = getLang();
  for (const tag of navigator.languages || [navigator.language || ""]) {
    if (tag && tag.slice(0, 2).toLowerCase() === lang) {
      try {
        return Intl.NumberFormat.supportedLocalesOf([tag]).length ? tag : lang;
      } catch {
        return lang;
      }
    }
  }
  return lang;
}

const SPACES = /[\s\u00a0\u202f]/;

/** The decimal and group separators of a locale. */
export function separators(locale = numberLocale()) {
  const parts = new Intl.NumberFormat(locale).formatToParts(1234567.5);
  const decimal = parts.find((p) => p.type === "decimal")?.value ?? ".";
  const group = parts.find((p) => p.type === "group")?.value ?? "";
  return { decimal, group };
}

/** Digits and exponent of a plain decimal ("-0012.500" -> {negative, digits: "125", point: 2}). */
function decimalParts(text) {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match) return null;
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  let digits = whole + fraction;
  let point = whole.length + Number(exponent);
  const lead = digits.length - digits.replace(/^0+/, "").length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, "");
  if (!digits) return { negative: false, digits: "", point: 0 };
  return { negative: sign === "-", digits, point };
}

/**
 * Read what the user typed. Returns {value} (a finite number, or null when empty) or
 * {error: [message key, params]} when the text is not exactly one number in this locale.
 */
export function parseNumber(text, { integer = false, locale = numberLocale() } = {}) {
  const { decimal, group } = separators(locale);
  const raw = String(text ?? "").trim();
  if (raw === "") return { value: null };
  const example = formatNumber(integer ? 12345 : 12345.5, locale);
  const refuse = (key = "number.unreadable") => ({ error: [key, { example }] });
  let rest = raw;
  let negative = false;
  if (/^[-\u2212+]/.test(rest)) {
    negative = rest[0] !== "+";
    rest = rest.slice(1).trim();
  }
  const groupIsSpace = group !== "" && SPACES.test(group);
  const isGroup = (c) => (groupIsSpace ? SPACES.test(c) : c === group);
  // the locale's decimal separator; a point also reads as one where it means nothing else
  const isDecimal = (c) => c === decimal || (c === "." && group !== "." && !isGroup(c));
  let whole = "";
  let fraction = null;
  const groups = [];
  let chunk = "";
  for (const c of rest) {
    if (/[0-9]/.test(c)) {
      if (fraction !== null) fraction += c;
      else chunk += c;
    } else if (fraction === null && isDecimal(c)) {
      fraction = "";
    } else if (fraction === null && isGroup(c)) {
      groups.push(chunk);
      chunk = "";
    } else {
      return refuse();
    }
  }
  groups.push(chunk);
  // groups of three digits after the first (1 to 3 digits), or no grouping at all
  if (groups.length > 1) {
    const [first, ...others] = groups;
    if (!/^\d{1,3}$/.test(first) || others.some((g) => !/^\d{3}$/.test(g))) return refuse();
  }
  whole = groups.join("");
  if (whole === "" && !fraction) return refuse();
  if (fraction === "") return refuse(); // "12," is a number still being typed
  if (integer && fraction !== null) return refuse("number.integer");
  const canonical = `${negative ? "-" : ""}${whole || "0"}${fraction ? `.${fraction}` : ""}`;
  const value = Number(canonical);
  if (!Number.isFinite(value)) return refuse("number.too_long");
  // exactly the typed digits: the JSON number sent must read back as what was typed
  const typed = decimalParts(canonical);
  const stored = decimalParts(String(value));
  if (!stored || typed.digits !== stored.digits || (typed.digits && typed.point !== stored.point)) {
    return refuse("number.too_long");
  }
  return { value: Object.is(value, -0) ? 0 : value };
}

/** A stored number in the user's locale, with all of its significant digits and no more. */
export function formatNumber(value, locale = numberLocale()) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value ?? "");
  let precision = 1;
  while (precision < 17 && Number(value.toPrecision(precision)) !== value) precision += 1;
  // grouped from five digits on, so that a year stays 2013
  const useGrouping = Math.abs(value) >= 10000;
  return new Intl.NumberFormat(locale, { maximumSignificantDigits: precision, useGrouping }).format(value);
}

/** A valid ISO date (YYYY-MM-DD) that exists in the calendar, or false. */
export function isIsoDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}
