// Pure helpers mirrored from the server: is_answered (reporting/validation.py), evaluate
// (reporting/projection.py) and apply (crosswalk/transforms.py). No DOM, no network.

/** Marker: the transform cannot carry this value (the server's NO_IMAGE). */
export const NO_IMAGE = Symbol("no-image");

/** A value counts as an answer unless it is null, blank text or an empty list. */
export function isAnswered(value) {
  if (value === null || value === undefined) return false;
  if (typeof value === "string") return value.trim() !== "";
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** Deep equality of JSON values (object keys in any order). */
export function sameJson(a, b) {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) {
    return (a ?? null) === (b ?? null);
  }
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (typeof a === "object") {
    if (Array.isArray(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]));
  }
  return false;
}

// a boolean answer only equals a boolean (True == 1 in Python, not here, but keep the rule)
function same(a, b) {
  return typeof a === "boolean" ? typeof b === "boolean" && a === b : sameJson(a, b);
}

/** Whether a visible_if condition holds; `lookup(questionId)` gives the visible value. */
export function evaluate(condition, lookup) {
  if ("all" in condition) return condition.all.every((c) => evaluate(c, lookup));
  if ("any" in condition) return condition.any.some((c) => evaluate(c, lookup));
  if ("not" in condition) return !evaluate(condition.not, lookup);
  const value = lookup(condition.question);
  if ("answered" in condition) return isAnswered(value) === Boolean(condition.answered);
  if (!isAnswered(value)) return false;
  if ("equals" in condition) return same(value, condition.equals);
  if ("in" in condition) return condition.in.some((option) => same(value, option));
  if ("contains" in condition) return Array.isArray(value) && value.includes(condition.contains);
  return false;
}

function codes(definition) {
  return (definition.options || []).map((o) => o.code);
}

function order(selected, definition) {
  const all = codes(definition);
  const rank = (c) => (all.includes(c) ? all.indexOf(c) : all.length);
  return [...new Set(selected)].sort((a, b) => rank(a) - rank(b));
}

function columns(definition) {
  return Object.fromEntries((definition.columns || []).map((c) => [c.id, c]));
}

function requireColumns(rows, target) {
  const required = (target.columns || []).filter((c) => c.required).map((c) => c.id);
  for (const row of rows) {
    if (required.some((id) => !isAnswered(row[id]))) return NO_IMAGE;
  }
  return rows;
}

function identity(value, target) {
  const type = target.type;
  if (type === "single_choice") return codes(target).includes(value) ? value : NO_IMAGE;
  if (type === "multi_choice") {
    if (!Array.isArray(value) || value.some((v) => !codes(target).includes(v))) return NO_IMAGE;
    return order(value, target);
  }
  if (type === "table") {
    if (!Array.isArray(value)) return NO_IMAGE;
    const cols = columns(target);
    const rows = [];
    for (const row of value) {
      if (row === null || typeof row !== "object" || Array.isArray(row)) return NO_IMAGE;
      const out = {};
      for (const [id, cell] of Object.entries(row)) {
        if (id in cols && cell !== null && cell !== undefined) {
          const carried = identity(cell, cols[id]);
          if (carried === NO_IMAGE) return NO_IMAGE;
          out[id] = carried;
        }
      }
      rows.push(out);
    }
    return requireColumns(rows, target);
  }
  return value;
}

function transformKind(transform) {
  if (!transform || Object.keys(transform).length === 0) return "identity";
  if ("options" in transform) return "options";
  if ("columns" in transform) return "columns";
  return "number";
}

/** The native value of a concept value through a mapping's transform, or NO_IMAGE. */
export function applyTransform(transform, value, source, target) {
  const kind = transformKind(transform);
  if (kind === "identity") return identity(value, target);
  if (kind === "options") {
    const map = transform.options;
    if (source.type === "multi_choice") {
      if (!Array.isArray(value) || value.some((v) => !(v in map))) return NO_IMAGE;
      return order(
        value.map((v) => map[v]),
        target,
      );
    }
    const key = typeof value === "boolean" ? String(value) : value;
    if (typeof key !== "string" || !Object.hasOwn(map, key)) return NO_IMAGE;
    return map[key];
  }
  if (kind === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) return NO_IMAGE;
    const scale = transform.scale ?? 1;
    const offset = transform.offset ?? 0;
    // display only: the server computes exactly with fractions
    return Number((value * scale + offset).toPrecision(15));
  }
  if (!Array.isArray(value)) return NO_IMAGE;
  const sCols = columns(source);
  const tCols = columns(target);
  const rows = [];
  for (const row of value) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) return NO_IMAGE;
    const out = {};
    for (const [id, spec] of Object.entries(transform.columns)) {
      const cell = row[id];
      if (cell === null || cell === undefined) continue;
      const carried = applyTransform(spec.transform || {}, cell, sCols[id], tCols[spec.to]);
      if (carried === NO_IMAGE) return NO_IMAGE;
      out[spec.to] = carried;
    }
    rows.push(out);
  }
  return requireColumns(rows, target);
}

// Python's re.search and JavaScript's RegExp agree on the simple patterns templates use; a
// pattern JavaScript cannot read is left to the server
function patternFails(pattern, value) {
  try {
    return !new RegExp(pattern, "u").test(value);
  } catch {
    return false;
  }
}

/**
 * Client-side checks of one value against its definition, for immediate feedback; the server
 * checks again. Returns a message key and its parameters, or null when the value fits.
 */
export function checkValue(definition, value) {
  if (!isAnswered(value)) return null;
  const type = definition.type;
  if (type === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) return ["check.number", {}];
    if (definition.integer && !Number.isInteger(value)) return ["check.integer", {}];
    if (definition.min !== undefined && value < definition.min) {
      return ["check.min", { min: definition.min }];
    }
    if (definition.max !== undefined && value > definition.max) {
      return ["check.max", { max: definition.max }];
    }
  }
  if (type === "text" && definition.max_length !== undefined) {
    if (value.length > definition.max_length) return ["check.length", { n: definition.max_length }];
  }
  if (type === "text" && definition.pattern !== undefined && patternFails(definition.pattern, value)) {
    return ["check.pattern", {}];
  }
  if (type === "multi_choice") {
    if (definition.min_selected !== undefined && value.length < definition.min_selected) {
      return ["check.min_selected", { n: definition.min_selected }];
    }
    if (definition.max_selected !== undefined && value.length > definition.max_selected) {
      return ["check.max_selected", { n: definition.max_selected }];
    }
  }
  if (type === "table") {
    if (definition.min_rows !== undefined && value.length < definition.min_rows) {
      return ["check.min_rows", { n: definition.min_rows }];
    }
    if (definition.max_rows !== undefined && value.length > definition.max_rows) {
      return ["check.max_rows", { n: definition.max_rows }];
    }
    for (const [index, row] of value.entries()) {
      for (const column of definition.columns || []) {
        const cell = row[column.id];
        if (!isAnswered(cell)) {
          if (column.required) {
            return ["check.cell_required", { row: index + 1, column: column.text }];
          }
          continue;
        }
        const problem = checkValue(column, cell);
        if (problem) return ["check.cell", { row: index + 1, column: column.text, problem }];
      }
    }
  }
  return null;
}

/**
 * Rows carry a stable id under the reserved key "@id" (never a column id: "@" is not allowed
 * in one). A row gets it when it is created (here, or on the server for a row sent without
 * one), and keeps it through saves, drafts and reloads, so that two edits of one table merge
 * by row. The server leaves it out of reports, previews, submissions and exports.
 */
export const ROW_ID = "@id";

/** A new row id. */
export function newRowId() {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

const isRow = (row) => row !== null && typeof row === "object" && !Array.isArray(row);

/** A table value whose every row has an id (rows that have one keep it); other values as they are. */
export function withRowIds(value) {
  if (!Array.isArray(value) || !value.every(isRow) || value.every((row) => typeof row[ROW_ID] === "string")) return value;
  return value.map((row) => (typeof row[ROW_ID] === "string" ? row : { [ROW_ID]: newRowId(), ...row }));
}

/** A table value without its row ids (what a report holds); other values as they are. */
export function withoutRowIds(value) {
  if (!Array.isArray(value) || !value.every(isRow) || !value.some((row) => ROW_ID in row)) return value;
  return value.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== ROW_ID)));
}

/**
 * Whether `stored` is the value `sent` as the server keeps it: the same, but for the ids the
 * server gave to rows sent without one (a draft kept from before rows had ids).
 */
export function sameSaved(sent, stored) {
  if (sameJson(sent, stored)) return true;
  if (!Array.isArray(sent) || !Array.isArray(stored) || sent.length !== stored.length) return false;
  return sent.every((row, i) => isRow(row) && isRow(stored[i]) && sameJson(row, ROW_ID in row ? stored[i] : withoutRowIds([stored[i]])[0]));
}

/**
 * Three-way merge of a table's rows by their ids: `base` (the stored rows an edit started from),
 * `mine` and `theirs` (saved meanwhile). Rows added on either side are all kept (theirs in their
 * order, then mine); a row removed on one side and unchanged on the other is removed; a row
 * changed on one side only takes that change; a row changed on both sides (differently) is a
 * clash, kept in their version and listed to be shown side by side; a row removed on one side
 * but changed on the other is kept changed (nothing typed is lost). Rows stored before rows had
 * ids are known by their content. Returns {rows, clashes: [{base, mine, theirs}]}.
 */
export function mergeRows(base, mine, theirs) {
  const keyed = (rows) => {
    const seen = new Map();
    return (rows || []).map((row) => {
      if (typeof row[ROW_ID] === "string") return [row[ROW_ID], row];
      const content = `content:${JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k]]))}`;
      const n = seen.get(content) || 0;
      seen.set(content, n + 1);
      return [`${content}#${n}`, row];
    });
  };
  const before = new Map(keyed(base));
  const mineRows = keyed(mine);
  const minePlace = new Map(mineRows);
  const theirRows = keyed(theirs);
  const theirPlace = new Map(theirRows);
  const rows = [];
  const clashes = [];
  for (const [key, their] of theirRows) {
    const was = before.get(key);
    const my = minePlace.get(key);
    if (!was) rows.push(their); // added there
    else if (!my) {
      if (!sameJson(their, was)) rows.push(their); // removed here, changed there: kept
    } else {
      const changedHere = !sameJson(my, was);
      const changedThere = !sameJson(their, was);
      if (changedHere && changedThere && !sameJson(my, their)) {
        clashes.push({ base: was, mine: my, theirs: their });
        rows.push(their);
      } else rows.push(changedHere ? my : their);
    }
  }
  for (const [key, my] of mineRows) {
    if (theirPlace.has(key)) continue;
    const was = before.get(key);
    if (!was || !sameJson(my, was)) rows.push(my); // added here, or changed here and removed there
  }
  return { rows, clashes };
}
