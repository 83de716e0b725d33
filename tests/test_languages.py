"""Template languages: the CBD NR7 in the Secretariat's six UN languages, per-language
completeness, and the other bundled templates declaring only what they carry."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cmsreporting.resources import content_dir
from tests.factories.workspaces import set_members
from tests.helpers import minimal_template

SHARED_REFERENCE = content_dir().parent.parent / "shared" / "reference"
UN_LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh"]


def _i18n() -> dict[str, Any]:
    path = SHARED_REFERENCE / "cbd_nr7_i18n.json"
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    languages: dict[str, Any] = json.loads(path.read_text("utf-8"))["languages"]
    return languages


async def _published(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    page = await client.get("/api/v1/templates", params={"status": "published", "limit": 100})
    return {t["cycle"]: t for t in page.json()["items"]}


def _questions(sections: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for section in sections:
        for q in section.get("questions", []):
            found[q["id"]] = q
        found.update(_questions(section.get("sections", [])))
    return found


# question id -> (file, key) of its text in the Secretariat's tool
FROM_THE_TOOL = {
    "sectionII.hasRevisedNbsap": ("nr7-edit-section-II", "revisedNbsap"),
    "sectionI.nationalAuthorities": ("nr7-edit-section-I", "nationalAuthorities"),
    "additionalInformation": ("nr7-edit-section-other-information", "additionalInformationHelp"),
}


@pytest.mark.parametrize("lang", ["ar", "zh", "ru"])
async def test_cbd_nr7_reads_in_the_secretariats_own_translations(
    client: httpx.AsyncClient, lang: str
) -> None:
    i18n = _i18n()
    cbd = (await _published(client))["CBD:NR7"]
    assert cbd["languages"] == UN_LANGUAGES
    response = await client.get(f"/api/v1/templates/{cbd['id']}", params={"lang": lang})
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == lang
    body = response.json()
    assert body["lang"] == lang
    questions = _questions(body["sections"])
    for qid, (file, key) in FROM_THE_TOOL.items():
        expected = i18n[lang][file][key]
        assert expected != i18n["en"][file][key]
        assert questions[qid]["text"] == expected, qid
    # option words too: the binary-indicator answers
    goal_b = questions["binaryResponseGoalB.b_1"]
    words = i18n[lang]["binary-indicator-questions"]
    assert [o["label"] for o in goal_b["options"]] == [
        words[code] for code in ("no", "underDevelopment", "partially", "fully")
    ]
    # the section title joins two of the tool's strings
    part = i18n[lang]["nr7-edit-section-I"]
    assert body["sections"][0]["title"].startswith(part["sectionI"])
    assert body["sections"][0]["title"].endswith(part["sectionIDescription"])
    # the template records where the translations came from
    source = body["metadata"]["translations_source"]
    assert source["commit"].startswith("06b5c70")
    assert source["converted_by"] == "scripts/cbd_nr7_translations.py"


async def test_cbd_nr7_reports_what_is_not_translated(client: httpx.AsyncClient) -> None:
    """GBF indicator names are not in the tool's translations: reported, and shown in English."""
    cbd = (await _published(client))["CBD:NR7"]
    body = (await client.get(f"/api/v1/templates/{cbd['id']}", params={"lang": "ar"})).json()
    status = body["translations"]
    assert set(status) == set(UN_LANGUAGES)
    assert status["en"]["complete"] is True
    assert status["en"]["untranslated"] == []
    arabic = status["ar"]
    assert arabic["complete"] is False
    assert 0 < arabic["translated"] < arabic["texts"] == status["en"]["texts"]
    assert len(arabic["untranslated"]) == 20
    document = (await client.get(f"/api/v1/templates/{cbd['id']}/document")).json()
    for pointer in arabic["untranslated"]:
        node: Any = document
        for part in pointer.lstrip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert "en" in node, pointer
        assert "ar" not in node, pointer


async def test_a_language_missing_texts_is_reported_naming_them(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    doc = minimal_template(version="9.4.0")
    created = await client.post("/api/v1/templates", json=doc, headers=auth["cms_sec"])
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    body = (
        await client.get(f"/api/v1/templates/{tid}", params={"lang": "fr"}, headers=auth["cms_sec"])
    ).json()
    french = body["translations"]["fr"]
    assert french["complete"] is False
    # "Details", the table and its two columns have English only
    assert french["untranslated"] == [
        "/sections/0/questions/1/text",
        "/sections/0/questions/2/text",
        "/sections/0/questions/2/columns/0/text",
        "/sections/0/questions/2/columns/1/text",
    ]
    assert french["texts"] - french["translated"] == 4
    assert body["translations"]["en"]["complete"] is True
    questions = _questions(body["sections"])
    assert questions["I.1"]["text"] == "Est-ce couvert ?"
    assert questions["I.1a"]["text"] == "Details"  # the first language stands in


async def test_the_form_says_how_much_of_a_report_is_in_its_language(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    await set_members(client, auth, "KEN", "CMS", "CBD")
    made = await client.post(
        "/api/v1/workspaces",
        json={"party": "KEN", "cycles": ["CBD:NR7", "CMS:COP15"]},
        headers=auth["ken_fp"],
    )
    assert made.status_code == 201, made.text
    wid = made.json()["id"]
    form = await client.get(
        f"/api/v1/workspaces/{wid}/form", params={"lang": "zh"}, headers=auth["ken_fp"]
    )
    assert form.status_code == 200, form.text
    cycles = {c["cycle"]: c for c in form.json()["cycles"]}
    assert cycles["CBD:NR7"]["lang"] == "zh"
    assert 0 < cycles["CBD:NR7"]["translated"] < cycles["CBD:NR7"]["texts"]
    # the CMS template carries English only: shown in English, fully
    assert cycles["CMS:COP15"]["lang"] == "en"
    assert cycles["CMS:COP15"]["fallback"] == "en"
    assert cycles["CMS:COP15"]["translated"] == cycles["CMS:COP15"]["texts"]


async def test_other_bundled_templates_declare_only_english(client: httpx.AsyncClient) -> None:
    published = await _published(client)
    for ref in ("CMS:COP15", "AEWA:MOP9", "CITES:COP21", "RAMSAR:COP16"):
        assert published[ref]["languages"] == ["en"], ref
        body = (
            await client.get(f"/api/v1/templates/{published[ref]['id']}", params={"lang": "fr"})
        ).json()
        assert body["lang"] == "en"
        assert body["translations"] == {
            "en": {
                "texts": body["translations"]["en"]["texts"],
                "translated": body["translations"]["en"]["texts"],
                "complete": True,
                "untranslated": [],
            }
        }


async def test_cbd_nr7_carries_the_tools_guidance_in_every_language(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    i18n = _i18n()
    cbd = (await _published(client))["CBD:NR7"]
    for lang in UN_LANGUAGES:
        body = (await client.get(f"/api/v1/templates/{cbd['id']}", params={"lang": lang})).json()
        sections = {s["id"]: s for s in body["sections"]}
        five = i18n[lang]["nr7-edit-section-V"]
        assert sections["V"]["description"].startswith(five["introduction"].strip()[:200])
        assert sections["V"]["description"].endswith(five["sectionMandatory"].strip())
        process = _questions(body["sections"])["sectionI.processUndertaken"]
        coordination = i18n[lang]["nr7-edit-section-I"]["coordination"].strip()
        assert process["help"].splitlines()[0] == f"- {coordination}"
    # the form gives a question's section guidance with its trail
    await set_members(client, auth, "KEN", "CBD")
    made = await client.post(
        "/api/v1/workspaces", json={"party": "KEN", "cycles": ["CBD:NR7"]}, headers=auth["ken_fp"]
    )
    assert made.status_code == 201, made.text
    form = await client.get(
        f"/api/v1/workspaces/{made.json()['id']}/form",
        params={"lang": "ar"},
        headers=auth["ken_fp"],
    )
    item = next(
        i for i in form.json()["items"] if i.get("question") == "sectionV.assessmentSummary"
    )
    section = item["sections"][0]
    assert section["id"] == "V"
    assert section["description"].endswith(i18n["ar"]["nr7-edit-section-V"]["sectionMandatory"])
