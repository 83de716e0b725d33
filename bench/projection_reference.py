"""The projection as it was before the compiled plan (commit 1a39f20), for bench/projection.py.

This is the implementation of ``project(template, bindings, concepts, answers)`` before
``cmsreporting.core.projection.Plan`` (commit 815fc5a): every call walks the template,
builds the slot strings, finds each question's propagating binding, applies each transform by
interpreting its JSON (``transforms.apply``, with ``Fraction`` arithmetic for number scales) and
validates the report with ``validate`` / ``check_value`` / ``check_table_rows``. It is copied
from ``src/cmsreporting/reporting/projection.py``, ``reporting/validation.py`` and
``crosswalk/transforms.py`` of that commit and kept only as the benchmark's baseline and as the
oracle the compiled plan's reports are compared with; the service does not use it.

What it imports from the package is unchanged since then: ``Binding`` (815fc5a adds an
``updated_at`` field that takes no part in comparisons), ``Report``, ``Issue``, ``NO_IMAGE``,
``concept_slot``, ``native_slot`` and ``iter_questions``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from fractions import Fraction
from functools import lru_cache
from typing import Any

from cmsreporting.core.document import iter_questions
from cmsreporting.core.projection import Binding, Report, concept_slot, native_slot
from cmsreporting.core.transforms import NO_IMAGE
from cmsreporting.core.validation import Issue

# --- validation (reporting/validation.py at 1a39f20) -----------------------------------------


def is_answered(value: Any) -> bool:
    """A value counts as an answer unless it is null, blank text or an empty list."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, list):
        return len(value) > 0
    return True


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value.bit_length() <= 1023
    return isinstance(value, float) and math.isfinite(value)


def check_value(field: dict[str, Any], value: Any) -> list[tuple[str, str]]:
    """(code, message) for each way a non-empty value breaks its field's type and constraints."""
    kind = field["type"]
    problems: list[tuple[str, str]] = []
    if kind == "text":
        if not isinstance(value, str):
            return [("type", "expected text")]
        if "max_length" in field and len(value) > field["max_length"]:
            problems.append(("length", f"longer than {field['max_length']} characters"))
        if "pattern" in field and not _regex(field["pattern"]).search(value):
            problems.append(("pattern", f"does not match {field['pattern']}"))
    elif kind == "number":
        if not _is_number(value):
            return [("type", "expected a number")]
        if field.get("integer") and float(value) != int(value):
            problems.append(("type", "expected a whole number"))
        if "min" in field and value < field["min"]:
            problems.append(("range", f"less than the minimum {field['min']}"))
        if "max" in field and value > field["max"]:
            problems.append(("range", f"greater than the maximum {field['max']}"))
    elif kind == "boolean":
        if not isinstance(value, bool):
            return [("type", "expected true or false")]
    elif kind == "date":
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return [("type", "expected a date YYYY-MM-DD")]
        try:
            date.fromisoformat(value)
        except ValueError:
            return [("type", "not a calendar date")]
    elif kind == "single_choice":
        codes = {o["code"] for o in field.get("options", [])}
        if not isinstance(value, str):
            return [("type", "expected an option code")]
        if value not in codes:
            problems.append(("option", f"{value!r} is not an option"))
    elif kind == "multi_choice":
        codes = {o["code"] for o in field.get("options", [])}
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return [("type", "expected a list of option codes")]
        unknown = [v for v in value if v not in codes]
        if unknown:
            shown = ", ".join(repr(v[:50]) for v in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            problems.append(("option", f"not options: {shown}{more}"))
        if len(set(value)) != len(value):
            problems.append(("option", "an option is selected twice"))
        if "min_selected" in field and len(value) < field["min_selected"]:
            problems.append(("selected", f"select at least {field['min_selected']}"))
        if "max_selected" in field and len(value) > field["max_selected"]:
            problems.append(("selected", f"select at most {field['max_selected']}"))
    elif kind == "table":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            return [("type", "expected a list of rows")]
        if "min_rows" in field and len(value) < field["min_rows"]:
            problems.append(("rows", f"at least {field['min_rows']} rows are needed"))
        if "max_rows" in field and len(value) > field["max_rows"]:
            problems.append(("rows", f"at most {field['max_rows']} rows are allowed"))
    return problems


def check_table_rows(question: dict[str, Any], rows: list[dict[str, Any]]) -> list[Issue]:
    """Issues of each cell of a table value."""
    issues: list[Issue] = []
    columns = {c["id"]: c for c in question["columns"]}
    qid = question["id"]
    for index, row in enumerate(rows):
        for cid in row:
            if cid not in columns:
                issues.append(
                    Issue("error", qid, "column", f"no column {cid!r}", row=index, column=cid)
                )
        for cid, column in columns.items():
            cell = row.get(cid)
            if not is_answered(cell):
                if column.get("required"):
                    issues.append(
                        Issue("error", qid, "required", "required", row=index, column=cid)
                    )
                continue
            for code, message in check_value(column, cell):
                issues.append(Issue("error", qid, code, message, row=index, column=cid))
    return issues


def validate(
    questions: list[dict[str, Any]], values: dict[str, Any], visible: set[str]
) -> list[Issue]:
    """Issues of a report: required and recommended, types, options, ranges, rows and cells.

    Hidden questions are never required and their values are not checked.
    """
    issues: list[Issue] = []
    for question in questions:
        qid = question["id"]
        if qid not in visible:
            continue
        value = values.get(qid)
        if not is_answered(value):
            if question.get("required"):
                issues.append(Issue("error", qid, "required", "an answer is required"))
            elif question.get("recommended"):
                issues.append(Issue("warning", qid, "recommended", "an answer is recommended"))
            continue
        problems = check_value(question, value)
        issues += [Issue("error", qid, code, message) for code, message in problems]
        if question["type"] == "table" and isinstance(value, list) and not problems:
            issues += check_table_rows(question, value)
    return issues


# --- transforms (crosswalk/transforms.py at 1a39f20) -----------------------------------------


def kind(transform: dict[str, Any]) -> str:
    """identity, options, number or columns."""
    if not transform:
        return "identity"
    if "options" in transform:
        return "options"
    if "columns" in transform:
        return "columns"
    return "number"


def codes(definition: dict[str, Any]) -> list[str]:
    """Option codes of a choice definition, in order."""
    return [o["code"] for o in definition.get("options", [])]


def _columns(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in definition.get("columns", [])}


def _bool_key(value: bool) -> str:
    return "true" if value else "false"


def _number(value: Any) -> int | float:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value  # type: ignore[no-any-return]


def _frac(x: Any) -> Fraction:
    return Fraction(str(x))


def _order(selected: set[str], definition: dict[str, Any]) -> list[str]:
    order = {code: i for i, code in enumerate(codes(definition))}
    return sorted(selected, key=lambda c: order.get(c, len(order)))


def _identity(value: Any, target: dict[str, Any]) -> Any:
    t_type = target["type"]
    if t_type == "single_choice":
        return value if value in codes(target) else NO_IMAGE
    if t_type == "multi_choice":
        if not isinstance(value, list) or any(v not in codes(target) for v in value):
            return NO_IMAGE
        return _order(set(value), target)
    if t_type == "table":
        if not isinstance(value, list):
            return NO_IMAGE
        t_cols = _columns(target)
        rows = []
        for row in value:
            if not isinstance(row, dict):
                return NO_IMAGE
            new_row = {}
            for cid, cell in row.items():
                if cid in t_cols and cell is not None:
                    carried = _identity(cell, t_cols[cid])
                    if carried is NO_IMAGE:
                        return NO_IMAGE
                    new_row[cid] = carried
            rows.append(new_row)
        return _require_columns(rows, target)
    return value


def _require_columns(rows: list[dict[str, Any]], target: dict[str, Any]) -> Any:
    """A table whose required native column gets no value from the concept cannot carry."""
    required = [c["id"] for c in target.get("columns", []) if c.get("required")]
    for row in rows:
        if any(row.get(cid) in (None, "", []) for cid in required):
            return NO_IMAGE
    return rows


def apply(
    transform: dict[str, Any], value: Any, source: dict[str, Any], target: dict[str, Any]
) -> Any:
    """The native value of a concept value, or NO_IMAGE when it cannot be carried."""
    k = kind(transform)
    if k == "identity":
        return _identity(value, target)
    if k == "options":
        mapping: dict[str, Any] = transform["options"]
        if source["type"] == "multi_choice":
            if not isinstance(value, list) or any(v not in mapping for v in value):
                return NO_IMAGE
            return _order({mapping[v] for v in value}, target)
        key = _bool_key(value) if isinstance(value, bool) else value
        if not isinstance(key, str) or key not in mapping:
            return NO_IMAGE
        return mapping[key]
    if k == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return NO_IMAGE
        scale, offset = transform.get("scale", 1), transform.get("offset", 0)
        return _number(_frac(value) * _frac(scale) + _frac(offset))
    if not isinstance(value, list):
        return NO_IMAGE
    s_cols, t_cols = _columns(source), _columns(target)
    rows: list[dict[str, Any]] = []
    for row in value:
        if not isinstance(row, dict):
            return NO_IMAGE
        new_row: dict[str, Any] = {}
        for cid, spec in transform["columns"].items():
            cell = row.get(cid)
            if cell is None:
                continue
            carried = apply(spec.get("transform", {}), cell, s_cols[cid], t_cols[spec["to"]])
            if carried is NO_IMAGE:
                return NO_IMAGE
            new_row[spec["to"]] = carried
        rows.append(new_row)
    return _require_columns(rows, target)


# --- the projection (reporting/projection.py at 1a39f20) -------------------------------------


def evaluate(condition: dict[str, Any], lookup: Any) -> bool:
    """Whether a visible_if condition holds; `lookup(question_id)` gives the visible value."""
    if "all" in condition:
        return all(evaluate(c, lookup) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, lookup) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], lookup)
    value = lookup(condition["question"])
    if "answered" in condition:
        return is_answered(value) == bool(condition["answered"])
    if not is_answered(value):
        return False
    if "equals" in condition:
        return bool(_same(value, condition["equals"]))
    if "in" in condition:
        return any(_same(value, option) for option in condition["in"])
    if "contains" in condition:
        return isinstance(value, list) and condition["contains"] in value
    return False


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a boolean answer only equals a boolean
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _bindings_by_question(bindings: Iterable[Binding]) -> dict[str, list[Binding]]:
    grouped: dict[str, list[Binding]] = {}
    for binding in bindings:
        grouped.setdefault(binding.question, []).append(binding)
    return grouped


def project(
    template: dict[str, Any],
    bindings: Iterable[Binding],
    concepts: dict[str, dict[str, Any]],
    answers: dict[str, Any],
) -> Report:
    """The report of one template from a workspace's answers."""
    questions = [q for _, q in iter_questions(template)]
    by_question = _bindings_by_question(bindings)
    raw: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    suggestions: dict[str, dict[str, Any]] = {}
    divergences: dict[str, dict[str, Any]] = {}
    needs_direct: set[str] = set()

    for question in questions:
        qid = question["id"]
        native = answers.get(native_slot(template, qid))
        linked = by_question.get(qid, [])
        propagating = next((b for b in linked if b.propagates), None)
        derived: Any = NO_IMAGE
        if propagating is not None and propagating.concept in concepts:
            concept_value = answers.get(concept_slot(propagating.concept))
            if is_answered(concept_value):
                derived = apply(
                    propagating.transform,
                    concept_value,
                    concepts[propagating.concept],
                    question,
                )
                if derived is NO_IMAGE and not is_answered(native):
                    needs_direct.add(qid)
        if is_answered(native):
            raw[qid], provenance[qid] = native, "native"
            if derived is not NO_IMAGE and propagating is not None and derived != native:
                divergences[qid] = {
                    "question": qid,
                    "concept": propagating.concept,
                    "native_value": native,
                    "concept_value": derived,
                }
        elif derived is not NO_IMAGE and propagating is not None:
            raw[qid], provenance[qid] = derived, concept_slot(propagating.concept)
        else:
            for binding in linked:
                if binding.propagates or binding.status != "approved":
                    continue
                concept_value = answers.get(concept_slot(binding.concept))
                if binding.concept not in concepts or not is_answered(concept_value):
                    continue
                suggested = apply(
                    binding.transform, concept_value, concepts[binding.concept], question
                )
                if suggested is not NO_IMAGE:
                    suggestions[qid] = {
                        "value": suggested,
                        "concept": binding.concept,
                        "relation": binding.relation,
                    }
                    break

    by_id = {q["id"]: q for q in questions}
    visible_memo: dict[str, bool] = {}

    def visible(qid: str) -> bool:
        if qid not in visible_memo:
            condition = by_id[qid].get("visible_if")
            visible_memo[qid] = True
            if condition is not None:
                visible_memo[qid] = evaluate(
                    condition, lambda ref: raw.get(ref) if ref in by_id and visible(ref) else None
                )
        return visible_memo[qid]

    shown = {q["id"] for q in questions if visible(q["id"])}
    report = Report()
    for question in questions:
        qid = question["id"]
        if qid not in shown:
            report.hidden.append(qid)
            continue
        if qid in raw:
            report.values[qid] = raw[qid]
            report.provenance[qid] = provenance[qid]
        if qid in suggestions:
            report.suggestions[qid] = suggestions[qid]
        if qid in divergences:
            report.divergences.append(divergences[qid])
        if qid in needs_direct:
            report.needs_direct_answer.append(qid)
    report.issues = validate(questions, report.values, shown)
    return report
