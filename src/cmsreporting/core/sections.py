"""The parts of a workspace that a focal point assigns to contributors. Pure: no database.

A part is a top-level section of one cycle's template, named `CONVENTION:CYCLE:SECTION_ID`
(its subsections and their questions belong to it), or the group of shared questions of the
merged form (`shared`: every concept that fills a question of the workspace). An answer slot
belongs to one part: a native slot to its question's top-level section, a concept slot to
`shared`.
"""

from __future__ import annotations

from typing import Any

from cmsreporting.core.document import walk

SHARED = "shared"


def section_key(cycle_ref: str, section_id: str) -> str:
    """The name of a top-level section of a cycle's template."""
    return f"{cycle_ref}:{section_id}"


def top_sections(document: dict[str, Any]) -> dict[str, str]:
    """question id -> the id of the top-level section it is in."""
    return {
        place.question["id"]: place.trail[0]["id"]
        for place in walk(document["sections"])
        if place.question is not None
    }


def section_of_slot(slot: str, sections_by_cycle: dict[str, dict[str, str]]) -> str | None:
    """The part a slot belongs to (`shared` for a concept), None for a slot of no part."""
    if slot.startswith("concept:"):
        return SHARED
    convention, _, rest = slot.partition(":")
    code, _, question = rest.partition(":")
    ref = f"{convention}:{code}"
    top = sections_by_cycle.get(ref, {}).get(question)
    return section_key(ref, top) if top is not None else None
