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
from typing import Any

from cmsreporting.crosswalk.transforms import NO_IMAGE, apply
from cmsreporting.reporting.validation import Issue, is_answered, validate
from cmsreporting.templates.checks import iter_questions

PROPAGATING = frozenset({"exactMatch", "closeMatch"})


@dataclass(frozen=True)
class Binding:
    """A mapping of one question of the template to a concept, as projection needs it."""

    concept: str
    question: str
    relation: str
    status: str
    transform: dict[str, Any]
    mapping_id: int | None = None

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
