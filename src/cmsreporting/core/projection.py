"""project(template, bindings, concepts, answers) -> report. Pure: no database.

Invariants (DESIGN.md section 3): an answer to a shared question is stored once, on its concept,
and each convention's value is derived through the mapping's transform when it is read; only
approved exactMatch/closeMatch mappings propagate, other approved mappings suggest; a native
answer overrides the derived value and the divergence is listed; visible_if is evaluated on the
projected values, and a hidden question is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cmsreporting.core.document import iter_questions
from cmsreporting.core.transforms import NO_IMAGE, Value, compile_apply
from cmsreporting.core.validation import (
    Check,
    Issue,
    check_table_rows,
    check_value,
    compile_check,
    is_answered,
)

PROPAGATING = frozenset({"exactMatch", "closeMatch"})
NATIVE = "native"  # the provenance of a value answered on the question itself


@dataclass(frozen=True)
class Binding:
    """A mapping of one question of the template to a concept, as projection needs it."""

    concept: str
    question: str
    relation: str
    status: str
    transform: dict[str, Any]
    mapping_id: int | None = None
    updated_at: datetime | None = field(default=None, compare=False)

    @property
    def propagates(self) -> bool:
        """Approved exact and close matches fill values."""
        return self.status == "approved" and self.relation in PROPAGATING


@dataclass
class Report:
    """What one convention would receive: values, where each came from, and what is wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    suggestions: dict[str, dict[str, Any]] = field(default_factory=dict)
    divergences: list[dict[str, Any]] = field(default_factory=list)
    needs_direct_answer: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Issues that block submission."""
        return [i for i in self.issues if i.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "values": self.values,
            "provenance": self.provenance,
            "suggestions": self.suggestions,
            "divergences": self.divergences,
            "needs_direct_answer": self.needs_direct_answer,
            "hidden": self.hidden,
            "issues": [i.as_dict() for i in self.issues],
        }


def native_slot(template: dict[str, Any], question_id: str) -> str:
    """The answer slot of a native question: CONVENTION:CYCLE:QUESTION_ID."""
    return f"{template['convention']}:{template['cycle']}:{question_id}"


def concept_slot(key: str) -> str:
    """The answer slot of a concept: concept:KEY."""
    return f"concept:{key}"


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


# One question of a compiled plan:
# (id, question, native slot, derive, suggest, visible_if, check, is a table, issue when empty)
# derive: (concept slot, concept key, transform) of the propagating binding, or None
# suggest: [(concept slot, concept key, relation, transform)] of the other approved bindings
_Entry = tuple[
    str,
    dict[str, Any],
    str,
    "tuple[str, str, Value] | None",
    "list[tuple[str, str, str, Value]]",
    "dict[str, Any] | None",
    Check,
    bool,
    "Issue | None",
]


class Plan:
    """A template with its bindings and their concepts, compiled for projecting answers.

    Everything that depends only on those (the questions in order, their slots, the binding
    that fills each, the transforms and the checks with their option sets) is done once here;
    `project(answers)` then makes one pass over the questions and one over the report.
    """

    def __init__(
        self,
        template: dict[str, Any],
        bindings: Iterable[Binding],
        concepts: dict[str, dict[str, Any]],
    ) -> None:
        grouped = _bindings_by_question(bindings)
        self.entries: list[_Entry] = []
        for _, question in iter_questions(template):
            qid = question["id"]
            linked = grouped.get(qid, [])
            propagating = next((b for b in linked if b.propagates), None)
            derive = None
            if propagating is not None and propagating.concept in concepts:
                derive = (
                    concept_slot(propagating.concept),
                    propagating.concept,
                    compile_apply(propagating.transform, concepts[propagating.concept], question),
                )
            suggest = [
                (
                    concept_slot(b.concept),
                    b.concept,
                    b.relation,
                    compile_apply(b.transform, concepts[b.concept], question),
                )
                for b in linked
                if not b.propagates and b.status == "approved" and b.concept in concepts
            ]
            empty = None
            if question.get("required"):
                empty = Issue("error", qid, "required", "an answer is required")
            elif question.get("recommended"):
                empty = Issue("warning", qid, "recommended", "an answer is recommended")
            self.entries.append(
                (
                    qid,
                    question,
                    native_slot(template, qid),
                    derive,
                    suggest,
                    question.get("visible_if"),
                    compile_check(question),
                    question["type"] == "table",
                    empty,
                )
            )
        self.conditions = {entry[0]: entry[5] for entry in self.entries}

    def project(self, answers: dict[str, Any]) -> Report:
        """The report of the template from a workspace's answers (see `project`)."""
        get = answers.get
        raw: dict[str, Any] = {}
        provenance: dict[str, str] = {}
        suggestions: dict[str, dict[str, Any]] = {}
        divergences: dict[str, dict[str, Any]] = {}
        needs_direct: set[str] = set()
        for qid, _, slot, derive, suggest, _, _, _, _ in self.entries:
            native = get(slot)
            # is_answered, inlined: this loop runs for every question of every projection
            if native is None:
                native_answered = False
            elif native.__class__ is str:
                native_answered = bool(native.strip())
            elif native.__class__ is list:
                native_answered = bool(native)
            else:
                native_answered = is_answered(native)
            derived: Any = NO_IMAGE
            if derive is not None:
                concept_value = get(derive[0])
                if concept_value is not None and is_answered(concept_value):
                    derived = derive[2](concept_value)
                    if derived is NO_IMAGE and not native_answered:
                        needs_direct.add(qid)
            if native_answered:
                raw[qid] = native
                provenance[qid] = NATIVE
                if derived is not NO_IMAGE and derived != native:
                    divergences[qid] = {
                        "question": qid,
                        "concept": derive[1],  # type: ignore[index]
                        "native_value": native,
                        "concept_value": derived,
                    }
            elif derived is not NO_IMAGE:
                raw[qid] = derived
                provenance[qid] = derive[0]  # type: ignore[index]
            elif suggest:
                for concept_at, key, relation, carry in suggest:
                    concept_value = get(concept_at)
                    if not is_answered(concept_value):
                        continue
                    suggested = carry(concept_value)
                    if suggested is not NO_IMAGE:
                        suggestions[qid] = {
                            "value": suggested,
                            "concept": key,
                            "relation": relation,
                        }
                        break

        conditions = self.conditions
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
        values, sources, issues = report.values, report.provenance, report.issues
        for qid, question, _, _, _, condition, ok, table, empty in self.entries:
            if condition is not None and not visible(qid):
                report.hidden.append(qid)
                continue
            if qid in raw:
                value = values[qid] = raw[qid]
                source = sources[qid] = provenance[qid]
                # a native value is an answer; a derived one may be blank
                if source is not NATIVE and not is_answered(value):
                    if empty is not None:
                        issues.append(empty)
                elif not ok(value):
                    problems = check_value(question, value)
                    issues += [Issue("error", qid, code, message) for code, message in problems]
                    if table and isinstance(value, list) and not problems:
                        issues += check_table_rows(question, value)
            elif empty is not None:
                issues.append(empty)
            if suggestions and qid in suggestions:
                report.suggestions[qid] = suggestions[qid]
            if divergences and qid in divergences:
                report.divergences.append(divergences[qid])
            if needs_direct and qid in needs_direct:
                report.needs_direct_answer.append(qid)
        return report


def project(
    template: dict[str, Any],
    bindings: Iterable[Binding],
    concepts: dict[str, dict[str, Any]],
    answers: dict[str, Any],
) -> Report:
    """The report of one template from a workspace's answers.

    Each question takes its native answer if there is one, else the value derived from its
    propagating binding's concept answer; other approved bindings only suggest. Conditions are
    evaluated on the projected values, hidden questions are left out, and every visible value
    is validated. A caller projecting the same template often compiles a `Plan` once.
    """
    return Plan(template, bindings, concepts).project(answers)
