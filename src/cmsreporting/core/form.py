"""The merged form of a workspace. Pure: no database.

Each concept that fills a question (an approved exactMatch/closeMatch) appears once, at the
place of the first question it feeds, listing every native question it feeds; every other
question appears as a convention-specific item. Items follow the workspace's cycles in order
and, within each, the template's sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmsreporting.core.document import translation_status, walk
from cmsreporting.core.i18n import localize, pick
from cmsreporting.core.projection import Binding, concept_slot, native_slot
from cmsreporting.core.sections import SHARED, section_key
from cmsreporting.core.transforms import is_invertible

QUESTION_FIELDS = (
    "type",
    "required",
    "recommended",
    "visible_if",
    "max_length",
    "pattern",
    "min",
    "max",
    "integer",
    "unit",
    "options",
    "min_selected",
    "max_selected",
    "columns",
    "min_rows",
    "max_rows",
)


@dataclass(frozen=True)
class FormCycle:
    """One cycle of the workspace with its template and mappings."""

    ref: str
    template_id: int
    version: str
    document: dict[str, Any]
    bindings: list[Binding]
    due_on: str


def _question_view(question: dict[str, Any], lang: str, fallback: str) -> dict[str, Any]:
    view: dict[str, Any] = {"id": question["id"]}
    view["text"] = pick(question["text"], lang, fallback)
    if "help" in question:
        view["help"] = pick(question["help"], lang, fallback)
    for name in QUESTION_FIELDS:
        if name in question:
            view[name] = localize(question[name], lang, fallback)
    return view


def _concept_view(concept: dict[str, Any], lang: str) -> dict[str, Any]:
    fallback = "en" if "en" in concept["text"] else next(iter(concept["text"]))
    view = localize({k: v for k, v in concept.items() if k not in ("metadata",)}, lang, fallback)
    assert isinstance(view, dict)
    return view


def _section_view(section: dict[str, Any], lang: str, fallback: str) -> dict[str, Any]:
    """A section of a question's trail: its title, and its guidance where it has some."""
    view = {"id": section["id"], "title": pick(section["title"], lang, fallback)}
    if "description" in section:
        view["description"] = pick(section["description"], lang, fallback)
    return view


def _translation(document: dict[str, Any], lang: str) -> dict[str, Any]:
    """The language a cycle's texts are shown in, its fallback, and how many texts have it."""
    fallback = document["languages"][0]
    chosen = lang if lang in document["languages"] else fallback
    status = translation_status(document, [chosen])[chosen]
    return {
        "lang": chosen,
        "fallback": fallback,
        "texts": status["texts"],
        "translated": status["translated"],
    }


def build_form(
    cycles: list[FormCycle], concepts: dict[str, dict[str, Any]], lang: str
) -> dict[str, Any]:
    """The merged form: concept items and convention-specific question items, in order."""
    items: list[dict[str, Any]] = []
    concept_items: dict[str, dict[str, Any]] = {}
    offered: dict[str, list[dict[str, Any]]] = {}  # concept -> questions it only suggests to
    for cycle in cycles:
        document = cycle.document
        fallback = document["languages"][0]
        chosen = lang if lang in document["languages"] else fallback
        by_question: dict[str, list[Binding]] = {}
        for binding in cycle.bindings:
            by_question.setdefault(binding.question, []).append(binding)
        for visit in walk(document["sections"]):
            if visit.question is None:
                continue
            trail, question = visit.trail, visit.question
            qid = question["id"]
            linked = by_question.get(qid, [])
            feeding = next((b for b in linked if b.propagates and b.concept in concepts), None)
            view = _question_view(question, chosen, fallback)
            place = {
                "cycle": cycle.ref,
                "question": qid,
                "slot": native_slot(document, qid),
                "sections": [_section_view(s, chosen, fallback) for s in trail],
            }
            if feeding is not None:
                item = concept_items.get(feeding.concept)
                if item is None:
                    item = {
                        "kind": "concept",
                        "slot": concept_slot(feeding.concept),
                        "section": SHARED,
                        "concept": _concept_view(concepts[feeding.concept], lang),
                        "feeds": [],
                    }
                    concept_items[feeding.concept] = item
                    items.append(item)
                item["feeds"].append(
                    place
                    | {
                        "relation": feeding.relation,
                        "transform": feeding.transform,
                        "invertible": is_invertible(feeding.transform),
                        "mapping_id": feeding.mapping_id,
                        "question_definition": view,
                    }
                )
                continue
            suggestions = [
                {"concept": b.concept, "relation": b.relation, "mapping_id": b.mapping_id}
                for b in linked
                if b.status == "approved" and b.concept in concepts
            ]
            for b in linked:
                if b.status == "approved" and b.concept in concepts:
                    offered.setdefault(b.concept, []).append(
                        {"cycle": cycle.ref, "question": qid, "slot": place["slot"]}
                        | {"relation": b.relation, "mapping_id": b.mapping_id}
                    )
            items.append(
                {
                    "kind": "question",
                    **place,
                    "section": section_key(cycle.ref, trail[0]["id"]),
                    "definition": view,
                    "suggested_from": suggestions,
                }
            )
    for key, item in concept_items.items():
        item["suggests"] = offered.get(key, [])
    parts: list[dict[str, Any]] = []
    if concept_items:
        parts.append({"key": SHARED, "cycle": None, "title": None})
    for cycle in cycles:
        fallback = cycle.document["languages"][0]
        chosen = lang if lang in cycle.document["languages"] else fallback
        parts += [
            {
                "key": section_key(cycle.ref, section["id"]),
                "cycle": cycle.ref,
                "title": pick(section["title"], chosen, fallback),
            }
            for section in cycle.document["sections"]
        ]
    return {
        "lang": lang,
        "cycles": [
            {
                "cycle": c.ref,
                "template_id": c.template_id,
                "version": c.version,
                "title": pick(c.document["title"], lang, c.document["languages"][0]),
                "due_on": c.due_on,
                **_translation(c.document, lang),
            }
            for c in cycles
        ],
        "sections": parts,
        "items": items,
    }
