"""The worked cases of shared/testdata/projection_cases.json, run through the pure projection.

tests/data/projection_cases.json is a copy of that file; test_cases_copy_is_current fails when
the shared file changes so the copy is refreshed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmsreporting.core.document import check_template
from cmsreporting.core.projection import Binding, project
from cmsreporting.core.transforms import check

DATA = Path(__file__).parent / "data" / "projection_cases.json"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "projection_cases.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text("utf-8"))["cases"]


def test_cases_copy_is_current() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not beside this checkout")
    assert json.loads(SHARED.read_text("utf-8")) == json.loads(DATA.read_text("utf-8"))


def _bindings(case: dict[str, Any]) -> list[Binding]:
    prefix = f"{case['template']['convention']}:{case['template']['cycle']}:"
    return [
        Binding(
            concept=m["concept"],
            question=m["question"].removeprefix(prefix),
            relation=m["relation"],
            status=m["status"],
            transform=m.get("transform", {}),
        )
        for m in case["mappings"]
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_inputs_are_valid(case: dict[str, Any]) -> None:
    """The templates and transforms of the cases pass the checks the service applies."""
    assert check_template(case["template"]) == []
    questions = {q["id"]: q for s in case["template"]["sections"] for q in s.get("questions", [])}
    concepts = {c["key"]: c for c in case["concepts"]}
    for binding in _bindings(case):
        assert (
            check(binding.transform, concepts[binding.concept], questions[binding.question]) == []
        )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_projection_case(case: dict[str, Any]) -> None:
    concepts = {c["key"]: c for c in case["concepts"]}
    report = project(case["template"], _bindings(case), concepts, case["answers"])
    expect = case["expect"]
    assert report.values == expect["values"]
    assert report.provenance == expect["provenance"]
    assert {q: s["value"] for q, s in report.suggestions.items()} == expect["suggestions"]
    assert [d["question"] for d in report.divergences] == expect["divergences"]
    assert report.needs_direct_answer == expect["needs_direct_answer"]
    assert sorted({i.question for i in report.issues if i.severity == "error"}) == sorted(
        expect["errors"]
    )
    assert sorted({i.question for i in report.issues if i.severity == "warning"}) == sorted(
        expect["warnings"]
    )
    for absent in expect.get("absent", []):
        assert absent not in report.values
        assert absent in report.hidden
