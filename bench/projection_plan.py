"""A what-if for bench/projection.py: the projection with its per-template work done once.

NOT the service's code, and not used by it. ``compile_plan(template, bindings, concepts)`` does
once what ``cmsreporting.reporting.projection.project`` redoes on every call and for every value:
walking the template (``iter_questions`` builds a JSON pointer string per question), the answer
slot strings, the first propagating binding of each question, each transform's option lists,
code orders and ``Fraction`` constants, each field's option-code sets and column maps for
validation. ``run_plan(plan, answers)`` then makes one pass over the questions and validates
each value with a precomputed predicate; only a value that fails it goes through the service's
own ``check_value`` / ``check_table_rows``, so the issues are the same. The benchmark checks,
in every measuring process, that the reports are equal to ``project()``'s (``Report.as_dict``).

It shows how fast the same projection can be in plain Python, to tell whether the target is
reachable without changing the algorithm; it has not been reviewed as a replacement.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, localcontext
from typing import Any

from cmsreporting.crosswalk.transforms import NO_IMAGE, codes, kind
from cmsreporting.reporting.projection import (
    Binding,
    Report,
    concept_slot,
    evaluate,
    native_slot,
)
from cmsreporting.reporting.validation import Issue, check_table_rows, check_value, is_answered
from cmsreporting.templates.checks import iter_questions

Fn = Callable[[Any], Any]
EXACT = Context(prec=120)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


_PLAIN = frozenset({bool, int, float, dict})


def _answered(value: Any) -> bool:
    """``is_answered``, with the JSON types first."""
    if value is None:
        return False
    cls = value.__class__
    if cls is str:
        return value.strip() != ""
    if cls is list:
        return len(value) > 0
    return cls in _PLAIN or is_answered(value)


# --- transforms, compiled --------------------------------------------------------------------


def _ordered(target: dict[str, Any]) -> Callable[[set[str]], list[str]]:
    order = {code: i for i, code in enumerate(codes(target))}
    last = len(order)
    return lambda selected: sorted(selected, key=lambda c: order.get(c, last))


def _require(target: dict[str, Any]) -> Callable[[list[dict[str, Any]]], Any]:
    required = [c["id"] for c in target.get("columns", []) if c.get("required")]
    if not required:
        return lambda rows: rows

    def check(rows: list[dict[str, Any]]) -> Any:
        for row in rows:
            if any(row.get(cid) in (None, "", []) for cid in required):
                return NO_IMAGE
        return rows

    return check


def _identity(target: dict[str, Any]) -> Fn:
    t_type = target["type"]
    if t_type == "single_choice":
        known = codes(target)
        return lambda value: value if value in known else NO_IMAGE
    if t_type == "multi_choice":
        known = codes(target)
        order = _ordered(target)

        def multi(value: Any) -> Any:
            if not isinstance(value, list) or any(v not in known for v in value):
                return NO_IMAGE
            return order(set(value))

        return multi
    if t_type == "table":
        columns = {c["id"]: _identity(c) for c in target.get("columns", [])}
        require = _require(target)

        def table(value: Any) -> Any:
            if not isinstance(value, list):
                return NO_IMAGE
            rows = []
            for row in value:
                if not isinstance(row, dict):
                    return NO_IMAGE
                new_row = {}
                for cid, cell in row.items():
                    if cid in columns and cell is not None:
                        carried = columns[cid](cell)
                        if carried is NO_IMAGE:
                            return NO_IMAGE
                        new_row[cid] = carried
                rows.append(new_row)
            return require(rows)

        return table
    return lambda value: value


def compile_transform(
    transform: dict[str, Any], source: dict[str, Any], target: dict[str, Any]
) -> Fn:
    """The same function as ``transforms.apply(transform, ·, source, target)``."""
    k = kind(transform)
    if k == "identity":
        return _identity(target)
    if k == "options":
        mapping: dict[str, Any] = transform["options"]
        if source["type"] == "multi_choice":
            order = _ordered(target)

            def multi(value: Any) -> Any:
                if not isinstance(value, list) or any(v not in mapping for v in value):
                    return NO_IMAGE
                return order({mapping[v] for v in value})

            return multi

        def single(value: Any) -> Any:
            key = ("true" if value else "false") if isinstance(value, bool) else value
            if not isinstance(key, str) or key not in mapping:
                return NO_IMAGE
            return mapping[key]

        return single
    if k == "number":
        # exact decimal arithmetic, as Fraction(str(x)) gives, with room for every digit: a
        # float's repr has at most 17 significant digits, so 120 digits never round
        scale = Decimal(repr(transform.get("scale", 1)))
        offset = Decimal(repr(transform.get("offset", 0)))
        whole = scale == scale.to_integral_value() and offset == offset.to_integral_value()
        int_scale, int_offset = int(scale), int(offset)

        def number(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return NO_IMAGE
            if whole and value.__class__ is int:  # exact in int arithmetic
                return value * int_scale + int_offset
            with localcontext(EXACT):
                result = Decimal(repr(value)) * scale + offset
                if result == result.to_integral_value():
                    return int(result)
                return float(result)

        return number
    s_cols = {c["id"]: c for c in source.get("columns", [])}
    t_cols = {c["id"]: c for c in target.get("columns", [])}
    specs = [
        (
            cid,
            spec["to"],
            compile_transform(spec.get("transform", {}), s_cols[cid], t_cols[spec["to"]]),
        )
        for cid, spec in transform["columns"].items()
    ]
    require = _require(target)

    def columns(value: Any) -> Any:
        if not isinstance(value, list):
            return NO_IMAGE
        rows: list[dict[str, Any]] = []
        for row in value:
            if not isinstance(row, dict):
                return NO_IMAGE
            new_row: dict[str, Any] = {}
            for cid, to, fn in specs:
                cell = row.get(cid)
                if cell is None:
                    continue
                carried = fn(cell)
                if carried is NO_IMAGE:
                    return NO_IMAGE
                new_row[to] = carried
            rows.append(new_row)
        return require(rows)

    return columns


# --- validation, compiled ------------------------------------------------------------------------


def _valid_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def compile_check(field: dict[str, Any]) -> Callable[[Any], bool]:
    """True when ``check_value(field, value)`` finds nothing (value answered)."""
    t = field["type"]
    if t == "text":
        longest = field.get("max_length")
        pattern = re.compile(field["pattern"]) if "pattern" in field else None
        return lambda v: (
            v.__class__ is str
            and (longest is None or len(v) <= longest)
            and (pattern is None or pattern.search(v) is not None)
        )
    if t == "number":
        integer, low, high = bool(field.get("integer")), field.get("min"), field.get("max")

        def number(v: Any) -> bool:
            if v.__class__ is not int and (v.__class__ is not float or not math.isfinite(v)):
                return False
            if integer and float(v) != int(v):
                return False
            return (low is None or v >= low) and (high is None or v <= high)

        return number
    if t == "boolean":
        return lambda v: v.__class__ is bool
    if t == "date":
        return lambda v: v.__class__ is str and _valid_date(v)
    if t == "single_choice":
        known = frozenset(o["code"] for o in field.get("options", []))
        return lambda v: v.__class__ is str and v in known
    if t == "multi_choice":
        known = frozenset(o["code"] for o in field.get("options", []))
        low, high = field.get("min_selected"), field.get("max_selected")

        def multi(v: Any) -> bool:
            if v.__class__ is not list or not all(c.__class__ is str and c in known for c in v):
                return False
            if len(set(v)) != len(v):
                return False
            return (low is None or len(v) >= low) and (high is None or len(v) <= high)

        return multi
    if t == "table":
        low, high = field.get("min_rows"), field.get("max_rows")
        columns = [(c["id"], bool(c.get("required")), compile_check(c)) for c in field["columns"]]
        ids = frozenset(c["id"] for c in field["columns"])

        def table(v: Any) -> bool:
            if v.__class__ is not list:
                return False
            if (low is not None and len(v) < low) or (high is not None and len(v) > high):
                return False
            for row in v:
                if row.__class__ is not dict or not ids.issuperset(row):
                    return False
                for cid, required, ok in columns:
                    cell = row.get(cid)
                    if not _answered(cell):
                        if required:
                            return False
                        continue
                    if not ok(cell):
                        return False
            return True

        return table
    return lambda v: True


# --- the plan ----------------------------------------------------------------------------------


# (qid, question, native slot, derive, suggest, visible_if, check, is_table, issue when empty)
# derive: (concept slot, concept key, transform) of the propagating binding, or None
# suggest: [(concept slot, concept key, relation, transform)] of the other approved bindings
Entry = tuple[
    str,
    dict[str, Any],
    str,
    "tuple[str, str, Fn] | None",
    "list[tuple[str, str, str, Fn]]",
    "dict[str, Any] | None",
    Callable[[Any], bool],
    bool,
    "Issue | None",
]


@dataclass
class Plan:
    """A template, its bindings and their concepts, compiled."""

    entries: list[Entry]
    conditions: dict[str, dict[str, Any] | None]  # question id -> visible_if


def compile_plan(
    template: dict[str, Any], bindings: Sequence[Binding], concepts: dict[str, dict[str, Any]]
) -> Plan:
    """Everything of ``project`` that depends only on the template, bindings and concepts."""
    grouped: dict[str, list[Binding]] = {}
    for binding in bindings:
        grouped.setdefault(binding.question, []).append(binding)
    entries = []
    for _, question in iter_questions(template):
        qid = question["id"]
        linked = grouped.get(qid, [])
        propagating = next((b for b in linked if b.propagates), None)
        derive = None
        if propagating is not None and propagating.concept in concepts:
            derive = (
                concept_slot(propagating.concept),
                propagating.concept,
                compile_transform(propagating.transform, concepts[propagating.concept], question),
            )
        suggest = [
            (
                concept_slot(b.concept),
                b.concept,
                b.relation,
                compile_transform(b.transform, concepts[b.concept], question),
            )
            for b in linked
            if not b.propagates and b.status == "approved" and b.concept in concepts
        ]
        empty_issue = None
        if question.get("required"):
            empty_issue = Issue("error", qid, "required", "an answer is required")
        elif question.get("recommended"):
            empty_issue = Issue("warning", qid, "recommended", "an answer is recommended")
        entries.append(
            (
                qid,
                question,
                native_slot(template, qid),
                derive,
                suggest,
                question.get("visible_if"),
                compile_check(question),
                question["type"] == "table",
                empty_issue,
            )
        )
    return Plan(entries, {e[0]: e[5] for e in entries})


def run_plan(plan: Plan, answers: dict[str, Any], *, check_native: bool = True) -> Report:
    """The same report as ``project(template, bindings, concepts, answers)``.

    ``check_native=False`` (a bound, not a proposal as such) leaves native values unchecked, as
    if their checks were cached from when they were written against the same template version.
    """
    get = answers.get
    raw: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    suggestions: dict[str, dict[str, Any]] = {}
    divergences: dict[str, dict[str, Any]] = {}
    needs_direct: set[str] = set()
    blank: set[str] = set()  # derived values that are not answers (natives in raw always are)
    for qid, _, native_slot_, derive, suggest, _, _, _, _ in plan.entries:
        native = get(native_slot_)
        if native is None:
            native_answered = False
        elif native.__class__ is str:
            native_answered = native.strip() != ""
        elif native.__class__ is list:
            native_answered = len(native) > 0
        else:
            native_answered = native.__class__ in _PLAIN or is_answered(native)
        derived: Any = NO_IMAGE
        if derive is not None:
            slot, key, fn = derive
            concept_value = get(slot)
            if concept_value is not None and _answered(concept_value):
                derived = fn(concept_value)
                if derived is NO_IMAGE and not native_answered:
                    needs_direct.add(qid)
        if native_answered:
            raw[qid] = native
            provenance[qid] = "native"
            if derived is not NO_IMAGE and derived != native:
                divergences[qid] = {
                    "question": qid,
                    "concept": key,
                    "native_value": native,
                    "concept_value": derived,
                }
        elif derived is not NO_IMAGE:
            raw[qid] = derived
            provenance[qid] = slot
            if not _answered(derived):
                blank.add(qid)
        elif suggest:
            for slot, key, relation, fn in suggest:
                concept_value = get(slot)
                if not _answered(concept_value):
                    continue
                suggested = fn(concept_value)
                if suggested is not NO_IMAGE:
                    suggestions[qid] = {"value": suggested, "concept": key, "relation": relation}
                    break

    conditions = plan.conditions
    memo: dict[str, bool] = {}

    def visible(qid: str) -> bool:
        if qid not in memo:
            condition = conditions[qid]
            memo[qid] = True
            if condition is not None:
                memo[qid] = evaluate(
                    condition,
                    lambda ref: raw.get(ref) if ref in conditions and visible(ref) else None,
                )
        return memo[qid]

    report = Report()
    values, report_provenance, issues = report.values, report.provenance, report.issues
    for qid, question, _, _, _, condition, ok, table, empty_issue in plan.entries:
        if condition is not None and not visible(qid):
            report.hidden.append(qid)
            continue
        if qid in raw:
            value = values[qid] = raw[qid]
            source = report_provenance[qid] = provenance[qid]
            if blank and qid in blank:
                if empty_issue is not None:
                    issues.append(empty_issue)
            elif (check_native or source != "native") and not ok(value):
                problems = check_value(question, value)
                issues += [Issue("error", qid, code, message) for code, message in problems]
                if table and isinstance(value, list) and not problems:
                    issues += check_table_rows(question, value)
        elif empty_issue is not None:
            issues.append(empty_issue)
        if suggestions and qid in suggestions:
            report.suggestions[qid] = suggestions[qid]
        if divergences and qid in divergences:
            report.divergences.append(divergences[qid])
        if needs_direct and qid in needs_direct:
            report.needs_direct_answer.append(qid)
    return report
