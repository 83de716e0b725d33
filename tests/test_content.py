"""The bundled content (content/) is valid on its own: no database, no service.

The JSON files under content/ are the source of truth and are edited by hand; these tests hold
them to the checks the service applies on load, plus the curation rules of content/README.md:
every crosswalk question exists in a bundled template, at most one propagating mapping per
question, and every concept tag has a source that still says what it cites.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cmsreporting.core import transforms
from cmsreporting.core.crosswalk_document import concept_errors, schema_errors
from cmsreporting.core.document import check_template, iter_questions
from cmsreporting.resources import content_dir, schemas_dir

PROPAGATING = ("exactMatch", "closeMatch")
# the three kinds of tag source (content/README.md, "Crosswalk")
SOURCE_KINDS = (
    r"\S+: (published correspondence, mappings\.json #\d+: "
    r"|curated by cmsreporting from the target text, targets_reference\.json "
    r"|template metadata, )"
)
SHARED_REFERENCE = content_dir().parent.parent / "shared" / "reference"
TEMPLATE_FILES = sorted((content_dir() / "templates").glob("*.json"))
CROSSWALK_FILES = sorted((content_dir() / "crosswalk").glob("*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _templates() -> dict[str, dict[str, Any]]:
    """'CONVENTION:CYCLE' -> template document."""
    out = {}
    for path in TEMPLATE_FILES:
        doc = _load(path)
        out[f"{doc['convention']}:{doc['cycle']}"] = doc
    return out


def _questions() -> dict[str, dict[str, Any]]:
    """'CONVENTION:CYCLE:question' -> question, over every bundled template."""
    return {
        f"{ref}:{q['id']}": q for ref, doc in _templates().items() for _, q in iter_questions(doc)
    }


def _crosswalk() -> dict[str, Any]:
    (path,) = CROSSWALK_FILES
    document: dict[str, Any] = _load(path)
    return document


def test_layout_keeps_schemas_and_content_apart() -> None:
    assert sorted(p.name for p in schemas_dir().iterdir()) == [
        "crosswalk.schema.json",
        "template.schema.json",
    ]
    assert [p.name for p in TEMPLATE_FILES] == [
        "aewa_mop9.json",
        "cbd_nr7.json",
        "cites_cop21.json",
        "cms_cop15.json",
        "ramsar_cop16.json",
    ]
    assert [p.name for p in CROSSWALK_FILES] == ["bundled.json"]
    assert sorted(p.name for p in (content_dir() / "reference").glob("*.json")) == [
        "conventions.json",
        "cycles.json",
        "memberships.json",
        "organisations.json",
    ]


@pytest.mark.parametrize("path", TEMPLATE_FILES + CROSSWALK_FILES, ids=lambda p: p.name)
def test_files_are_in_the_canonical_layout(path: Path) -> None:
    """Two-space indent, UTF-8 text, final newline (so that edits give small diffs)."""
    raw = path.read_text("utf-8")
    assert raw == json.dumps(json.loads(raw), indent=2, ensure_ascii=False) + "\n", (
        f"{path.name}: reformat as described in content/README.md"
    )


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_bundled_template_is_valid(path: Path) -> None:
    document = _load(path)
    assert check_template(document) == []
    reference = content_dir() / "reference"
    conventions = {c["code"]: c for c in _load(reference / "conventions.json")["conventions"]}
    cycles = {(c["convention"], c["code"]) for c in _load(reference / "cycles.json")["cycles"]}
    assert (document["convention"], document["cycle"]) in cycles
    assert set(document["languages"]) <= set(conventions[document["convention"]]["languages"])
    metadata = document["metadata"]
    assert isinstance(metadata["illustrative_sample"], bool)
    assert metadata["reference_file"], "each template names the reference file it came from"
    if metadata["illustrative_sample"]:
        assert "NOT the convention's official wording" in metadata["note"]
    assert sum(1 for _ in iter_questions(document)) >= 25


def test_crosswalk_is_valid_against_the_templates() -> None:
    document = _crosswalk()
    assert schema_errors("concept", {}) != []  # the checks are live
    templates = _templates()
    assert document["metadata"]["templates"] == {
        ref: doc["version"] for ref, doc in templates.items()
    }
    concepts = {}
    for i, concept in enumerate(document["concepts"]):
        assert concept_errors(concept, f"/concepts/{i}") == []
        assert concept["key"] not in concepts, f"duplicate concept {concept['key']}"
        concepts[concept["key"]] = concept
    questions = _questions()
    propagating: dict[str, str] = {}
    for i, mapping in enumerate(document["mappings"]):
        where = f"/mappings/{i}"
        assert schema_errors("mapping", mapping, where) == []
        question = questions.get(mapping["question"])
        assert question is not None, f"{where}: no question {mapping['question']}"
        convention, cycle, _ = mapping["question"].split(":", 2)
        assert mapping["template_version"] == templates[f"{convention}:{cycle}"]["version"]
        concept = concepts.get(mapping["concept"])
        assert concept is not None, f"{where}: no concept {mapping['concept']}"
        assert transforms.check(mapping.get("transform", {}), concept, question, where) == []
        assert mapping["justification"].strip(), f"{where}: a mapping says why"
        if mapping["relation"] in PROPAGATING and mapping.get("status") == "approved":
            earlier = propagating.setdefault(mapping["question"], mapping["concept"])
            assert earlier == mapping["concept"], (
                f"{mapping['question']}: propagating from {earlier} and {mapping['concept']}"
            )
    pairs = Counter((m["concept"], m["question"]) for m in document["mappings"])
    assert [pair for pair, n in pairs.items() if n > 1] == []


def test_every_concept_tag_names_its_source() -> None:
    """One tag_sources entry per tag, in tag order; template-metadata sources still hold."""
    questions = _questions()
    for concept in _crosswalk()["concepts"]:
        sources = concept["metadata"]["tag_sources"]
        assert [s.split(": ", 1)[0] for s in sources] == concept["tags"], concept["key"]
        assert "not published by a convention secretariat" in concept["metadata"]["curation"]
        for source in sources:
            assert re.match(SOURCE_KINDS, source), f"{concept['key']}: {source}"
            found = re.fullmatch(r"(\S+): template metadata, (\S+) (\w+) = (\S+)", source)
            if found:
                tag, question, key, value = found.groups()
                assert questions[question]["metadata"][key] == value, source
                assert value == _tag_reference(tag), source


def _tag_reference(tag: str) -> str:
    """The reference-file id a SCHEME:ID concept tag stands for."""
    scheme, ident = tag.split(":", 1)
    if scheme == "GBF":
        return f"GBF-{ident}" if ident.startswith("GOAL-") else f"GBF-TARGET-{int(ident[1:]):02d}"
    if scheme == "AICHI":
        return f"AICHI-TARGET-{int(ident[1:]):02d}"
    prefixes = {
        "SPMS": "SPMS-",
        "SPMS2024": "SPMS2024-",
        "RAMSAR": "RAMSAR-SP4-",
        "CITES": "CITES-SV2021-",
        "SDG": "",
    }
    return prefixes[scheme] + ident


def _target_ids(targets: dict[str, Any]) -> set[str]:
    keys = ("gbf_targets", "aichi_targets", "spms_2015_2023_targets")
    ids = {t["id"] for key in keys for t in targets[key]}
    for goal in targets["spms_2024_2032"]:
        ids.add(goal["id"])
        ids |= {t["id"] for t in goal.get("targets", [])}
    ids |= {t["id"] for t in targets["ramsar_sp4"]["targets"]}
    ids |= {g["id"] for g in targets["cites_strategic_vision"]["goals"]}
    return ids


def test_concept_tags_match_the_shared_reference_files() -> None:
    """Cited mappings.json rows link the tagged target; cited target ids exist."""
    if not (SHARED_REFERENCE / "mappings.json").exists():
        pytest.skip(f"{SHARED_REFERENCE} is not beside this checkout")
    rows = _load(SHARED_REFERENCE / "mappings.json")
    targets = _target_ids(_load(SHARED_REFERENCE / "targets_reference.json"))
    checked = 0
    for concept in _crosswalk()["concepts"]:
        for source in concept["metadata"]["tag_sources"]:
            tag = source.split(": ", 1)[0]
            ref = _tag_reference(tag)
            row = re.match(r"\S+: published correspondence, mappings\.json #(\d+): ", source)
            if row:
                linked = rows[int(row.group(1))]
                assert ref in (linked["from"]["id"], linked["to"]["id"]), source
                checked += 1
            text = re.match(
                r"\S+: curated by cmsreporting from the target text, "
                r"targets_reference\.json (\S+): ",
                source,
            )
            if text:
                assert text.group(1) == ref, source
                assert ref in targets, source
                checked += 1
    assert checked >= 50


def test_every_pair_of_templates_was_reviewed() -> None:
    """metadata.pair_review: one entry per pair of bundled templates, saying what is linked and
    what was left unlinked; every concept it names exists."""
    document = _crosswalk()
    refs = sorted(_templates())
    expected = {f"{a} / {b}" for i, a in enumerate(refs) for b in refs[i + 1 :]}
    review = document["metadata"]["pair_review"]
    assert set(review) == expected
    keys = {c["key"] for c in document["concepts"]}
    themes = {key.split(".")[0] for key in keys}
    for pair, text in review.items():
        assert "Not linked" in text or "not linked" in text, pair
        named = [
            k for k in re.findall(r"\b([a-z_]+\.[a-z_]+)\b", text) if k.split(".")[0] in themes
        ]
        assert [k for k in named if k not in keys] == [], pair
