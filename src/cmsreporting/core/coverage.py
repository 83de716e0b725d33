"""Coverage and translation between two templates through shared concepts. Pure: no database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmsreporting.core.document import iter_questions
from cmsreporting.core.projection import PROPAGATING, Binding, concept_slot, project
from cmsreporting.core.transforms import NO_IMAGE, apply, apply_inverse, is_invertible
from cmsreporting.core.validation import is_answered

RELATION_RANK = {
    "exactMatch": 0,
    "closeMatch": 1,
    "broadMatch": 2,
    "narrowMatch": 2,
    "relatedMatch": 3,
}


def combine(first: str, second: str) -> str:
    """The relation of a path question -> concept -> question."""
    if first in PROPAGATING and second in PROPAGATING:
        return "exactMatch" if first == second == "exactMatch" else "closeMatch"
    if first in PROPAGATING:
        return second
    if second in PROPAGATING or first == second:
        return first
    return "relatedMatch"


def _values_of(question: dict[str, Any]) -> list[Any] | None:
    """The finite value space of a question, or None when it is open (text, number…)."""
    kind = question["type"]
    if kind == "boolean":
        return [True, False]
    if kind == "single_choice":
        return [o["code"] for o in question["options"]]
    if kind == "multi_choice":
        return [[o["code"]] for o in question["options"]]
    return None


def _fed_columns(
    transform: dict[str, Any], source_cols: set[str], target_cols: set[str]
) -> set[str]:
    """Target columns that receive a value when the source has `source_cols`."""
    if not transform:
        return source_cols & target_cols
    if "columns" not in transform:
        return set()
    return {spec["to"] for cid, spec in transform["columns"].items() if cid in source_cols}


def _from_columns(
    transform: dict[str, Any], concept_cols: set[str], native_cols: set[str]
) -> set[str]:
    """Concept columns that get a value back from a native table."""
    if not transform:
        return concept_cols & native_cols
    if "columns" not in transform:
        return set()
    return {cid for cid, spec in transform["columns"].items() if spec["to"] in native_cols}


def share(
    from_binding: Binding,
    to_binding: Binding,
    concept: dict[str, Any],
    from_question: dict[str, Any],
    to_question: dict[str, Any],
) -> float:
    """Share of the `from` question's possible values that reach the `to` question."""
    if not is_invertible(from_binding.transform):
        return 0.0
    if from_question["type"] == "table":
        concept_cols = {c["id"] for c in concept.get("columns", [])}
        reached = _fed_columns(
            to_binding.transform,
            _from_columns(
                from_binding.transform,
                concept_cols,
                {c["id"] for c in from_question["columns"]},
            ),
            {c["id"] for c in to_question["columns"]},
        )
        required = {c["id"] for c in to_question["columns"] if c.get("required")}
        return 1.0 if reached and required <= reached else 0.0
    space = _values_of(from_question)
    if space is None:
        return 1.0
    carried = 0
    for value in space:
        concept_value = apply_inverse(from_binding.transform, value, concept, from_question)
        if concept_value is NO_IMAGE:
            continue
        if apply(to_binding.transform, concept_value, concept, to_question) is not NO_IMAGE:
            carried += 1
    return round(carried / len(space), 4) if space else 0.0


def coverage(
    from_template: dict[str, Any],
    to_template: dict[str, Any],
    from_bindings: Iterable[Binding],
    to_bindings: Iterable[Binding],
    concepts: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """For each question of `to`: can it be filled from `from`, by which relation and concept."""
    from_questions = {q["id"]: q for _, q in iter_questions(from_template)}
    by_concept: dict[str, list[Binding]] = {}
    for b in from_bindings:
        if b.status == "approved" and b.question in from_questions:
            by_concept.setdefault(b.concept, []).append(b)
    to_by_question: dict[str, list[Binding]] = {}
    for b in to_bindings:
        if b.status == "approved":
            to_by_question.setdefault(b.question, []).append(b)
    rows: list[dict[str, Any]] = []
    for _, question in iter_questions(to_template):
        best: dict[str, Any] | None = None
        for to_b in to_by_question.get(question["id"], []):
            concept = concepts.get(to_b.concept)
            if concept is None:
                continue
            for from_b in by_concept.get(to_b.concept, []):
                relation = combine(from_b.relation, to_b.relation)
                value_share = share(
                    from_b, to_b, concept, from_questions[from_b.question], question
                )
                fillable = from_b.propagates and to_b.propagates and value_share > 0
                candidate = {
                    "question": question["id"],
                    "type": question["type"],
                    "fillable": fillable,
                    "relation": relation,
                    "concept": to_b.concept,
                    "from_question": from_b.question,
                    "share": value_share if fillable else 0.0,
                    "suggestion_only": not fillable,
                }
                rank = (not fillable, -candidate["share"], RELATION_RANK[relation])
                if best is None or rank < best["_rank"]:
                    best = candidate | {"_rank": rank}
        if best is None:
            rows.append(
                {
                    "question": question["id"],
                    "type": question["type"],
                    "fillable": False,
                    "relation": None,
                    "concept": None,
                    "from_question": None,
                    "share": 0.0,
                    "suggestion_only": False,
                }
            )
        else:
            best.pop("_rank")
            rows.append(best)
    total = len(rows)
    fillable_rows = [r for r in rows if r["fillable"]]
    by_relation: dict[str, int] = {}
    for r in fillable_rows:
        by_relation[r["relation"]] = by_relation.get(r["relation"], 0) + 1
    suggestions = sum(1 for r in rows if r["suggestion_only"])
    return {
        "questions": rows,
        "totals": {
            "questions": total,
            "fillable": len(fillable_rows),
            "suggestion_only": suggestions,
            "unlinked": total - len(fillable_rows) - suggestions,
            "share_fillable": round(len(fillable_rows) / total, 4) if total else 0.0,
            "by_relation": {
                rel: {"count": n, "share": round(n / total, 4)}
                for rel, n in sorted(by_relation.items(), key=lambda kv: RELATION_RANK[kv[0]])
            },
            "value_share": round(sum(r["share"] for r in rows) / total, 4) if total else 0.0,
        },
    }


def translate(
    from_template: dict[str, Any],
    to_template: dict[str, Any],
    from_bindings: Iterable[Binding],
    to_bindings: Iterable[Binding],
    concepts: dict[str, dict[str, Any]],
    answers: dict[str, Any],
) -> dict[str, Any]:
    """The `to` report of answers given to `from`, through invertible shared concepts."""
    from_questions = {q["id"]: q for _, q in iter_questions(from_template)}
    firm: dict[str, Any] = {}
    firm_source: dict[str, str] = {}
    soft: dict[str, tuple[Any, str, str]] = {}
    conflicts: list[dict[str, Any]] = []
    reached: set[str] = set()
    for binding in from_bindings:
        value = answers.get(binding.question)
        concept = concepts.get(binding.concept)
        question = from_questions.get(binding.question)
        if binding.status != "approved" or concept is None or question is None:
            continue
        if not is_answered(value) or not is_invertible(binding.transform):
            continue
        concept_value = apply_inverse(binding.transform, value, concept, question)
        if concept_value is NO_IMAGE:
            continue
        reached.add(binding.question)
        if binding.propagates:
            if binding.concept in firm and firm[binding.concept] != concept_value:
                conflicts.append(
                    {
                        "concept": binding.concept,
                        "kept": firm_source[binding.concept],
                        "ignored": binding.question,
                    }
                )
                continue
            firm.setdefault(binding.concept, concept_value)
            firm_source.setdefault(binding.concept, binding.question)
        else:
            soft.setdefault(binding.concept, (concept_value, binding.question, binding.relation))
    to_list = list(to_bindings)
    report = project(to_template, to_list, concepts, {concept_slot(k): v for k, v in firm.items()})
    to_questions = {q["id"]: q for _, q in iter_questions(to_template)}
    provenance = {
        qid: {
            "concept": source.removeprefix("concept:"),
            "from_question": firm_source[source.removeprefix("concept:")],
        }
        for qid, source in report.provenance.items()
    }
    suggestions = {
        qid: s | {"from_question": firm_source.get(s["concept"])}
        for qid, s in report.suggestions.items()
    }
    for binding in to_list:
        qid = binding.question
        if binding.status != "approved" or qid in report.values or qid in suggestions:
            continue
        if binding.concept not in soft or qid in report.hidden or qid not in to_questions:
            continue
        concept_value, source_question, source_relation = soft[binding.concept]
        suggested = apply(
            binding.transform, concept_value, concepts[binding.concept], to_questions[qid]
        )
        if suggested is not NO_IMAGE:
            suggestions[qid] = {
                "value": suggested,
                "concept": binding.concept,
                "relation": combine(source_relation, binding.relation),
                "from_question": source_question,
            }
    left = [qid for qid in to_questions if qid not in report.values and qid not in report.hidden]
    return {
        "values": report.values,
        "provenance": provenance,
        "suggestions": suggestions,
        "needs_direct_answer": report.needs_direct_answer,
        "left_to_answer": left,
        "hidden": report.hidden,
        "issues": [i.as_dict() for i in report.issues],
        "conflicts": conflicts,
        "untranslated": [q for q in answers if q not in reached],
    }
