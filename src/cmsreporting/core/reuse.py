"""Answers the Party already gave that could answer another question of a workspace. Pure.

A question linked to a concept by an approved mapping that does not fill it (broadMatch,
narrowMatch, relatedMatch) is offered the answers the Party already gave through that concept:
the concept's own answer, and the native answer of every other question linked to the same
concept in another report (of the workspace, or the Party's latest submission of another
cycle), carried to the concept through its mapping's inverse. A concept answered once in the
form is offered the native answers of the questions linked to it by such mappings, in the same
way. Nothing is filled: a focal point takes a suggestion, may edit it, and the saved answer
records where it came from (`reused_from`).

A native answer that reaches another question through two links that are both broader,
narrower or related (neither says the two questions have the same answer) is offered only where
the answer describes (text, or the rows of a table): a starting point to edit. A yes/no, a
choice, a number or a date would be asserted, not described (waterbird funding is no CITES
budget), so those are offered only from the concept's own answer, through the target's curated
transform, or from a submitted answer whose own link is an exact or close match (the concept's
answer in that report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmsreporting.core.document import iter_questions
from cmsreporting.core.projection import Binding, concept_slot, native_slot
from cmsreporting.core.transforms import NO_IMAGE, apply, apply_inverse, is_invertible
from cmsreporting.core.validation import check_value, is_answered


@dataclass(frozen=True)
class ReuseCycle:
    """One cycle: its ref, template document and bindings; a cycle of the workspace is offered
    answers, a submitted one (`submission`: its id) only gives them."""

    ref: str
    document: dict[str, Any]
    bindings: list[Binding]
    submission: int | None = None


DESCRIPTIVE = frozenset({"text", "table"})  # answers offered across two non-filling links


@dataclass(frozen=True)
class _Link:
    slot: str  # the native slot of the linked question
    ref: str  # CONV:CYCLE:QID
    cycle: str  # CONV:CYCLE
    question: dict[str, Any]
    binding: Binding
    submission: int | None = None


def _fits(definition: dict[str, Any], value: Any) -> bool:
    return value is not NO_IMAGE and is_answered(value) and not check_value(definition, value)


def suggestions(
    cycles: list[ReuseCycle],
    concepts: dict[str, dict[str, Any]],
    answers: dict[str, Any],
    *,
    keep_equal: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """target slot -> the answers offered to it, each with its value and where it comes from.

    A source is `{"slot", "concept", "relation", "mapping_id"}` plus, for a native answer,
    `question` (its ref) and its own mapping's `source_relation` and `source_mapping_id`, and
    `submission` for an answer of a submitted report. `answers` holds the workspace's answers
    and the submitted reports' values, each by its slot.
    A value equal to the target's current answer is not offered, unless `keep_equal`.
    """
    links: dict[str, list[_Link]] = {}  # concept -> every approved link in the workspace
    filled: dict[str, set[str]] = {}  # concept -> slots of the questions it fills
    filled_any: set[str] = set()  # slots filled by some concept
    for cycle in cycles:
        document = cycle.document
        by_question: dict[str, list[Binding]] = {}
        for binding in cycle.bindings:
            if binding.status == "approved" and binding.concept in concepts:
                by_question.setdefault(binding.question, []).append(binding)
        for _, question in iter_questions(document):
            qid = question["id"]
            slot = native_slot(document, qid)
            for binding in by_question.get(qid, []):
                links.setdefault(binding.concept, []).append(
                    _Link(
                        slot, f"{cycle.ref}:{qid}", cycle.ref, question, binding, cycle.submission
                    )
                )
                if binding.propagates and cycle.submission is None:
                    filled.setdefault(binding.concept, set()).add(slot)
                    filled_any.add(slot)

    def from_native(key: str, link: _Link) -> Any:
        """The concept value of a linked question's native answer, or NO_IMAGE."""
        value = answers.get(link.slot)
        if not is_answered(value) or not is_invertible(link.binding.transform):
            return NO_IMAGE
        return apply_inverse(link.binding.transform, value, concepts[key], link.question)

    result: dict[str, list[dict[str, Any]]] = {}

    def offer(target: str, definition: dict[str, Any], value: Any, source: dict[str, Any]) -> None:
        if not _fits(definition, value) or (not keep_equal and value == answers.get(target)):
            return
        offered = result.setdefault(target, [])
        # the same answer reaching a question through several concepts is offered once
        if not any(o["source"]["slot"] == source["slot"] and o["value"] == value for o in offered):
            offered.append({"value": value, "source": source})

    for key, linked in links.items():
        concept = concepts[key]
        fills = filled.get(key, set())
        # questions that only suggest: offered the concept's answer and the other questions'
        for link in linked:
            if link.slot in filled_any or link.submission is not None:
                continue
            target_binding = link.binding
            head = {
                "concept": key,
                "relation": target_binding.relation,
                "mapping_id": target_binding.mapping_id,
            }
            concept_value = answers.get(concept_slot(key)) if fills else None
            if is_answered(concept_value):
                carried = apply(target_binding.transform, concept_value, concept, link.question)
                offer(link.slot, link.question, carried, {"slot": concept_slot(key), **head})
            descriptive = link.question["type"] in DESCRIPTIVE
            for other in linked:
                if other.cycle == link.cycle or other.slot in fills:
                    continue  # another report's answers; the concept speaks for those it fills
                if not (descriptive or other.binding.propagates):
                    continue
                via = from_native(key, other)
                if via is NO_IMAGE:
                    continue
                carried = apply(target_binding.transform, via, concept, link.question)
                offer(
                    link.slot,
                    link.question,
                    carried,
                    _source(other, head),
                )
        # a concept answered once in the form: offered the answers of the questions that
        # only suggest from it
        if fills:
            for other in linked:
                if other.slot in fills:
                    continue
                if not (concept["type"] in DESCRIPTIVE or other.binding.propagates):
                    continue
                via = from_native(key, other)
                head = {
                    "concept": key,
                    "relation": other.binding.relation,
                    "mapping_id": other.binding.mapping_id,
                }
                offer(concept_slot(key), concept, via, _source(other, head, own=True))
    return result


def _source(link: _Link, head: dict[str, Any], *, own: bool = False) -> dict[str, Any]:
    """Where an offered native answer comes from; `own`: its link is the one named in `head`."""
    source: dict[str, Any] = {"slot": link.slot, "question": link.ref, **head}
    if not own:
        source["source_relation"] = link.binding.relation
        source["source_mapping_id"] = link.binding.mapping_id
    if link.submission is not None:
        source["submission"] = link.submission
    return source
