// The merged form of a workspace (GET /workspaces/{id}/form): sections, a control for each
// question type, conditions evaluated as the user types, and the reports each shared answer
// feeds. Values are read from and written to a Saver (autosave.js).

import { formatValue, focusElement, h, refLabel, replace, slotId, uid, when } from "./dom.js";
import { t } from "./i18n.js";
import { announce } from "./shared.js";
import { NO_IMAGE, ROW_ID, applyTransform, checkValue, evaluate, isAnswered, mergeRows, newRowId, sameJson, withRowIds, withoutRowIds } from "./logic.js";
import { formatNumber, isIsoDate, parseNumber } from "./numbers.js";
import { citationBox, documentsControl, setLibraryParty } from "./picker.js";

const RADIO_LIMIT = 7; // more options than this: a select

// --- the model -------------------------------------------------------------------------------

/** Index the form: each slot's definition and, per cycle, each question and what feeds it. */
export function buildModel(form) {
  const definitions = new Map(); // slot -> definition
  const questions = new Map(); // cycle -> Map(qid -> {def, slot, feed})
  const cycleQuestions = (cycle) => {
    if (!questions.has(cycle)) questions.set(cycle, new Map());
    return questions.get(cycle);
  };
  for (const item of form.items) {
    if (item.kind === "concept") {
      definitions.set(item.slot, item.concept);
      for (const feed of item.feeds) {
        definitions.set(feed.slot, feed.question_definition);
        cycleQuestions(feed.cycle).set(feed.question, {
          def: feed.question_definition,
          slot: feed.slot,
          feed: { conceptSlot: item.slot, conceptDef: item.concept, transform: feed.transform },
        });
      }
    } else {
      definitions.set(item.slot, item.definition);
      cycleQuestions(item.cycle).set(item.question, { def: item.definition, slot: item.slot });
    }
  }
  return { form, definitions, questions };
}

/** The slot that holds the answer to a question of a cycle in this form (concept or native). */
export function formSlotOf(model, cycle, qid) {
  const question = model.questions.get(cycle)?.get(qid);
  if (!question) return null;
  return question.feed ? question.feed.conceptSlot : question.slot;
}

/**
 * What the reports would see, as projection.py computes it: each question's value (its own
 * answer, else the shared answer through the mapping's transform) and whether it is visible.
 */
export function projector(model, valueOf) {
  const rawMemo = new Map();
  const visibleMemo = new Map();
  const raw = (cycle, qid) => {
    const key = `${cycle}\u0000${qid}`;
    if (rawMemo.has(key)) return rawMemo.get(key);
    const question = model.questions.get(cycle)?.get(qid);
    let value = null;
    if (question) {
      const native = valueOf(question.slot);
      if (isAnswered(native)) value = native;
      else if (question.feed) {
        const shared = valueOf(question.feed.conceptSlot);
        if (isAnswered(shared)) {
          const derived = applyTransform(question.feed.transform, shared, question.feed.conceptDef, question.def);
          if (derived !== NO_IMAGE) value = derived;
        }
      }
    }
    rawMemo.set(key, value);
    return value;
  };
  const visible = (cycle, qid) => {
    const key = `${cycle}\u0000${qid}`;
    if (visibleMemo.has(key)) return visibleMemo.get(key);
    visibleMemo.set(key, true); // a cycle of conditions cannot happen (templates are checked)
    const question = model.questions.get(cycle)?.get(qid);
    let shown = true;
    if (question && question.def.visible_if) {
      const here = model.questions.get(cycle);
      shown = evaluate(question.def.visible_if, (ref) =>
        here.has(ref) && visible(cycle, ref) ? raw(cycle, ref) : null,
      );
    }
    visibleMemo.set(key, shown);
    return shown;
  };
  return { raw, visible };
}

/** Why a value cannot be sent yet (client checks), as [message key, params], or null. */
export function holdReason(model, slot, value) {
  const definition = model.definitions.get(slot);
  return definition ? checkValue(definition, value) : null;
}

export function explain(reason) {
  if (!reason) return "";
  const [key, params] = reason;
  if (key === "check.cell") {
    return t("check.cell", { row: params.row, column: params.column, problem: explain(params.problem) });
  }
  return t(key, params);
}

// --- controls --------------------------------------------------------------------------------

function requiredMark(def) {
  if (def.required) return h("span", { class: "req" }, h("span", { "aria-hidden": "true" }, " *"), h("span", { class: "sr-only" }, ` (${t("required")})`));
  if (def.recommended) return h("span", { class: "rec" }, ` (${t("recommended")})`);
  return null;
}

/**
 * A control for one definition. Returns {root, get, set, bad, focusTarget}: get() is the value
 * to save (null when empty), bad() why the typed text is unreadable (or null).
 */
export function control(def, { id, label, describedBy, onChange }) {
  const type = def.type;
  const change = () => onChange();
  if (type === "boolean" || type === "single_choice" || type === "multi_choice") {
    return choiceControl(def, { id, label, describedBy, change });
  }
  if (type === "table") return tableControl(def, { id, label, describedBy, change });
  if (type === "documents") return documentsControl(def, { id, label, describedBy, change });
  let input;
  const described = describedBy || null;
  if (type === "number") {
    input = numberInput(def, {
      id,
      "aria-describedby": described,
      "aria-required": def.required ? "true" : null,
      oninput: change,
    });
  } else if (type === "date") {
    input = h("input", { id, type: "date", "aria-describedby": described, "aria-required": def.required ? "true" : null, oninput: change });
  } else {
    const long = !def.max_length || def.max_length > 300;
    input = h(long ? "textarea" : "input", {
      id,
      type: long ? null : "text",
      rows: long ? 3 : null,
      maxlength: def.max_length,
      "aria-describedby": described,
      "aria-required": def.required ? "true" : null,
      oninput: change,
    });
  }
  const unit = def.unit ? h("span", { class: "unit", id: `${id}-unit` }, def.unit) : null;
  if (unit) input.setAttribute("aria-describedby", [described, `${id}-unit`].filter(Boolean).join(" "));
  const root = h(
    "div",
    { class: "field" },
    h("label", { for: id, class: "q-label" }, label, requiredMark(def)),
    h("div", { class: "input-row" }, input, unit),
  );
  return { root, focusTarget: input, ...inputValue(def, input) };
}

/**
 * A number typed as text in the user's locale (decimal comma where it is one, grouping), not
 * an <input type=number>, whose reading of "412,75" depends on the browser.
 */
function numberInput(def, attrs) {
  return h("input", {
    ...attrs,
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    spellcheck: "false",
    class: "num",
  });
}

/**
 * get/set/bad of a plain input by the type of its definition: get() is the value to store,
 * never a guess; bad() why the text typed cannot be read (and marks the input aria-invalid);
 * raw()/setRaw() the text itself, kept as a draft while it cannot be read.
 */
function inputValue(def, input) {
  const type = def.type;
  const problem = () => {
    if (type === "number") {
      const read = parseNumber(input.value, { integer: Boolean(def.integer) });
      return read.error ? t(...read.error) : null;
    }
    if (type === "date") {
      if (input.validity.badInput || (input.value !== "" && !isIsoDate(input.value))) return t("check.date");
    }
    return null;
  };
  return {
    get() {
      if (type === "number") {
        const read = parseNumber(input.value, { integer: Boolean(def.integer) });
        return read.error ? null : read.value;
      }
      if (type === "date") return isIsoDate(input.value) ? input.value : null;
      return input.value === "" ? null : input.value;
    },
    set(value) {
      if (value === null || value === undefined) input.value = "";
      else input.value = type === "number" && typeof value === "number" ? formatNumber(value) : String(value);
      problem() ? input.setAttribute("aria-invalid", "true") : input.removeAttribute("aria-invalid");
    },
    bad() {
      const why = problem();
      if (why) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      return why;
    },
    raw: () => (type === "number" ? input.value : null),
    setRaw(text) {
      if (type === "number") input.value = text;
    },
  };
}

function choiceOptions(def) {
  if (def.type === "boolean") {
    return [
      { code: true, label: t("yes") },
      { code: false, label: t("no") },
    ];
  }
  return def.options || [];
}

function choiceControl(def, { id, label, describedBy, change }) {
  const multi = def.type === "multi_choice";
  const options = choiceOptions(def);
  if (!multi && options.length > RADIO_LIMIT) {
    const select = h(
      "select",
      { id, "aria-describedby": describedBy || null, "aria-required": def.required ? "true" : null, onchange: change },
      h("option", { value: "" }, t("choose")),
      options.map((o, i) => h("option", { value: String(i) }, o.label)),
    );
    return {
      root: h("div", { class: "field" }, h("label", { for: id, class: "q-label" }, label, requiredMark(def)), select),
      focusTarget: select,
      get: () => (select.value === "" ? null : options[Number(select.value)].code),
      set(value) {
        const index = options.findIndex((o) => o.code === value);
        select.value = index < 0 ? "" : String(index);
      },
      bad: () => null,
    };
  }
  const name = `${id}-opt`;
  const inputs = options.map((o, i) =>
    h("input", {
      type: multi ? "checkbox" : "radio",
      name,
      id: `${id}-${i}`,
      value: String(i),
      onchange: change,
    }),
  );
  const clear = multi
    ? null
    : h(
        "button",
        {
          type: "button",
          class: "link small clear",
          onclick: () => {
            for (const input of inputs) input.checked = false;
            change();
            inputs[0].focus();
          },
        },
        t("clear"),
      );
  const legendId = `${id}-legend`;
  const root = h(
    "fieldset",
    {
      class: `field choice ${def.type === "boolean" ? "inline" : ""}`,
      id,
      "aria-describedby": describedBy || null,
      role: !multi && def.required ? "radiogroup" : null,
      "aria-required": !multi && def.required ? "true" : null,
    },
    h("legend", { class: "q-label", id: legendId }, label, requiredMark(def)),
    h(
      "div",
      { class: "options" },
      options.map((o, i) => h("div", { class: "option" }, inputs[i], h("label", { for: `${id}-${i}` }, o.label))),
      clear,
    ),
  );
  const api = {
    root,
    focusTarget: inputs[0],
    get() {
      const chosen = options.filter((_, i) => inputs[i].checked).map((o) => o.code);
      if (multi) return chosen.length ? chosen : null;
      return chosen.length ? chosen[0] : null;
    },
    set(value) {
      options.forEach((o, i) => {
        inputs[i].checked = multi ? Array.isArray(value) && value.includes(o.code) : value === o.code;
      });
      if (clear) clear.hidden = value === null || value === undefined;
    },
    bad: () => null,
  };
  if (clear) root.addEventListener("change", () => (clear.hidden = api.get() === null));
  return api;
}

function cellControl(column, { id, label, change, stacked = false, long = false }) {
  const type = column.type;
  if (stacked) {
    // a row shown as a card: each cell gets a visible label tied to its control
    const inner = cellControl(column, { id, label, change, stacked: false, long: true });
    const named = type === "multi_choice" ? inner.root : null;
    if (!named) inner.focusTarget.removeAttribute("aria-label");
    const labelled =
      type === "multi_choice"
        ? inner.root
        : h(
            "div",
            { class: "field" },
            h("label", { for: id }, column.text, column.unit ? h("span", { class: "unit" }, ` (${column.unit})`) : null, requiredMark(column)),
            inner.root,
          );
    if (named) {
      const legend = named.querySelector("legend");
      legend.className = "";
      legend.replaceChildren(column.text, requiredMark(column));
    }
    const help = column.help ? h("p", { class: "help", id: `${id}-help` }, column.help) : null;
    if (help) (named || inner.focusTarget).setAttribute("aria-describedby", `${id}-help`);
    return { ...inner, root: h("div", { class: "stacked-cell" }, labelled, help) };
  }
  if (type === "multi_choice") {
    const options = column.options || [];
    const inputs = options.map((o, i) => h("input", { type: "checkbox", id: `${id}-${i}`, onchange: change }));
    return {
      root: h(
        "fieldset",
        { class: "cell-choices" },
        h("legend", { class: "sr-only" }, label),
        options.map((o, i) => h("div", { class: "option" }, inputs[i], h("label", { for: `${id}-${i}` }, o.label))),
      ),
      focusTarget: inputs[0],
      get() {
        const chosen = options.filter((_, i) => inputs[i].checked).map((o) => o.code);
        return chosen.length ? chosen : null;
      },
      set(value) {
        options.forEach((o, i) => (inputs[i].checked = Array.isArray(value) && value.includes(o.code)));
      },
      bad: () => null,
    };
  }
  if (type === "boolean" || type === "single_choice") {
    const options = choiceOptions(column);
    const select = h(
      "select",
      { id, "aria-label": label, onchange: change },
      h("option", { value: "" }, "—"),
      options.map((o, i) => h("option", { value: String(i) }, o.label)),
    );
    return {
      root: select,
      focusTarget: select,
      get: () => (select.value === "" ? null : options[Number(select.value)].code),
      set(value) {
        const index = options.findIndex((o) => o.code === value);
        select.value = index < 0 ? "" : String(index);
      },
      bad: () => null,
    };
  }
  if (type === "text" && ((long && !(column.max_length <= 300)) || isEssay(column))) {
    const area = h("textarea", { id, "aria-label": label, rows: 2, maxlength: column.max_length, oninput: change });
    return {
      root: area,
      focusTarget: area,
      get: () => (area.value === "" ? null : area.value),
      set(value) {
        area.value = value === null || value === undefined ? "" : String(value);
      },
      bad: () => null,
    };
  }
  const input =
    type === "number"
      ? numberInput(column, { id, "aria-label": label, oninput: change })
      : h("input", {
          id,
          "aria-label": label,
          type: type === "date" ? "date" : "text",
          maxlength: column.max_length,
          oninput: change,
        });
  return { root: input, focusTarget: input, ...inputValue(column, input), raw: () => null };
}

/** A text column meant for paragraphs rather than a name, a number or a link. */
function isEssay(column) {
  return column.type === "text" && (!column.max_length || column.max_length > 2000);
}

function tableControl(def, { id, label, describedBy, change }) {
  const columns = def.columns || [];
  // many columns or long texts: each row is a card of labelled fields rather than a grid line
  const stacked = columns.length > 5 || columns.filter(isEssay).length > 1;
  let rows = []; // [{id, cells: [{column, control}]}]: each row keeps its stable id
  const body = stacked ? h("div", { class: "row-cards" }) : h("tbody");
  const empty = h("p", { class: "muted small" }, t("table.empty"));
  const add = h(
    "button",
    {
      type: "button",
      class: "btn small",
      onclick: () => {
        build([...current(), {}]);
        change();
        rows[rows.length - 1].cells[0].control.focusTarget.focus();
      },
    },
    h("span", { "aria-hidden": "true" }, "+ "),
    t("table.add"),
  );
  function current() {
    return rows.map((row) => {
      const out = { [ROW_ID]: row.id };
      for (const { column, control } of row.cells) {
        const value = control.get();
        if (isAnswered(value)) out[column.id] = value;
      }
      return out;
    });
  }
  function build(values) {
    rows = [];
    body.replaceChildren();
    values.forEach((rowValue, index) => {
      const n = index + 1;
      const cells = columns.map((column) => {
        const control = cellControl(column, {
          id: `${id}-r${n}-${column.id}`,
          label: `${column.text} — ${t("table.row", { n })}`,
          change,
          stacked,
        });
        control.set(rowValue[column.id] ?? null);
        return { column, control };
      });
      const remove = h(
        "button",
        {
          type: "button",
          class: "btn small quiet",
          "aria-label": t("table.remove_n", { n }),
          onclick: () => {
            const next = current();
            next.splice(index, 1);
            build(next);
            change();
            const target = rows[Math.min(index, rows.length - 1)];
            (target ? target.cells[0].control.focusTarget : add).focus();
          },
        },
        t("table.remove"),
      );
      if (stacked) {
        body.append(
          h(
            "fieldset",
            { class: "row-card" },
            h("legend", {}, t("table.row_n", { n })),
            cells.map((c) => c.control.root),
            h("p", { class: "row-actions" }, remove),
          ),
        );
      } else {
        body.append(
          h(
            "tr",
            {},
            h("th", { scope: "row", class: "rownum" }, String(n)),
            cells.map((c) => h("td", { class: `cell-${c.column.type}` }, c.control.root)),
            h("td", {}, remove),
          ),
        );
      }
      rows.push({ id: typeof rowValue[ROW_ID] === "string" ? rowValue[ROW_ID] : newRowId(), cells });
    });
    empty.hidden = values.length > 0;
    add.disabled = def.max_rows !== undefined && values.length >= def.max_rows;
  }
  const legendId = `${id}-legend`;
  let grid;
  if (stacked) {
    grid = body;
  } else {
    const head = h(
      "tr",
      {},
      h("th", { scope: "col", class: "rownum" }, h("span", { class: "sr-only" }, t("table.row_header")), "#"),
      columns.map((c) =>
        h(
          "th",
          { scope: "col", title: c.help || null },
          c.text,
          c.unit ? h("span", { class: "unit" }, ` (${c.unit})`) : null,
          requiredMark(c),
        ),
      ),
      h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("table.actions"))),
    );
    grid = h(
      "div",
      { class: "table-wrap", role: "group", "aria-labelledby": legendId },
      h("table", { class: "data editable" }, h("thead", {}, head), body),
    );
  }
  const root = h(
    "fieldset",
    { class: "field table-q", id, "aria-describedby": describedBy || null },
    h("legend", { class: "q-label", id: legendId }, label, requiredMark(def)),
    grid,
    empty,
    h("div", { class: "table-actions" }, add, def.max_rows ? h("span", { class: "muted small" }, t("table.max", { n: def.max_rows })) : null),
  );
  // rows copied from a spreadsheet (tab-separated) fill the table from the cell pasted into;
  // every cell is read as its column reads typed text, and nothing changes unless all read
  const pasteMsg = h("p", { class: "paste-msg warn-text", role: "alert" });
  pasteMsg.hidden = true;
  root.append(pasteMsg);
  root.addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text/plain") ?? "";
    if (!/[\t\n]/.test(text.replace(/\r?\n$/, ""))) return; // one cell: the field takes it
    event.preventDefault();
    let startRow = rows.length;
    let startCol = 0;
    rows.forEach((row, r) =>
      row.cells.forEach((cell, c) => {
        if (cell.control.root.contains(event.target)) [startRow, startCol] = [r, c];
      }),
    );
    const lines = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n");
    const next = current();
    const problems = [];
    lines.forEach((line, i) => {
      const cellsText = line.split("\t");
      if (startCol + cellsText.length > columns.length) {
        problems.push(t("paste.columns", { row: i + 1, n: cellsText.length, max: columns.length - startCol }));
        return;
      }
      const target = { ...(next[startRow + i] || {}) };
      cellsText.forEach((cellText, j) => {
        const column = columns[startCol + j];
        const read = readCell(column, cellText);
        if (read.error) problems.push(t("paste.cell", { row: i + 1, column: column.text, problem: read.error }));
        else if (read.value === null) delete target[column.id];
        else target[column.id] = read.value;
      });
      next[startRow + i] = target;
    });
    if (def.max_rows !== undefined && next.length > def.max_rows) problems.unshift(t("paste.rows", { n: def.max_rows }));
    pasteMsg.hidden = problems.length === 0;
    pasteMsg.textContent = problems.length ? `${t("paste.refused")} ${problems.slice(0, 5).join(" ")}` : "";
    if (problems.length) return;
    build(next);
    change();
    announce(t("paste.done", { n: lines.length }));
  });
  build([]);
  return {
    root,
    get focusTarget() {
      return rows.length ? rows[0].cells[0].control.focusTarget : add;
    },
    get() {
      const value = current();
      return value.length ? value : null;
    },
    set(value) {
      build(Array.isArray(value) ? value : []);
    },
    bad() {
      for (const [index, row] of rows.entries()) {
        for (const { column, control } of row.cells) {
          const problem = control.bad();
          if (problem) return t("check.cell", { row: index + 1, column: column.text, problem });
        }
      }
      return null;
    },
  };
}

/**
 * A pasted cell's text read as its column reads typed text: {value} (null for empty) or {error}.
 * Numbers in the user's locale, choices by label or code, several choices separated by `;`.
 */
export function readCell(column, text) {
  const raw = text.trim();
  if (raw === "") return { value: null };
  const type = column.type;
  if (type === "number") {
    const read = parseNumber(raw, { integer: Boolean(column.integer) });
    return read.error ? { error: t(...read.error) } : { value: read.value };
  }
  if (type === "date") return isIsoDate(raw) ? { value: raw } : { error: t("paste.date", { text: raw }) };
  if (type === "boolean" || type === "single_choice" || type === "multi_choice") {
    const options = choiceOptions(column);
    const find = (part) => {
      const wanted = part.trim().toLowerCase();
      return options.find((o) => String(o.code).toLowerCase() === wanted || String(o.label).toLowerCase() === wanted);
    };
    if (type !== "multi_choice") {
      const option = find(raw);
      return option ? { value: option.code } : { error: t("paste.option", { text: raw }) };
    }
    const codes = [];
    for (const part of raw.split(";").filter((x) => x.trim())) {
      const option = find(part);
      if (!option) return { error: t("paste.option", { text: part.trim() }) };
      if (!codes.includes(option.code)) codes.push(option.code);
    }
    return { value: codes.length ? codes : null };
  }
  if (column.max_length && raw.length > column.max_length) return { error: t("paste.long", { n: column.max_length }) };
  return { value: raw };
}

// --- the form --------------------------------------------------------------------------------

function feedChip(feed) {
  return h("li", { class: "chip", dataset: { feed: feed.slot } }, h("span", { class: "chip-ref" }, refLabel(`${feed.cycle}:${feed.question}`)), h("span", { class: "chip-state" }));
}

/**
 * Render the form into `container` and keep it in step with the saver. Returns
 * {focusSlot(slot), refresh(), detach()}.
 */
export function renderForm(container, { model, saver, toc, party = null }) {
  const form = model.form;
  if (party) setLibraryParty(party);
  const citations = new Map(); // slot -> the documents its answer cites (picker.js)
  const controls = new Map(); // slot -> control
  const entries = []; // {item, el, feeds: [{feed, chip, direct}]}
  const elements = new Map(); // slot -> item element (direct answers map to their item)
  const messages = new Map(); // slot -> message element
  let offers = new Map(); // slot -> answers offered to it (GET /workspaces/{id}/suggestions)

  const onInput = (slot) => {
    const ctrl = controls.get(slot);
    const bad = ctrl.bad();
    if (bad) {
      // refused in place: the text stays as typed, nothing of this answer is sent
      saver.refuse(slot, ctrl.raw ? ctrl.raw() : null);
      setMessage(slot, bad, "error");
      return;
    }
    saver.set(slot, ctrl.get());
    update();
  };

  /** Show a slot's value, or the unreadable text kept as its draft. */
  function show(slot, ctrl) {
    ctrl.set(saver.value(slot));
    if (!saver.unreadable.has(slot)) return;
    const text = saver.unreadable.get(slot);
    if (typeof text === "string" && ctrl.setRaw && ctrl.raw && ctrl.raw() !== null) {
      ctrl.setRaw(text);
      if (ctrl.bad()) return;
    }
    // the text cannot be shown again, or reads now: the value the field shows is the draft
    saver.set(slot, ctrl.get());
  }

  function setMessage(slot, text, kind) {
    const el = messages.get(slot);
    if (!el) return;
    if (el.textContent !== text) el.textContent = text;
    el.className = `q-msg ${text ? kind : ""}`;
  }

  function field(def, slot, label, extraDescribed = []) {
    const id = slotId(slot);
    const helpId = def.help ? `${id}-help` : null;
    const msgId = `${id}-msg`;
    const described = [helpId, msgId, ...extraDescribed].filter(Boolean).join(" ");
    const ctrl = control(def, { id: `${id}-input`, label, describedBy: described, onChange: () => onInput(slot) });
    show(slot, ctrl);
    controls.set(slot, ctrl);
    const msg = h("p", { class: "q-msg", id: msgId, "aria-live": "polite" });
    messages.set(slot, msg);
    const conflictBox = h("div", { class: "conflict-box", dataset: { conflictFor: slot } });
    const carried = h("div", { class: "carried-box", dataset: { carriedFor: slot } });
    const reuse = h("div", { class: "reuse-box", dataset: { reuseFor: slot } });
    // any question's answer may cite documents of the Party's library
    const cites =
      party && def.type !== "documents"
        ? citationBox({
            get: () => saver.documents(slot),
            onChange: (ids) => {
              saver.cite(slot, ids);
              update();
            },
          })
        : null;
    if (cites) citations.set(slot, cites);
    return h(
      "div",
      { class: "field-wrap", dataset: { slot } },
      ctrl.root,
      def.help ? h("p", { class: "help", id: helpId }, def.help) : null,
      cites ? cites.root : null,
      msg,
      carried,
      reuse,
      conflictBox,
    );
  }

  let currentGroup = null;
  let currentSub = null;
  const groups = [];
  const tocLists = new Map();
  for (const item of form.items) {
    const place = item.kind === "concept" ? item.feeds[0] : item;
    const top = place.sections[0] || { id: "", title: "" };
    const groupKey = `${place.cycle}|${top.id}`;
    if (!currentGroup || currentGroup.key !== groupKey) {
      const headingId = uid("sec");
      const progress = h("p", { class: "sec-progress muted small" });
      const section = h(
        "section",
        { class: "form-section", "aria-labelledby": headingId, dataset: { part: `${place.cycle}:${top.id}` } },
        h("h2", { id: headingId, tabindex: "-1" }, h("span", { class: "sec-cycle" }, refLabel(place.cycle)), " ", top.title),
        top.description ? h("p", { class: "sec-guidance" }, top.description) : null,
        progress,
      );
      currentGroup = { key: groupKey, section, headingId, cycle: place.cycle, title: top.title, items: [], progress };
      currentSub = null;
      groups.push(currentGroup);
      container.append(section);
      if (toc) {
        if (!tocLists.has(place.cycle)) {
          const list = h("ul");
          tocLists.set(place.cycle, list);
          toc.append(h("h2", { class: "toc-cycle" }, refLabel(place.cycle)), list);
        }
        const heading = section.querySelector("h2");
        const link = h(
          "a",
          {
            href: `#${headingId}`,
            onclick: (event) => {
              event.preventDefault();
              focusElement(heading);
            },
          },
          top.title,
        );
        currentGroup.tocItem = h("li", {}, link);
        tocLists.get(place.cycle).append(currentGroup.tocItem);
      }
    }
    const sub = place.sections.slice(1).map((s) => s.title).join(" › ");
    if (sub && sub !== currentSub) {
      currentGroup.section.append(h("h3", { class: "subsection" }, sub));
      const guidance = place.sections.slice(1).findLast((s) => s.description)?.description;
      if (guidance) currentGroup.section.append(h("p", { class: "sec-guidance" }, guidance));
    }
    currentSub = sub;
    const el = item.kind === "concept" ? conceptItem(item) : questionItem(item);
    entries[entries.length - 1].group = currentGroup;
    currentGroup.items.push(el);
    currentGroup.section.append(el);
  }

  function questionItem(item) {
    const def = item.definition;
    const label = [h("span", { class: "q-num" }, item.question), " ", def.text];
    const scopeId = uid("scope");
    const el = h(
      "div",
      { class: "q", id: slotId(item.slot) + "-item" },
      field(def, item.slot, label, [scopeId]),
      h(
        "p",
        { class: "scope", id: scopeId },
        h("span", { class: "scope-label" }, t("form.only_for")),
        " ",
        h("span", { class: "chip" }, refLabel(`${item.cycle}:${item.question}`)),
      ),
    );
    elements.set(item.slot, el);
    entries.push({ item, el, feeds: [] });
    return el;
  }

  function conceptItem(item) {
    const def = item.concept;
    const feedsId = uid("feeds");
    const suggests = item.suggests || [];
    const reports = new Set([...item.feeds, ...suggests].map((place) => place.cycle));
    const label = [reports.size > 1 ? [h("span", { class: "badge shared" }, t("form.shared")), " "] : null, def.text];
    const chips = item.feeds.map(feedChip);
    const feeds = item.feeds.map((feed, i) => {
      const directLabel = [
        h("span", { class: "q-num" }, refLabel(`${feed.cycle}:${feed.question}`)),
        " ",
        t("form.direct_label"),
        " ",
        feed.question_definition.text,
      ];
      const direct = h(
        "div",
        { class: "direct", hidden: true },
        h("p", { class: "direct-why" }),
        field(feed.question_definition, feed.slot, directLabel),
      );
      return { feed, chip: chips[i], direct };
    });
    const el = h(
      "div",
      { class: "q q-shared", id: slotId(item.slot) + "-item" },
      field(def, item.slot, label, [feedsId]),
      h(
        "div",
        { class: "scope", id: feedsId },
        h("span", { class: "scope-label" }, t("form.feeds")),
        " ",
        h("ul", { class: "chips" }, chips),
      ),
      suggests.length
        ? h(
            "div",
            { class: "scope offered-to" },
            h("span", { class: "scope-label" }, t("form.offered_to")),
            " ",
            h(
              "ul",
              { class: "chips" },
              suggests.map((place) =>
                h("li", { class: "chip chip-offer", title: t(`relation.${place.relation}`) }, refLabel(`${place.cycle}:${place.question}`)),
              ),
            ),
          )
        : null,
      h(
        "details",
        { class: "asked" },
        h("summary", {}, t("form.asked")),
        h(
          "dl",
          {},
          item.feeds.map((feed) => [
            h("dt", {}, refLabel(`${feed.cycle}:${feed.question}`)),
            h("dd", {}, feed.question_definition.text, feed.relation === "closeMatch" ? h("span", { class: "muted" }, ` (${t("form.close_match")})`) : null),
          ]),
        ),
      ),
      feeds.map((f) => f.direct),
    );
    elements.set(item.slot, el);
    for (const feed of item.feeds) elements.set(feed.slot, el);
    entries.push({ item, el, feeds });
    return el;
  }

  /** Conditions, feed states, messages and conflicts, from the current values. */
  function update() {
    const project = projector(model, (slot) => saver.value(slot));
    for (const entry of entries) {
      const { item, el } = entry;
      if (item.kind === "question") {
        el.hidden = !project.visible(item.cycle, item.question);
        continue;
      }
      const shared = saver.value(item.slot);
      let anyVisible = false;
      for (const { feed, chip, direct } of entry.feeds) {
        const shown = project.visible(feed.cycle, feed.question);
        anyVisible ||= shown;
        const native = saver.value(feed.slot);
        let derived = NO_IMAGE;
        if (isAnswered(shared)) derived = applyTransform(feed.transform, shared, item.concept, feed.question_definition);
        const noEquivalent = isAnswered(shared) && derived === NO_IMAGE;
        let state = "";
        if (!shown) state = t("form.feed_hidden");
        else if (isAnswered(native)) state = t("form.feed_own", { value: formatValue(feed.question_definition, native) });
        else if (noEquivalent) state = t("form.feed_none");
        else if (isAnswered(shared) && feed.question_definition.type !== "text") {
          // what this report receives, when it is not the text just typed
          state = `→ ${formatValue(feed.question_definition, derived)}`;
        }
        const stateEl = chip.querySelector(".chip-state");
        if (stateEl.textContent !== (state ? ` ${state}` : "")) stateEl.textContent = state ? ` ${state}` : "";
        chip.classList.toggle("off", !shown);
        const needsDirect = shown && (noEquivalent || isAnswered(native));
        direct.hidden = !needsDirect;
        const why = direct.querySelector(".direct-why");
        const whyText = noEquivalent
          ? t("form.direct_needed", { ref: refLabel(feed.cycle) })
          : isAnswered(native)
            ? t("form.direct_override", { ref: refLabel(feed.cycle) })
            : "";
        if (why.textContent !== whyText) why.textContent = whyText;
      }
      el.hidden = !anyVisible;
    }
    for (const group of groups) {
      const empty = group.items.every((el) => el.hidden);
      group.section.hidden = empty;
      if (group.tocItem) group.tocItem.hidden = empty;
    }
    decorate();
    completeness();
  }

  /**
   * Each shown question marked answered / required / with an error (data-answered,
   * data-required, data-error, read by the form's filters), and each section's tally under
   * its heading and in the list of sections.
   */
  function completeness() {
    const tally = new Map(groups.map((g) => [g, { shown: 0, answered: 0, required: 0, requiredDone: 0, errors: 0 }]));
    for (const entry of entries) {
      const { item, el, group } = entry;
      const slots = item.kind === "concept" ? [item.slot, ...entry.feeds.filter((f) => !f.direct.hidden).map((f) => f.feed.slot)] : [item.slot];
      const defs = item.kind === "concept" ? entry.feeds.map((f) => f.feed.question_definition) : [item.definition];
      const answered = slots.some((slot) => isAnswered(saver.value(slot)));
      const required = defs.some((def) => def.required);
      const error = slots.some((slot) => messages.get(slot)?.parentElement.classList.contains("has-error"));
      el.dataset.answered = String(answered);
      el.dataset.required = String(required);
      el.dataset.error = String(error);
      if (el.hidden) continue;
      const counts = tally.get(group);
      counts.shown += 1;
      if (answered) counts.answered += 1;
      if (required) counts.required += 1;
      if (required && answered) counts.requiredDone += 1;
      if (error) counts.errors += 1;
    }
    for (const [group, counts] of tally) {
      const parts = [t("form.progress_answered", { n: counts.answered, total: counts.shown })];
      if (counts.required) parts.push(t("form.progress_required", { n: counts.requiredDone, total: counts.required }));
      if (counts.errors) parts.push(t("form.progress_errors", { n: counts.errors }));
      const text = parts.join(" · ");
      if (group.progress.textContent !== text) group.progress.textContent = text;
      const complete = counts.requiredDone === counts.required && !counts.errors;
      group.section.dataset.complete = String(complete);
      if (group.tocItem) {
        group.tocItem.classList.toggle("toc-done", complete && counts.answered > 0);
        group.tocItem.classList.toggle("toc-errors", counts.errors > 0);
        group.tocItem.title = text;
      }
    }
    container.dispatchEvent(new CustomEvent("completeness"));
  }

  /** Held, refused and carried answers, and conflicts, on their questions. */
  function decorate() {
    for (const slot of controls.keys()) {
      const ctrl = controls.get(slot);
      const bad = ctrl.bad();
      if (bad) setMessage(slot, bad, "error");
      else if (saver.invalid.has(slot)) setMessage(slot, t("form.refused", { detail: saver.invalid.get(slot) }), "error");
      else if (saver.held.has(slot)) setMessage(slot, t("form.held", { why: explain(saver.held.get(slot)) }), "warn");
      else setMessage(slot, "", "");
      const wrap = messages.get(slot).parentElement;
      wrap.classList.toggle("has-error", Boolean(bad || saver.invalid.has(slot)));
      wrap.classList.toggle("unsaved", saver.pending.has(slot) || saver.unreadable.has(slot));
      const carriedBox = wrap.querySelector(`:scope > .carried-box`);
      const server = saver.server.get(slot);
      const carried = server && server.carried && !saver.pending.has(slot) ? server.carried : null;
      if (Boolean(carried) !== carriedBox.hasChildNodes()) {
        replace(
          carriedBox,
          carried
            ? h(
                "p",
                { class: "note" },
                t("form.carried", { cycle: refLabel(carried.cycle || ""), id: carried.submission ?? "" }),
                " ",
                h("button", { type: "button", class: "btn small", onclick: () => saver.confirm(slot) }, t("form.confirm")),
              )
            : null,
        );
      }
      renderReuse(slot, wrap.querySelector(":scope > .reuse-box"));
      citations.get(slot)?.render();
      renderConflict(slot, wrap.querySelector(":scope > .conflict-box"));
    }
  }

  /** Where the answer was taken from, and the answers given elsewhere that could answer it. */
  function renderReuse(slot, box) {
    const def = model.definitions.get(slot);
    const current = saver.value(slot);
    const shown = (offers.get(slot) || []).filter((offer) => !sameJson(offer.value, withoutRowIds(current)));
    const from = isAnswered(current) ? saver.reusedFrom(slot) : null;
    const key = JSON.stringify([from, shown]);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    const sourceName = (source) => {
      if (source.slot.startsWith("concept:")) {
        const concept = model.definitions.get(source.slot);
        return t("form.reuse_shared", { text: concept ? concept.text : source.concept });
      }
      const ref = refLabel(source.question || source.slot);
      return source.submission ? t("form.reuse_submitted", { ref }) : ref;
    };
    const fromOffer = from ? (offers.get(slot) || []).find((offer) => offer.source.slot === from) : null;
    replace(
      box,
      from
        ? h(
            "p",
            { class: "note small reused" },
            t("form.reused", { source: fromOffer ? sourceName(fromOffer.source) : from.startsWith("concept:") ? t("form.reuse_shared", { text: model.definitions.get(from)?.text || from }) : refLabel(from) }),
          )
        : null,
      shown.map((offer) =>
        h(
          "div",
          { class: "reuse", role: "group", "aria-label": t("form.reuse_group") },
          h(
            "p",
            { class: "reuse-text" },
            t("form.reuse_offer", { source: sourceName(offer.source), relation: t(`relation.${offer.source.relation}`) }),
            " ",
            h("strong", { class: "reuse-value" }, formatValue(def, offer.value)),
          ),
          h(
            "button",
            {
              type: "button",
              class: "btn small",
              onclick: () => {
                const ctrl = controls.get(slot);
                const value = withRowIds(offer.value); // a table's rows get their ids here, once
                saver.reuse(slot, value, offer.source.slot);
                if (ctrl) {
                  ctrl.set(value);
                  update();
                  focusElement(ctrl.focusTarget);
                }
              },
            },
            t("form.reuse_use"),
          ),
        ),
      ),
    );
  }

  /** Who saved the other value, and when: "you, in another tab" when it is this user. */
  function conflictTitle(conflict) {
    const self = saver.isMe(conflict.updatedBy);
    const who = self ? "" : (conflict.updatedBy || t("conflict.someone")).replace(/^user:/, "");
    if (conflict.updatedAt) {
      return self ? t("conflict.title_self_at", { time: when(conflict.updatedAt) }) : t("conflict.title_at", { who, time: when(conflict.updatedAt) });
    }
    return self ? t("conflict.title_self") : t("conflict.title", { who });
  }

  function renderConflict(slot, box) {
    const conflict = saver.conflicts.get(slot);
    if (!conflict) {
      if (box.hasChildNodes()) box.replaceChildren();
      return;
    }
    const def = model.definitions.get(slot);
    const mine = saver.value(slot);
    const key = JSON.stringify([conflict.revision, conflict.updatedBy, conflict.updatedAt, mine]);
    if (box.dataset.key === key && box.hasChildNodes()) return;
    box.dataset.key = key;
    const titleId = uid("conflict");
    // tables merge by row: both sides' new rows kept, rows changed on both sides shown
    const merge = def && def.type === "table" ? mergeRows(saver.server.get(slot)?.value, mine, conflict.theirs) : null;
    // a row changed on both sides: both versions side by side, one line per column, the
    // columns that differ in bold
    const clashTable = (clash) => {
      const lines = (row, other) =>
        (def.columns || [])
          .filter((c) => isAnswered(row[c.id]) || isAnswered(other[c.id]))
          .map((c) => {
            const text = `${c.text}: ${formatValue(c, row[c.id] ?? null) || "—"}`;
            return h("div", {}, sameJson(row[c.id] ?? null, other[c.id] ?? null) ? text : h("strong", {}, text));
          });
      return h(
        "table",
        { class: "data clash" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("conflict.theirs")), h("th", { scope: "col" }, t("conflict.mine")))),
        h("tbody", {}, h("tr", {}, h("td", { class: "theirs" }, lines(clash.theirs, clash.mine)), h("td", { class: "mine" }, lines(clash.mine, clash.theirs)))),
      );
    };
    replace(
      box,
      h(
        "div",
        { class: "conflict", role: "group", "aria-labelledby": titleId },
        h("p", { id: titleId, class: "conflict-title" }, conflictTitle(conflict)),
        h(
          "dl",
          { class: "compare" },
          h("dt", {}, t("conflict.theirs")),
          h("dd", { class: "theirs" }, formatValue(def, conflict.theirs)),
          h("dt", {}, t("conflict.mine")),
          h("dd", { class: "mine" }, formatValue(def, mine)),
        ),
        merge && merge.clashes.length
          ? h(
              "div",
              { class: "row-clashes" },
              h("p", {}, t("conflict.clashes", { n: merge.clashes.length })),
              merge.clashes.map((c) => h("div", { class: "table-wrap" }, clashTable(c))),
            )
          : null,
        h(
          "div",
          { class: "actions" },
          merge
            ? h("button", { type: "button", class: "btn primary", onclick: () => saver.resolveWith(slot, merge.rows.length ? merge.rows : null) }, t("conflict.merge", { n: merge.rows.length }))
            : null,
          h("button", { type: "button", class: merge ? "btn" : "btn primary", onclick: () => saver.keepMine(slot) }, t("conflict.keep")),
          h("button", { type: "button", class: "btn", onclick: () => saver.takeTheirs(slot) }, t("conflict.take")),
        ),
      ),
    );
  }

  const listeners = {
    status: () => decorate(),
    saved: () => decorate(),
    invalid: () => decorate(),
    conflict: () => decorate(),
    resolved: () => update(),
    value: (event) => {
      for (const slot of event.detail.slots) {
        const ctrl = controls.get(slot);
        if (ctrl) show(slot, ctrl);
      }
      update();
    },
  };
  for (const [type, listener] of Object.entries(listeners)) saver.addEventListener(type, listener);

  update();
  return {
    refresh: update,
    /** Show the answers offered to each slot (the items of GET /workspaces/{id}/suggestions). */
    setSuggestions(items) {
      offers = new Map();
      for (const item of items) {
        if (!offers.has(item.slot)) offers.set(item.slot, []);
        offers.get(item.slot).push(item);
      }
      decorate();
    },
    detach() {
      for (const [type, listener] of Object.entries(listeners)) saver.removeEventListener(type, listener);
    },
    /** Bring a question into view and put the cursor in it. */
    focusSlot(slot) {
      const el = elements.get(slot);
      if (!el) return false;
      if (el.hidden) {
        focusElement(el.closest("section")?.querySelector("h2"));
        return false;
      }
      const ctrl = controls.get(slot);
      const target = ctrl ? ctrl.focusTarget : el;
      el.classList.add("flash");
      setTimeout(() => el.classList.remove("flash"), 2000);
      focusElement(target);
      return true;
    },
  };
}
