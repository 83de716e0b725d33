"""What changed between two template documents, question by question. Pure: no database."""

from __future__ import annotations

from typing import Any

from cmsreporting.core.document import walk

COMPARED = (
    "type",
    "text",
    "help",
    "options",
    "columns",
    "visible_if",
    "required",
    "recommended",
    "max_length",
    "pattern",
    "min",
    "max",
    "integer",
    "unit",
    "min_selected",
    "max_selected",
    "min_rows",
    "max_rows",
)
"""The members of a question compared (metadata is provenance, not content)."""


def _questions(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each question by id, with the id of its section, in document order."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for place in walk(document["sections"]):
        if place.question is not None:
            found[place.question["id"]] = (place.section["id"], place.question)
    return found


def _options_note(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    old = {o["code"]: o for o in before}
    new = {o["code"]: o for o in after}
    return {
        "added": [c for c in new if c not in old],
        "removed": [c for c in old if c not in new],
        "relabelled": [c for c in new if c in old and new[c]["label"] != old[c]["label"]],
    }


def diff_templates(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Questions added, removed and changed from `old` to `new`: old's order, then new's."""
    before, after = _questions(old), _questions(new)
    changes: list[dict[str, Any]] = []
    for qid in [*before, *(q for q in after if q not in before)]:
        if qid not in after:
            section, question = before[qid]
            changes.append(
                {"question": qid, "change": "removed", "section": section, "type": question["type"]}
            )
            continue
        if qid not in before:
            section, question = after[qid]
            changes.append(
                {"question": qid, "change": "added", "section": section, "type": question["type"]}
            )
            continue
        (old_section, was), (new_section, now) = before[qid], after[qid]
        fields: list[dict[str, Any]] = []
        if old_section != new_section:
            fields.append({"field": "section", "before": old_section, "after": new_section})
        for name in COMPARED:
            if was.get(name) != now.get(name):
                entry = {"field": name, "before": was.get(name), "after": now.get(name)}
                if name == "options":
                    entry |= _options_note(was.get(name) or [], now.get(name) or [])
                fields.append(entry)
        if fields:
            changes.append(
                {"question": qid, "change": "changed", "section": new_section, "fields": fields}
            )
    return changes
