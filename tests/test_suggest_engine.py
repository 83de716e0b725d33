"""The pure suggestion engine (core/suggest.py): the transforms it proposes, checked like
mappings, and how it ranks and filters candidate pairs. No database."""

from __future__ import annotations

from typing import Any

from cmsreporting.core import suggest as engine
from cmsreporting.core import transforms


def choice(*pairs: tuple[str, str], type_: str = "single_choice") -> dict[str, Any]:
    return {
        "type": type_,
        "text": {"en": "Q"},
        "options": [{"code": c, "label": {"en": lab}} for c, lab in pairs],
    }


def test_proposed_transforms_apply_and_carry_values() -> None:
    boolean = {"type": "boolean", "text": {"en": "Q"}}
    yes_no = choice(("y", "Yes"), ("p", "Partially"), ("n", "No"))
    to_choice = engine.propose_transform(boolean, yes_no)
    assert to_choice == {"options": {"true": "y", "false": "n"}}
    assert transforms.apply(to_choice, True, boolean, yes_no) == "y"
    to_bool = engine.propose_transform(yes_no, boolean)
    assert to_bool == {"options": {"y": True, "n": False}}
    # options matched by label across codes; one without an equal stays unmapped
    source = choice(("in_progress", "In progress"), ("done", "Fully"), ("odd", "Sometimes"))
    target = choice(("inProgress", "In progress"), ("fully", "Fully"))
    assert engine.propose_transform(source, target) == {
        "options": {"in_progress": "inProgress", "done": "fully"}
    }
    # same codes: identity
    assert engine.propose_transform(target, target) == {}
    # units
    ha = {"type": "number", "text": {"en": "Area"}, "unit": "ha"}
    km2 = {"type": "number", "text": {"en": "Area"}, "unit": "km2"}
    assert engine.propose_transform(ha, km2) == {"scale": 0.01, "offset": 0}
    # tables: columns by id or label, each with its own transform
    t1 = {
        "type": "table",
        "text": {"en": "T"},
        "columns": [
            {"id": "name", "type": "text", "text": {"en": "Name"}},
            {"id": "ok", "type": "boolean", "text": {"en": "Effective"}},
        ],
    }
    t2 = {
        "type": "table",
        "text": {"en": "T"},
        "columns": [
            {"id": "title", "type": "text", "text": {"en": "Name"}},
            {**choice(("yes", "Yes"), ("no", "No")), "id": "eff", "text": {"en": "Effective"}},
        ],
    }
    proposal = engine.propose_transform(t1, t2)
    assert proposal == {
        "columns": {
            "name": {"to": "title"},
            "ok": {"to": "eff", "transform": {"options": {"true": "yes", "false": "no"}}},
        }
    }
    assert transforms.check(proposal, t1, t2) == []
    # nothing carries text to a boolean
    assert engine.propose_transform({"type": "text", "text": {"en": "Q"}}, boolean) is None


def item(ref: str, text: str, **extra: Any) -> engine.Item:
    return engine.Item(ref=ref, definition={"type": "text", "text": {"en": text}}, **extra)


def test_ranking_prefers_the_same_question_and_leaves_out_known_pairs() -> None:
    sources = [item("A:1:q1", "Which national authority coordinates wetland policy?")]
    targets = [
        item("B:1:x", "Number of permits issued during the reporting period"),
        item("B:1:y", "Which national authority coordinates the wetland policy?"),
        item("B:1:z", "Describe the monitoring of migratory waterbirds"),
    ]
    ranked = engine.suggest(sources, targets, limit=3)
    assert next(c.to_ref for c in ranked) == "B:1:y"
    assert ranked[0].score > ranked[1].score
    assert ranked[0].relation == "exactMatch"
    assert ranked[0].transform == {}
    assert ranked[0].justification == "semapv:LexicalMatching"
    # rejected either way round, or already linked through a concept: not suggested
    rejected = engine.suggest(sources, targets, rejected=[("B:1:y", "A:1:q1")])
    assert "B:1:y" not in {c.to_ref for c in rejected}
    linked_targets = [
        *targets[:1],
        item("B:1:y", targets[1].definition["text"]["en"], concepts=frozenset({"k"})),
    ]
    linked_sources = [
        item("A:1:q1", sources[0].definition["text"]["en"], concepts=frozenset({"k"}))
    ]
    assert "B:1:y" not in {c.to_ref for c in engine.suggest(linked_sources, linked_targets)}
    # min_score and limit
    assert all(c.score >= 0.5 for c in engine.suggest(sources, targets, min_score=0.5))
    assert len(engine.suggest(sources, targets, limit=1)) == 1


def test_shared_targets_add_evidence_and_are_named() -> None:
    sources = [item("A:1:q", "Report on the national plan", tags=frozenset({"SPMS:T2"}))]
    plain = [item("B:1:r", "Report on the national plan")]
    tagged = [item("B:1:r", "Report on the national plan", tags=frozenset({"GBF:T14"}))]
    related = {"SPMS:T2": frozenset({"GBF:T14"})}
    without = engine.suggest(sources, plain, related_tags=related)[0]
    through = engine.suggest(sources, tagged, related_tags=related)[0]
    assert through.score >= without.score
    assert any("SPMS:T2 ~ GBF:T14" in r for r in through.reasons)
    assert through.justification == "semapv:CompositeMatching"
