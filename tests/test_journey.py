"""A focal point's whole journey through the API: one workspace, one shared answer feeding two
conventions' reports, convention-specific answers, submit-once, and later edits that leave the
submissions unchanged."""

from __future__ import annotations

import httpx

from tests.factories.workspaces import shared_nbsap_concept
from tests.helpers import Headers, assert_problem, fill_required


async def test_answer_once_submit_to_two_conventions(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await shared_nbsap_concept(client, auth)
    made = await client.post(
        "/api/v1/workspaces", json={"party": "KEN", "cycles": ["CMS:COP15", "CBD:NR7"]}, headers=fp
    )
    assert made.status_code == 201, made.text
    wid = made.json()["id"]

    form = (await client.get(f"/api/v1/workspaces/{wid}/form", headers=fp)).json()
    shared = [i for i in form["items"] if i["kind"] == "concept"]
    assert [i["slot"] for i in shared] == ["concept:nbsap.revised"]
    assert {(f["cycle"], f["question"]) for f in shared[0]["feeds"]} == {
        ("CMS:COP15", "IV.2"),
        ("CBD:NR7", "sectionII.hasRevisedNbsap"),
    }
    native = {i["slot"] for i in form["items"] if i["kind"] == "question"}
    assert "CMS:COP15:I(a).1" in native
    assert "CMS:COP15:IV.2" not in native

    saved = await client.patch(
        f"/api/v1/workspaces/{wid}/answers",
        json={
            "answers": [
                {"slot": "concept:nbsap.revised", "value": "yes", "base_revision": 0},
                {
                    "slot": "CMS:COP15:I(a).1",
                    "value": "Ministry of Environment",
                    "base_revision": 0,
                },
                {
                    "slot": "CBD:NR7:sectionI.contactPerson",
                    "value": "Jane Wanjiru",
                    "base_revision": 0,
                },
            ]
        },
        headers=fp,
    )
    assert saved.status_code == 200, saved.text
    assert {a["slot"]: a["revision"] for a in saved.json()["answers"]} == {
        "concept:nbsap.revised": 1,
        "CMS:COP15:I(a).1": 1,
        "CBD:NR7:sectionI.contactPerson": 1,
    }

    cms = (await client.get(f"/api/v1/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    cbd = (await client.get(f"/api/v1/workspaces/{wid}/preview/CBD:NR7", headers=fp)).json()
    assert cms["values"]["IV.2"] is True
    assert cms["provenance"]["IV.2"] == "concept:nbsap.revised"
    assert cms["values"]["I(a).1"] == "Ministry of Environment"
    assert cms["provenance"]["I(a).1"] == "native"
    assert "sectionI.contactPerson" not in cms["values"]
    assert cbd["values"]["sectionII.hasRevisedNbsap"] == "yes"
    assert cbd["provenance"]["sectionII.hasRevisedNbsap"] == "concept:nbsap.revised"
    assert cbd["values"]["sectionI.contactPerson"] == "Jane Wanjiru"
    # the CMS details question appears once IV.2 is true through the concept
    assert "IV.2(details)" not in cms["hidden"]

    # CBD has required questions: the report cannot be submitted until they are answered
    assert cbd["submittable"] is False
    blocked = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15", "CBD:NR7"]},
        headers=fp | {"Idempotency-Key": "first-try"},
    )
    problem = assert_problem(blocked, 422)
    assert "CBD:NR7" in problem["issues"]
    assert (await client.get("/api/v1/submissions", headers=fp)).json()["items"] == []

    await fill_required(client, fp, wid, "CBD:NR7")
    await fill_required(client, fp, wid, "CMS:COP15")
    key = {"Idempotency-Key": "ken-2026-final"}
    submitted = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15", "CBD:NR7"]},
        headers=fp | key,
    )
    assert submitted.status_code == 201, submitted.text
    subs = submitted.json()["submissions"]
    assert [(s["cycle"], s["version"], s["status"]) for s in subs] == [
        ("CMS:COP15", 1, "submitted"),
        ("CBD:NR7", 1, "submitted"),
    ]
    again = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15", "CBD:NR7"]},
        headers=fp | key,
    )
    assert again.status_code == 201
    assert again.json() == submitted.json()
    listed = (await client.get("/api/v1/submissions", headers=fp)).json()["items"]
    assert len(listed) == 2

    cms_sub = (await client.get(f"/api/v1/submissions/{subs[0]['id']}", headers=fp)).json()
    assert cms_sub["values"]["IV.2"] is True
    assert cms_sub["provenance"]["IV.2"] == "concept:nbsap.revised"

    # later edits change the workspace, never the submissions
    answers = (await client.get(f"/api/v1/workspaces/{wid}/answers", headers=fp)).json()["answers"]
    revision = next(a["revision"] for a in answers if a["slot"] == "concept:nbsap.revised")
    edit = await client.patch(
        f"/api/v1/workspaces/{wid}/answers",
        json={
            "answers": [{"slot": "concept:nbsap.revised", "value": "no", "base_revision": revision}]
        },
        headers=fp,
    )
    assert edit.status_code == 200
    preview = (await client.get(f"/api/v1/workspaces/{wid}/preview/CMS:COP15", headers=fp)).json()
    assert preview["values"]["IV.2"] is False
    unchanged = (await client.get(f"/api/v1/submissions/{subs[0]['id']}", headers=fp)).json()
    assert unchanged["values"] == cms_sub["values"]
    # a second submission of a pending report is refused
    pending = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=fp | {"Idempotency-Key": "another"},
    )
    assert_problem(pending, 409)

    # the CMS secretariat returns it with a comment; the Party amends and submits version 2
    returned = await client.post(
        f"/api/v1/submissions/{subs[0]['id']}/return",
        json={"comment": "Please describe the NBSAP revision."},
        headers=auth["cms_sec"],
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    thread = (await client.get(f"/api/v1/submissions/{subs[0]['id']}/comments", headers=fp)).json()
    assert [(c["kind"], c["body"]) for c in thread] == [
        ("return", "Please describe the NBSAP revision.")
    ]
    assert_problem(
        await client.post(
            f"/api/v1/submissions/{subs[1]['id']}/accept", json={}, headers=auth["cms_sec"]
        ),
        404,
    )
    v2 = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=fp | {"Idempotency-Key": "amended"},
    )
    assert v2.status_code == 201, v2.text
    v2_id = v2.json()["submissions"][0]["id"]
    assert v2.json()["submissions"][0]["version"] == 2
    diff = (await client.get(f"/api/v1/submissions/{v2_id}/diff", headers=auth["cms_sec"])).json()
    assert {"question": "IV.2", "change": "changed", "before": True, "after": False} in diff[
        "changes"
    ]
    accepted = await client.post(
        f"/api/v1/submissions/{v2_id}/accept", json={}, headers=auth["cms_sec"]
    )
    assert accepted.json()["status"] == "accepted"
    status = (await client.get("/api/v1/cycles/CMS:COP15/status", headers=auth["cms_sec"])).json()
    kenya = next(p for p in status["parties"] if p["party"] == "KEN")
    assert kenya["status"] == "accepted"
    assert kenya["version"] == 2
