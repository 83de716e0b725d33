"""The bundled templates are published on first start and faithful to their sources."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cmsreporting.core.document import iter_questions
from cmsreporting.resources import content_dir

REFERENCE_CBD = {"I", "II", "III", "IV", "V", "other"}


async def _published(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    page = await client.get("/api/v1/templates", params={"status": "published", "limit": 100})
    return {t["cycle"]: t for t in page.json()["items"]}


async def test_five_conventions_have_published_templates(client: httpx.AsyncClient) -> None:
    published = await _published(client)
    assert set(published) >= {"CMS:COP15", "AEWA:MOP9", "CBD:NR7", "CITES:COP21", "RAMSAR:COP16"}
    assert published["CBD:NR7"]["illustrative_sample"] is False
    assert published["CMS:COP15"]["illustrative_sample"] is False
    for ref in ("AEWA:MOP9", "CITES:COP21", "RAMSAR:COP16"):
        assert published[ref]["illustrative_sample"] is True
    for ref, summary in published.items():
        cycle = (await client.get(f"/api/v1/cycles/{ref}")).json()
        assert cycle["template"]["id"] == summary["id"]


async def test_cbd_nr7_keeps_the_ort_fields_and_questionnaires(client: httpx.AsyncClient) -> None:
    published = await _published(client)
    doc = (await client.get(f"/api/v1/templates/{published['CBD:NR7']['id']}/document")).json()
    questions: dict[str, dict[str, Any]] = {}

    def walk(sections: list[dict[str, Any]]) -> None:
        for section in sections:
            for q in section.get("questions", []):
                questions[q["id"]] = q
            walk(section.get("sections", []))

    walk(doc["sections"])
    nbsap = questions["sectionII.hasRevisedNbsap"]
    assert nbsap["type"] == "single_choice"
    assert [o["code"] for o in nbsap["options"]] == ["yes", "no", "inProgress"]
    assert questions["sectionV.assessmentSummary"]["required"] is True
    binary = [q for q in questions.values() if q["id"].startswith("binaryResponse")]
    # 78 questionnaire questions in the source; grouped headers are folded into their parts
    assert len(binary) >= 70
    goal_b = questions["binaryResponseGoalB.b_1"]
    assert [o["code"] for o in goal_b["options"]] == [
        "no",
        "underDevelopment",
        "partially",
        "fully",
    ]
    assert goal_b["required"] is True
    sections = {s["id"] for s in doc["sections"]}
    assert sections >= REFERENCE_CBD | {"binaryIndicators"}
    questionnaires = next(s for s in doc["sections"] if s["id"] == "binaryIndicators")
    assert len(questionnaires["sections"]) == 16
    goals = next(s for s in doc["sections"] if s["id"] == "IV")
    assert [s["id"] for s in goals["sections"]] == ["IV[A]", "IV[B]", "IV[C]", "IV[D]"]


def test_cbd_options_match_the_reference_file() -> None:
    """Every option list of the CBD questionnaires is carried over code for code."""
    reference_file = content_dir().parent.parent / "shared" / "reference" / "cbd_nr7.json"
    if not reference_file.exists():
        pytest.skip(f"{reference_file} is not beside this checkout")
    reference = json.loads(reference_file.read_text("utf-8"))
    doc = json.loads((content_dir() / "templates" / "cbd_nr7.json").read_text("utf-8"))
    questions = {q["id"]: q for _, q in iter_questions(doc)}
    checked = 0
    for questionnaire in reference["binary_indicator_questionnaires"]:
        for q in questionnaire["questions"]:
            if q.get("options"):
                mine = questions.get(f"{questionnaire['key']}.{q['key']}")
                assert mine is not None, q["key"]
                assert [o["code"] for o in mine["options"]] == [
                    str(o["value"]) for o in q["options"]
                ]
                assert mine.get("required", False) == bool(q.get("mandatory")), q["key"]
                checked += 1
    assert checked >= 60


async def test_cms_template_keeps_printed_numbers_and_targets(client: httpx.AsyncClient) -> None:
    published = await _published(client)
    doc = (await client.get(f"/api/v1/templates/{published['CMS:COP15']['id']}/document")).json()
    first = doc["sections"][0]["questions"][0]
    assert first["id"] == "I(a).1"
    assert first["metadata"]["spms_targets"] == [2]
    # no French or Spanish text of the format's questions could be had: English only, and a
    # request for French is answered in English (Content-Language says so)
    fr = await client.get(
        f"/api/v1/templates/{published['CMS:COP15']['id']}", params={"lang": "fr"}
    )
    assert fr.json()["lang"] == "en"
    assert fr.headers["content-language"] == "en"
    assert "Migratory Species" in fr.json()["title"]


def _coverage_script() -> Any:
    """scripts/crosswalk_coverage.py, which writes README.md's coverage matrix."""
    import importlib.util

    path = content_dir().parent / "scripts" / "crosswalk_coverage.py"
    if not path.exists():
        pytest.skip(f"{path} is not in this installation")
    spec = importlib.util.spec_from_file_location("crosswalk_coverage", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_readme_shows_the_coverage_the_service_computes(client: httpx.AsyncClient) -> None:
    script = _coverage_script()
    result = await script.matrix(client)
    assert result["cycles"] == ["AEWA:MOP9", "CBD:NR7", "CITES:COP21", "CMS:COP15", "RAMSAR:COP16"]
    assert len(result["pairs"]) == 20
    # the matrix is the coverage endpoint's, pair by pair
    one = await client.get(
        "/api/v1/crosswalk/coverage", params={"from": "CMS:COP15", "to": "AEWA:MOP9"}
    )
    assert result["pairs"]["CMS:COP15>AEWA:MOP9"] == one.json()["totals"]
    readme = (content_dir().parent / "README.md").read_text("utf-8")
    shown = readme.split("<!-- coverage:start -->\n", 1)[1].split("<!-- coverage:end -->", 1)[0]
    assert shown == script.markdown(result), (
        "README.md's coverage matrix is out of date: run "
        "`.venv/bin/python scripts/crosswalk_coverage.py --markdown` and paste its output"
    )


async def test_a_reporting_authority_given_once_is_offered_to_the_other_reports(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    """The bundled crosswalk's report.national_authority, through the form's offers."""
    admin = auth["admin"]
    for convention in ("CBD", "AEWA", "CITES"):
        member = await client.put(
            f"/api/v1/parties/KEN/memberships/{convention}", json={}, headers=admin
        )
        assert member.status_code in (200, 201), member.text
    made = await client.post(
        "/api/v1/workspaces",
        json={"party": "KEN", "cycles": ["CBD:NR7", "AEWA:MOP9", "CITES:COP21"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    wid = made.json()["id"]
    authority = "Kenya Wildlife Service, P.O. Box 40241, Nairobi"
    saved = await client.patch(
        f"/api/v1/workspaces/{wid}/answers",
        json={
            "answers": [
                {
                    "slot": "CBD:NR7:sectionI.nationalAuthorities",
                    "value": authority,
                    "base_revision": 0,
                }
            ]
        },
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    offered = (await client.get(f"/api/v1/workspaces/{wid}/suggestions", headers=admin)).json()
    from_cbd = {
        o["slot"]: o
        for o in offered["items"]
        if o["source"]["slot"] == "CBD:NR7:sectionI.nationalAuthorities"
    }
    assert set(from_cbd) == {"AEWA:MOP9:A.1", "CITES:COP21:A.1"}
    # CITES's Management Authority only through the concept of the reporting authority
    assert from_cbd["CITES:COP21:A.1"]["source"]["concept"] == "report.national_authority"
    assert from_cbd["CITES:COP21:A.1"]["source"]["relation"] == "narrowMatch"
    assert {o["value"] for o in from_cbd.values()} == {authority}
