"""Answers the Party already gave, offered to the questions a non-filling mapping links them to
(GET /workspaces/{id}/suggestions), taken with `reused_from`, and that provenance in the stored
answer, its audit event, the preview, the submission and its exports.

Cycles CMS:T1 (template A) and CBD:T1 (template B) of tests/factories/crosswalk.py, with:
- `reuse.monitoring` (yes/no) filling CBD b_mon (exactMatch) and only suggested to CMS a_mon
  (narrowMatch, yes/no -> boolean);
- `reuse.text` (text) linked to CMS a_text (broadMatch) and CBD b_text (relatedMatch): neither
  filled, each offered the other's answer;
- `reuse.capacity` (text) filling CBD b_cap (exactMatch), related to CMS a_cap;
- `reuse.count` (number) narrower in CMS a_count and CBD b_count: a number is not offered from
  one to the other (neither link says they have the same answer).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.factories.crosswalk import setup_templates
from tests.factories.workspaces import (
    WORKSPACES,
    add_concept,
    add_mappings,
    mapping,
    open_workspace,
    preview,
    set_members,
    stored,
    write,
)
from tests.helpers import Headers, assert_problem, pointers


async def _setup(client: httpx.AsyncClient, auth: Headers) -> int:
    """The crosswalk, and a workspace of Kenya for both cycles."""
    await _crosswalk(client, auth)
    return await open_workspace(client, auth["ken_fp"], "KEN", "CMS:T1", "CBD:T1")


async def _crosswalk(client: httpx.AsyncClient, auth: Headers) -> None:
    await setup_templates(client, auth)
    await set_members(client, auth, "KEN", "CMS", "CBD")
    yes_no = [{"code": "yes"}, {"code": "no"}]
    await add_concept(client, auth, "reuse.monitoring", "single_choice", options=yes_no)
    await add_concept(client, auth, "reuse.text", "text")
    await add_concept(client, auth, "reuse.capacity", "text")
    await add_concept(client, auth, "reuse.count", "number")
    await add_mappings(
        client,
        auth,
        mapping("reuse.monitoring", "CBD:T1:b_mon", "exactMatch"),
        mapping(
            "reuse.monitoring",
            "CMS:T1:a_mon",
            "narrowMatch",
            transform={"options": {"yes": True, "no": False}},
        ),
        mapping("reuse.text", "CMS:T1:a_text", "broadMatch"),
        mapping("reuse.text", "CBD:T1:b_text", "relatedMatch"),
        mapping("reuse.capacity", "CBD:T1:b_cap", "exactMatch"),
        mapping("reuse.capacity", "CMS:T1:a_cap", "relatedMatch"),
        mapping("reuse.count", "CMS:T1:a_count", "narrowMatch"),
        mapping("reuse.count", "CBD:T1:b_count", "narrowMatch"),
    )


async def _offered(client: httpx.AsyncClient, fp: dict[str, str], wid: int) -> list[Any]:
    response = await client.get(f"{WORKSPACES}/{wid}/suggestions", headers=fp)
    assert response.status_code == 200, response.text
    assert response.json()["workspace_id"] == wid
    items: list[Any] = response.json()["items"]
    return items


async def _reuse(
    client: httpx.AsyncClient, fp: dict[str, str], wid: int, *answers: tuple[str, Any, int, str]
) -> httpx.Response:
    return await client.patch(
        f"{WORKSPACES}/{wid}/answers",
        json={
            "answers": [
                {"slot": s, "value": v, "base_revision": r, "reused_from": f}
                for s, v, r, f in answers
            ]
        },
        headers=fp,
    )


async def test_the_form_shows_every_question_a_shared_answer_reaches(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    wid = await _setup(client, auth)
    form = (await client.get(f"{WORKSPACES}/{wid}/form", headers=auth["ken_fp"])).json()
    shared = next(i for i in form["items"] if i["slot"] == "concept:reuse.monitoring")
    assert [f["slot"] for f in shared["feeds"]] == ["CBD:T1:b_mon"]
    assert [(s["slot"], s["relation"]) for s in shared["suggests"]] == [
        ("CMS:T1:a_mon", "narrowMatch")
    ]
    a_mon = next(i for i in form["items"] if i.get("slot") == "CMS:T1:a_mon")
    assert a_mon["kind"] == "question"
    assert [s["concept"] for s in a_mon["suggested_from"]] == ["reuse.monitoring"]


async def test_answers_given_elsewhere_are_offered_and_taken_with_their_provenance(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    wid = await _setup(client, auth)
    assert await _offered(client, fp, wid) == []

    saved = await write(
        client,
        fp,
        wid,
        ("concept:reuse.monitoring", "yes", 0),
        ("CBD:T1:b_text", "Two ministries and the wildlife service", 0),
    )
    assert saved.status_code == 200, saved.text
    offered = {(o["slot"], o["source"]["slot"]): o for o in await _offered(client, fp, wid)}
    assert set(offered) == {
        ("CMS:T1:a_mon", "concept:reuse.monitoring"),
        ("CMS:T1:a_text", "CBD:T1:b_text"),
    }
    mon = offered["CMS:T1:a_mon", "concept:reuse.monitoring"]
    assert mon["value"] is True  # carried into the question's own terms
    assert mon["source"]["relation"] == "narrowMatch"
    text = offered["CMS:T1:a_text", "CBD:T1:b_text"]
    assert text["value"] == "Two ministries and the wildlife service"
    assert isinstance(text["source"]["mapping_id"], int)
    assert text["source"]["source_mapping_id"] != text["source"]["mapping_id"]
    assert text["source"] | {"mapping_id": None, "source_mapping_id": None} == {
        "slot": "CBD:T1:b_text",
        "question": "CBD:T1:b_text",
        "concept": "reuse.text",
        "relation": "broadMatch",
        "source_relation": "relatedMatch",
        "mapping_id": None,
        "source_mapping_id": None,
    }

    # taken: one as offered, one edited before saving
    taken = await _reuse(
        client,
        fp,
        wid,
        ("CMS:T1:a_mon", True, 0, "concept:reuse.monitoring"),
        ("CMS:T1:a_text", "Two ministries, the wildlife service", 0, "CBD:T1:b_text"),
    )
    assert taken.status_code == 200, taken.text
    answers = await stored(client, fp, wid)
    assert answers["CMS:T1:a_mon"]["reused_from"] | {"mapping_id": None} == {
        "slot": "concept:reuse.monitoring",
        "concept": "reuse.monitoring",
        "relation": "narrowMatch",
        "mapping_id": None,
        "value": True,
        "edited": False,
    }
    assert answers["CMS:T1:a_text"]["reused_from"]["slot"] == "CBD:T1:b_text"
    assert answers["CMS:T1:a_text"]["reused_from"]["edited"] is True
    assert answers["CBD:T1:b_text"]["reused_from"] is None
    # a value taken as offered is not offered again; the edited one still is, and now the
    # CMS answer is offered back to CBD
    again = [(o["slot"], o["source"]["slot"]) for o in await _offered(client, fp, wid)]
    assert sorted(again) == [
        ("CBD:T1:b_text", "CMS:T1:a_text"),
        ("CMS:T1:a_text", "CBD:T1:b_text"),
    ]

    events = (
        await client.get(
            "/api/v1/audit", params={"target_type": "workspace"}, headers=auth["admin"]
        )
    ).json()["items"]
    reused_events = [e for e in events if e["after"].get("reused_from")]
    assert {e["after"]["slot"] for e in reused_events} == {"CMS:T1:a_mon", "CMS:T1:a_text"}

    report = await preview(client, fp, wid, "CMS:T1")
    assert report["provenance"]["a_mon"] == "reused:concept:reuse.monitoring"
    assert report["provenance"]["a_text"] == "reused:CBD:T1:b_text"
    assert report["reused"]["a_text"]["concept"] == "reuse.text"
    cbd = await preview(client, fp, wid, "CBD:T1")
    assert cbd["provenance"] == {"b_mon": "concept:reuse.monitoring", "b_text": "native"}
    assert cbd["reused"] == {}

    # the submission keeps the provenance, and its exports show it
    submitted = await client.post(
        f"{WORKSPACES}/{wid}/submit",
        json={"cycles": ["CMS:T1"]},
        headers=fp | {"Idempotency-Key": "reuse-1"},
    )
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["submissions"][0]["id"]
    detail = (await client.get(f"/api/v1/submissions/{sid}", headers=fp)).json()
    assert detail["provenance"]["a_text"] == "reused:CBD:T1:b_text"
    assert detail["reused"]["a_text"]["concept"] == "reuse.text"
    assert detail["reused"]["a_text"]["edited"] is True
    assert set(detail["reused"]) == {"a_mon", "a_text"}
    as_json = await client.get(f"/api/v1/submissions/{sid}/export?format=json", headers=fp)
    assert as_json.status_code == 200, as_json.text
    questions = {q["id"]: q for s in as_json.json()["sections"] for q in s["questions"]}
    assert questions["a_text"]["reused_from"]["slot"] == "CBD:T1:b_text"
    assert "reused_from" not in questions.get("a_extra", {})
    exported = await client.get(f"/api/v1/submissions/{sid}/export?format=csv", headers=fp)
    assert exported.status_code == 200, exported.text
    rows = {r["question"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert rows["a_text"]["provenance"] == "reused:CBD:T1:b_text"
    html = await client.get(f"/api/v1/submissions/{sid}/export?format=html", headers=fp)
    assert "taken from the answer to CBD:T1:b_text (broadMatch through reuse.text, edited)" in (
        html.text
    )


async def test_a_concept_answered_once_is_offered_the_answers_it_only_suggests_from(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    wid = await _setup(client, auth)
    written = await write(
        client,
        fp,
        wid,
        ("CMS:T1:a_cap", "Two training courses for rangers", 0),
        ("CMS:T1:a_mon", False, 0),  # a narrower no says nothing of the broader concept
        ("CMS:T1:a_count", 12, 0),  # nor does a narrower number of another narrower one
    )
    assert written.status_code == 200, written.text
    offered = await _offered(client, fp, wid)
    assert [(o["slot"], o["value"], o["source"]["slot"]) for o in offered] == [
        ("concept:reuse.capacity", "Two training courses for rangers", "CMS:T1:a_cap")
    ]
    taken = await _reuse(
        client,
        fp,
        wid,
        ("concept:reuse.capacity", "Two training courses for rangers", 0, "CMS:T1:a_cap"),
    )
    assert taken.status_code == 200, taken.text
    report = await preview(client, fp, wid, "CBD:T1")
    # the value reaches CBD through the concept, whose answer came from CMS a_cap
    assert report["provenance"]["b_cap"] == "concept:reuse.capacity"
    assert report["reused"]["b_cap"]["slot"] == "CMS:T1:a_cap"
    refused = await _reuse(client, fp, wid, ("CBD:T1:b_count", 12, 0, "CMS:T1:a_count"))
    assert pointers(assert_problem(refused, 422)) == ["/answers/0/reused_from"]


async def test_a_source_that_offers_nothing_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    wid = await _setup(client, auth)
    assert (await write(client, fp, wid, ("CBD:T1:b_text", "Committee", 0))).status_code == 200

    # a slot with no link to the target; a target that is not offered this source; a cleared
    # answer naming a source
    refused = await _reuse(
        client,
        fp,
        wid,
        ("CMS:T1:a_cap", "Committee", 0, "CBD:T1:b_text"),
        ("CMS:T1:a_text", "Committee", 0, "CBD:T1:b_free"),
        ("CMS:T1:a_mon", None, 0, "concept:reuse.monitoring"),
    )
    problem = assert_problem(refused, 422)
    assert pointers(problem) == [
        "/answers/0/reused_from",
        "/answers/1/reused_from",
        "/answers/2/reused_from",
    ]
    assert set(await stored(client, fp, wid)) == {"CBD:T1:b_text"}

    # a source not answered yet offers nothing either
    assert_problem(
        await _reuse(client, fp, wid, ("CMS:T1:a_mon", True, 0, "concept:reuse.monitoring")),
        422,
    )
    too_long = await _reuse(client, fp, wid, ("CMS:T1:a_text", "x", 0, "x" * 301))
    assert pointers(assert_problem(too_long, 422)) == ["/answers/0/reused_from"]


async def test_a_later_write_without_a_source_drops_the_provenance(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    wid = await _setup(client, auth)
    assert (await write(client, fp, wid, ("CBD:T1:b_text", "Committee", 0))).status_code == 200
    taken = await _reuse(client, fp, wid, ("CMS:T1:a_text", "Committee", 0, "CBD:T1:b_text"))
    assert taken.status_code == 200, taken.text
    assert taken.json()["answers"][0]["reused_from"]["slot"] == "CBD:T1:b_text"
    rewritten = await write(client, fp, wid, ("CMS:T1:a_text", "My own words", 1))
    assert rewritten.status_code == 200, rewritten.text
    assert (await stored(client, fp, wid))["CMS:T1:a_text"]["reused_from"] is None
    assert (await preview(client, fp, wid, "CMS:T1"))["provenance"]["a_text"] == "native"


async def test_values_that_do_not_carry_are_not_offered(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    wid = await _setup(client, auth)
    # a_text allows 2000 characters: a longer answer elsewhere is not offered to it
    long = "x" * 2500
    assert (await write(client, fp, wid, ("CBD:T1:b_text", long, 0))).status_code == 200
    assert await _offered(client, fp, wid) == []
    # someone else's workspace is not found
    other = await client.get(f"{WORKSPACES}/{wid}/suggestions", headers=auth["tza_fp"])
    assert_problem(other, 404)


async def test_answers_of_an_earlier_report_are_offered_with_their_submission(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await _crosswalk(client, auth)
    cms = await open_workspace(client, fp, "KEN", "CMS:T1")
    written = await write(
        client,
        fp,
        cms,
        ("CMS:T1:a_text", "National biodiversity committee minutes", 0),
        ("CMS:T1:a_mon", True, 0),
    )
    assert written.status_code == 200, written.text
    submitted = await client.post(
        f"{WORKSPACES}/{cms}/submit",
        json={"cycles": ["CMS:T1"]},
        headers=fp | {"Idempotency-Key": "reuse-earlier"},
    )
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["submissions"][0]["id"]

    cbd = await open_workspace(client, fp, "KEN", "CBD:T1")
    offered = await _offered(client, fp, cbd)
    # the description is offered; the narrower yes/no is no answer to the concept it narrows
    assert [(o["slot"], o["value"], o["source"].get("submission")) for o in offered] == [
        ("CBD:T1:b_text", "National biodiversity committee minutes", sid)
    ]
    assert offered[0]["source"]["question"] == "CMS:T1:a_text"
    taken = await _reuse(
        client, fp, cbd, ("CBD:T1:b_text", "Committee minutes, 2026", 0, "CMS:T1:a_text")
    )
    assert taken.status_code == 200, taken.text
    source = (await stored(client, fp, cbd))["CBD:T1:b_text"]["reused_from"]
    assert (source["submission"], source["edited"]) == (sid, True)
    report = await preview(client, fp, cbd, "CBD:T1")
    assert report["provenance"]["b_text"] == "reused:CMS:T1:a_text"
    # an answer not yet submitted in the other workspace is not offered (concept:reuse.capacity
    # would take CMS a_cap's); the edited answer is still offered the submitted one
    assert (await write(client, fp, cms, ("CMS:T1:a_cap", "Courses", 0))).status_code == 200
    assert [o["slot"] for o in await _offered(client, fp, cbd)] == ["CBD:T1:b_text"]
