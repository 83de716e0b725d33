"""Submit-once through the HTTP API: the Idempotency-Key, all or nothing across conventions,
who submits to which convention, versions, immutable snapshots, secretariat decisions,
comments, carry-forward into the next cycle, cycle status, and who reads which submission.

The happy path is in tests/test_journey.py; workspaces and answers in tests/test_workspaces.py.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, date, datetime
from typing import Any

import httpx

from tests.factories.workspaces import (
    add_concept,
    add_mappings,
    mapping,
    nbsap_concept,
    open_workspace,
    preview,
    set_members,
    stored,
    write,
)
from tests.helpers import Headers, assert_problem, fill_required, pointers

SUBMISSIONS = "/api/v1/submissions"


async def submit(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    wid: int,
    *cycles: str,
    key: str | None,
) -> httpx.Response:
    """POST /workspaces/{wid}/submit with an Idempotency-Key (none when `key` is None)."""
    extra = {} if key is None else {"Idempotency-Key": key}
    return await client.post(
        f"/api/v1/workspaces/{wid}/submit", json={"cycles": list(cycles)}, headers=headers | extra
    )


async def submitted(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int, *cycles: str, key: str
) -> list[dict[str, Any]]:
    """Submit and return the created submissions' summaries."""
    response = await submit(client, headers, wid, *cycles, key=key)
    assert response.status_code == 201, response.text
    created: list[dict[str, Any]] = response.json()["submissions"]
    return created


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[tuple[str, str, int, str]]:
    """(party, cycle, version, status) of the submissions a caller is shown."""
    response = await client.get(SUBMISSIONS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [(s["party"], s["cycle"], s["version"], s["status"]) for s in response.json()["items"]]


async def decide(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    submission: int,
    decision: str,
    comment: str | None = None,
) -> httpx.Response:
    """Accept or return a submission."""
    body = {} if comment is None else {"comment": comment}
    return await client.post(f"{SUBMISSIONS}/{submission}/{decision}", json=body, headers=headers)


# --- 5. submit -----------------------------------------------------------------------------------


async def test_submit_needs_an_idempotency_key_bound_to_one_request(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await set_members(client, auth, "TZA", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")

    for key in (None, "", "   "):
        problem = assert_problem(await submit(client, fp, wid, "CMS:COP15", key=key), 422)
        assert pointers(problem) == ["/Idempotency-Key"], key
        assert problem["errors"][0]["in"] == "header"
    assert await listed(client, auth["admin"]) == []

    first = await submit(client, fp, wid, "CMS:COP15", key="report-2027")
    assert first.status_code == 201, first.text
    # the same key for another request is refused
    for cycles in (["CMS:COP15", "CBD:NR7"], ["CBD:NR7"]):
        reused = await submit(client, fp, wid, *cycles, key="report-2027")
        problem = assert_problem(reused, 422)
        assert pointers(problem) == ["/Idempotency-Key"]
    assert await listed(client, auth["admin"]) == [("KEN", "CMS:COP15", 1, "submitted")]
    # the same request is answered as the first time, also when sent by an admin
    again = await submit(client, auth["admin"], wid, "CMS:COP15", key="report-2027")
    assert (again.status_code, again.json()) == (201, first.json())

    # keys belong to a workspace: TZA's workspace may use the same key for its own report
    tza = await open_workspace(client, auth["tza_fp"], "TZA", "CMS:COP15")
    own = await submitted(client, auth["tza_fp"], tza, "CMS:COP15", key="report-2027")
    assert [(s["party"], s["cycle"]) for s in own] == [("TZA", "CMS:COP15")]
    assert own[0]["id"] != first.json()["submissions"][0]["id"]


async def test_submit_is_all_or_nothing_across_conventions(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    saved = await write(client, fp, wid, ("CMS:COP15:I(a).1", "Ministry", 0))
    assert saved.status_code == 200
    assert (await preview(client, fp, wid, "CMS:COP15"))["submittable"] is True
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert cbd["submittable"] is False

    blocked = await submit(client, fp, wid, "CMS:COP15", "CBD:NR7", key="together")
    problem = assert_problem(blocked, 422)
    assert pointers(problem) == ["/cycles/1"]
    assert set(problem["issues"]) == {"CBD:NR7"}
    assert problem["issues"]["CBD:NR7"] == [i for i in cbd["issues"] if i["severity"] == "error"]
    # nothing for CMS either, and the key was not spent on the refused request
    assert await listed(client, auth["admin"]) == []

    cms = await submitted(client, fp, wid, "CMS:COP15", key="cms-alone")
    assert [(s["cycle"], s["version"]) for s in cms] == [("CMS:COP15", 1)]
    # now CBD is ready but CMS is pending: again nothing is submitted, CBD included
    await fill_required(client, fp, wid, "CBD:NR7")
    pending = await submit(client, fp, wid, "CBD:NR7", "CMS:COP15", key="together")
    problem = assert_problem(pending, 409)
    assert pointers(problem) == ["/cycles/1"]
    assert problem["errors"][0]["submission"] == cms[0]["id"]
    assert await listed(client, auth["admin"]) == [("KEN", "CMS:COP15", 1, "submitted")]
    cbd_only = await submitted(client, fp, wid, "CBD:NR7", key="together")
    assert [(s["cycle"], s["version"], s["status"]) for s in cbd_only] == [
        ("CBD:NR7", 1, "submitted")
    ]


async def test_submit_names_cycles_of_the_workspace(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    await open_workspace(client, fp, "KEN", "CBD:NR7")  # another workspace's cycle
    for n, (cycles, pointer) in enumerate(
        [
            (["CBD:NR7"], "/cycles/0"),
            (["CMS:COP15", "CMS:COP99"], "/cycles/1"),
            (["CMS:COP15", "AEWA:MOP9"], "/cycles/1"),
            (["CMS:COP15", "CMS:COP15"], "/cycles/1"),
            ([], "/cycles"),
        ]
    ):
        problem = assert_problem(await submit(client, fp, wid, *cycles, key=f"k{n}"), 422)
        assert pointer in pointers(problem), (cycles, problem)
    assert await listed(client, auth["admin"]) == []


async def test_submit_names_a_malformed_cycle_reference(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    for n, cycles in enumerate([["not-a-cycle"], ["CMS:COP15", "CMS:COP15:IV.2"]]):
        problem = assert_problem(await submit(client, fp, wid, *cycles, key=f"k{n}"), 422)
        assert pointers(problem) == [f"/cycles/{len(cycles) - 1}"], problem
    assert await listed(client, auth["admin"]) == []


async def test_a_focal_point_submits_only_to_its_own_conventions(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """tza_fp is TZA's focal point for CMS only; TZA is a member of CMS and CBD."""
    tza = auth["tza_fp"]
    await set_members(client, auth, "TZA", "CMS", "CBD")
    wid = await open_workspace(client, tza, "TZA", "CMS:COP15", "CBD:NR7")
    await fill_required(client, tza, wid, "CBD:NR7")
    assert (await preview(client, tza, wid, "CBD:NR7"))["submittable"] is True

    refused = await submit(client, tza, wid, "CBD:NR7", key="cbd")
    assert pointers(assert_problem(refused, 403)) == ["/cycles/0"]
    both = await submit(client, tza, wid, "CMS:COP15", "CBD:NR7", key="both")
    assert pointers(assert_problem(both, 403)) == ["/cycles/1"]
    assert await listed(client, auth["admin"]) == []

    cms = await submitted(client, tza, wid, "CMS:COP15", key="cms")
    assert cms[0]["submitted_by"] == "user:tza_fp"
    # an admin may submit CBD for TZA
    cbd = await submitted(client, auth["admin"], wid, "CBD:NR7", key="cbd-by-admin")
    assert cbd[0]["submitted_by"] == "user:admin"
    assert await listed(client, auth["admin"]) == [
        ("TZA", "CMS:COP15", 1, "submitted"),
        ("TZA", "CBD:NR7", 1, "submitted"),
    ]


async def test_a_new_version_follows_only_a_return(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp, sec = auth["ken_fp"], auth["cms_sec"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    v1 = (await submitted(client, fp, wid, "CMS:COP15", key="v1"))[0]
    problem = assert_problem(await submit(client, fp, wid, "CMS:COP15", key="while-pending"), 409)
    assert problem["errors"][0]["submission"] == v1["id"]

    assert (await decide(client, sec, v1["id"], "return", "Incomplete")).status_code == 200
    v2 = (await submitted(client, fp, wid, "CMS:COP15", key="v2"))[0]
    assert (v2["version"], v2["status"]) == (2, "submitted")
    assert (await decide(client, sec, v2["id"], "accept")).status_code == 200

    problem = assert_problem(await submit(client, fp, wid, "CMS:COP15", key="after-accept"), 409)
    assert problem["errors"][0]["submission"] == v2["id"]
    assert await listed(client, auth["admin"]) == [
        ("KEN", "CMS:COP15", 1, "returned"),
        ("KEN", "CMS:COP15", 2, "accepted"),
    ]


async def test_concurrent_submissions_of_one_cycle_create_one_version(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    responses = await asyncio.gather(
        *(submit(client, fp, wid, "CMS:COP15", key=f"tab-{n}") for n in range(6))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [
        r.text for r in responses
    ]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    assert await listed(client, auth["admin"]) == [("KEN", "CMS:COP15", 1, "submitted")]


async def test_a_submission_is_an_immutable_snapshot_of_visible_values(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await nbsap_concept(client, auth)
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    saved = await write(
        client,
        fp,
        wid,
        ("concept:nbsap.revised", "yes", 0),
        ("CMS:COP15:IV.2(details)", "Addressed in targets 3 and 7", 0),
        ("CMS:COP15:V.1", False, 0),
        ("CMS:COP15:V.1(details)", "Hidden: V.1 is false", 0),
    )
    assert saved.status_code == 200, saved.text
    sub = (await submitted(client, fp, wid, "CMS:COP15", key="snap"))[0]
    first = (await client.get(f"{SUBMISSIONS}/{sub['id']}", headers=fp)).json()
    assert first["values"] == {
        "IV.2": True,
        "IV.2(details)": "Addressed in targets 3 and 7",
        "V.1": False,
    }
    assert first["provenance"] == {
        "IV.2": "concept:nbsap.revised",
        "IV.2(details)": "native",
        "V.1": "native",
    }
    assert first["template_version"] == "1.0.0"

    revisions = {slot: a["revision"] for slot, a in (await stored(client, fp, wid)).items()}
    edit = await write(
        client,
        fp,
        wid,
        ("concept:nbsap.revised", "no", revisions["concept:nbsap.revised"]),
        ("CMS:COP15:V.1", True, revisions["CMS:COP15:V.1"]),
        ("CMS:COP15:I(a).1", "Added later", 0),
    )
    assert edit.status_code == 200
    now = await preview(client, fp, wid, "CMS:COP15")
    assert now["values"]["IV.2"] is False
    assert now["values"]["V.1(details)"] == "Hidden: V.1 is false"
    for who in ("ken_fp", "cms_sec", "admin"):
        again = (await client.get(f"{SUBMISSIONS}/{sub['id']}", headers=auth[who])).json()
        assert (again["values"], again["provenance"], again["issues"]) == (
            first["values"],
            first["provenance"],
            first["issues"],
        )
    # and there is no way to change a submission in place
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(
            method, f"{SUBMISSIONS}/{sub['id']}", json={"values": {}}, headers=auth["admin"]
        )
        assert response.status_code == 405, (method, response.text)


# --- 6. decisions and comments -------------------------------------------------------------------


async def test_only_the_conventions_secretariat_decides_once(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    sub = (await submitted(client, fp, wid, "CMS:COP15", key="k"))[0]["id"]

    for decision in ("accept", "return"):
        for role, status in [
            ("cbd_sec", 404),  # may not even read a CMS submission
            ("tza_fp", 404),
            ("reviewer", 404),  # reads accepted submissions only
            ("ken_fp", 403),  # reads it, may not decide
        ]:
            assert_problem(await decide(client, auth[role], sub, decision, "No"), status)
        assert_problem(
            await client.post(f"{SUBMISSIONS}/{sub}/{decision}", json={"comment": "No"}), 401
        )
    for comment in (None, "", "   "):
        problem = assert_problem(await decide(client, auth["cms_sec"], sub, "return", comment), 422)
        assert pointers(problem) == ["/comment"]
    shown = (await client.get(f"{SUBMISSIONS}/{sub}", headers=fp)).json()
    assert (shown["status"], shown["decided_by"]) == ("submitted", None)

    accepted = await decide(client, auth["cms_sec"], sub, "accept", "Thank you")
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["decided_by"]) == (
        "accepted",
        "user:cms_sec",
    )
    for who, decision in [
        ("cms_sec", "accept"),
        ("cms_sec", "return"),
        ("admin", "return"),
    ]:
        assert_problem(await decide(client, auth[who], sub, decision, "Changed my mind"), 409)
    # now the reviewer reads it, but still does not decide
    assert_problem(await decide(client, auth["reviewer"], sub, "return", "No"), 403)
    thread = (await client.get(f"{SUBMISSIONS}/{sub}/comments", headers=fp)).json()
    assert [(c["kind"], c["body"], c["author"]) for c in thread] == [
        ("accept", "Thank you", "user:cms_sec")
    ]
    final = (await client.get(f"{SUBMISSIONS}/{sub}", headers=fp)).json()
    assert (final["status"], final["decided_by"]) == ("accepted", "user:cms_sec")


async def test_an_admin_decides_for_any_convention(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    sub = (await submitted(client, fp, wid, "CMS:COP15", key="k"))[0]["id"]
    returned = await decide(client, auth["admin"], sub, "return", "Please complete section V")
    assert (returned.status_code, returned.json()["status"]) == (200, "returned")


async def test_comment_thread_on_a_submission(client: httpx.AsyncClient, auth: Headers) -> None:
    fp, sec = auth["ken_fp"], auth["cms_sec"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    sub = (await submitted(client, fp, wid, "CMS:COP15", key="k"))[0]["id"]
    comments = f"{SUBMISSIONS}/{sub}/comments"

    asked = await client.post(
        comments, json={"body": "Which species does IV.2 cover?", "question": "IV.2"}, headers=sec
    )
    assert asked.status_code == 201, asked.text
    assert {k: asked.json()[k] for k in ("kind", "question", "author")} == {
        "kind": "comment",
        "question": "IV.2",
        "author": "user:cms_sec",
    }
    # a question of the submission's template, by its id
    for question in ("XX.99", "CMS:COP15:IV.2", "sectionII.hasRevisedNbsap"):
        problem = assert_problem(
            await client.post(comments, json={"body": "?", "question": question}, headers=sec),
            422,
        )
        assert pointers(problem) == ["/question"], question
    assert pointers(assert_problem(await client.post(comments, json={"body": ""}, headers=fp), 422))
    answered = await client.post(comments, json={"body": "All Appendix I birds."}, headers=fp)
    assert answered.status_code == 201
    assert answered.json()["question"] is None
    admin_note = await client.post(comments, json={"body": "Noted."}, headers=auth["admin"])
    assert admin_note.status_code == 201

    expected = [
        ("comment", "IV.2", "Which species does IV.2 cover?", "user:cms_sec"),
        ("comment", None, "All Appendix I birds.", "user:ken_fp"),
        ("comment", None, "Noted.", "user:admin"),
    ]
    for who in ("ken_fp", "cms_sec", "admin"):
        thread = await client.get(comments, headers=auth[who])
        assert thread.status_code == 200
        assert [(c["kind"], c["question"], c["body"], c["author"]) for c in thread.json()] == (
            expected
        )
    for who in ("tza_fp", "cbd_sec", "reviewer"):
        assert_problem(await client.get(comments, headers=auth[who]), 404)
        assert_problem(await client.post(comments, json={"body": "x"}, headers=auth[who]), 404)
    assert_problem(await client.get(comments), 401)

    # once accepted a reviewer reads the submission, but not the feedback thread
    assert (await decide(client, sec, sub, "accept")).status_code == 200
    assert (await client.get(f"{SUBMISSIONS}/{sub}", headers=auth["reviewer"])).status_code == 200
    assert_problem(await client.get(comments, headers=auth["reviewer"]), 403)
    assert_problem(await client.post(comments, json={"body": "x"}, headers=auth["reviewer"]), 403)
    thread = (await client.get(comments, headers=fp)).json()
    assert len(thread) == 3


async def test_the_thread_spans_versions_and_the_workspace_sees_the_review(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """One thread per Party and cycle: version 2 shows what was said on version 1 (each
    comment tagged with its version); the workspace's review lists the versions, their status
    and the thread, and says when a cycle is past due without a report."""
    fp, sec = auth["ken_fp"], auth["cms_sec"]
    await set_members(client, auth, "KEN", "CMS")
    await _next_cms_cycle(client, auth, "PAST", opens_on="2019-09-01", due_on="2020-06-30")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CMS:PAST")
    review = f"/api/v1/workspaces/{wid}/review"
    got_review = await client.get(review, headers=fp)
    assert got_review.status_code == 200, got_review.text
    before = got_review.json()
    assert [
        (c["cycle"], c["status"], c["past_due"], c["versions"], c["comments"])
        for c in before["cycles"]
    ] == [("CMS:COP15", None, False, [], []), ("CMS:PAST", None, True, [], [])]

    v1 = (await submitted(client, fp, wid, "CMS:COP15", key="v1"))[0]["id"]
    asked = await client.post(
        f"{SUBMISSIONS}/{v1}/comments",
        json={"body": "Which species does IV.2 cover?", "question": "IV.2"},
        headers=sec,
    )
    assert asked.status_code == 201
    assert (asked.json()["version"], asked.json()["submission_id"]) == (1, v1)
    assert (await decide(client, sec, v1, "return", "Please complete IV.2.")).status_code == 200
    v2 = (await submitted(client, fp, wid, "CMS:COP15", key="v2"))[0]["id"]
    replied = await client.post(
        f"{SUBMISSIONS}/{v2}/comments",
        json={"body": "Completed: all Appendix I birds."},
        headers=fp,
    )
    assert replied.json()["version"] == 2

    expected = [
        ("comment", "IV.2", 1, v1, "Which species does IV.2 cover?"),
        ("return", None, 1, v1, "Please complete IV.2."),
        ("comment", None, 2, v2, "Completed: all Appendix I birds."),
    ]
    for sid in (v1, v2):  # the same thread from either version
        thread = (await client.get(f"{SUBMISSIONS}/{sid}/comments", headers=sec)).json()
        got = [
            (c["kind"], c["question"], c["version"], c["submission_id"], c["body"]) for c in thread
        ]
        assert got == expected

    for who in ("ken_fp", "admin"):
        seen = (await client.get(review, headers=auth[who])).json()
        cms = seen["cycles"][0]
        assert (cms["cycle"], cms["status"], cms["past_due"]) == ("CMS:COP15", "submitted", False)
        assert [(v["id"], v["version"], v["status"]) for v in cms["versions"]] == [
            (v1, 1, "returned"),
            (v2, 2, "submitted"),
        ]
        assert [(c["kind"], c["version"], c["body"]) for c in cms["comments"]] == [
            (kind, version, body) for kind, _, version, _, body in expected
        ]
        assert seen["cycles"][1]["past_due"] is True
    # the workspace is the Party's: secretariats follow the submissions, others read nothing
    for who in ("tza_fp", "cms_sec", "reviewer"):
        assert_problem(await client.get(review, headers=auth[who]), 404)
    assert_problem(await client.get(review), 401)
    assert_problem(await client.get("/api/v1/workspaces/999999/review", headers=fp), 404)


async def test_a_blank_comment_is_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    sub = (await submitted(client, fp, wid, "CMS:COP15", key="k"))[0]["id"]
    comments = f"{SUBMISSIONS}/{sub}/comments"
    blank = await client.post(comments, json={"body": "   \n "}, headers=fp)
    assert pointers(assert_problem(blank, 422)) == ["/body"]
    assert (await client.get(comments, headers=fp)).json() == []


# --- 7. carry forward ----------------------------------------------------------------------------


async def _next_cms_cycle(
    client: httpx.AsyncClient,
    auth: Headers,
    code: str,
    opens_on: str = "2029-09-01",
    due_on: str = "2030-06-30",
) -> dict[str, Any]:
    """A new CMS cycle whose template is CMS COP15's document under the new cycle, with II.2
    offering one more option (so its shape changes) and VI.3 renamed VI.3bis; returns the
    document."""
    admin = auth["admin"]
    made = await client.post(
        "/api/v1/cycles",
        json={
            "convention": "CMS",
            "code": code,
            "title": f"National reports to {code}",
            "opens_on": opens_on,
            "due_on": due_on,
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    found = await client.get(
        "/api/v1/templates", params={"cycle": "CMS:COP15", "status": "published"}
    )
    (cop15,) = found.json()["items"]
    document: dict[str, Any] = copy.deepcopy(
        (await client.get(f"/api/v1/templates/{cop15['id']}/document")).json()
    )
    document["cycle"] = code
    document["version"] = "1.0.0"

    def edit(sections: list[dict[str, Any]]) -> None:
        for section in sections:
            for question in section.get("questions", []):
                if question["id"] == "II.2":
                    question["options"].insert(
                        -1, {"code": "light_pollution", "label": {"en": "Light pollution"}}
                    )
                if question["id"] == "VI.3":
                    question["id"] = "VI.3bis"
            edit(section.get("sections", []))

    edit(document["sections"])
    imported = await client.post("/api/v1/templates", json=document, headers=admin)
    assert imported.status_code == 201, imported.text
    published = await client.post(
        f"/api/v1/templates/{imported.json()['id']}/publish", headers=admin
    )
    assert published.status_code == 200, published.text
    return document


CARRY_CONCEPTS = [
    # concept, question, relation, transform
    ("nbsap.revised", "IV.2", "closeMatch", {"options": {"yes": True, "no": False}}),
    ("gov.institutions", "I(a).1", "exactMatch", {}),
    ("outcomes", "IV.4", "relatedMatch", {}),  # suggests only: never carried as a concept
]


async def _carry_concepts(client: httpx.AsyncClient, auth: Headers, cycle: str) -> None:
    await add_mappings(
        client,
        auth,
        *(
            mapping(concept, f"CMS:{cycle}:{qid}", relation, transform=transform)
            for concept, qid, relation, transform in CARRY_CONCEPTS
        ),
    )


async def test_accepted_answers_carry_forward_into_the_next_cycle(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp, sec = bare_client, auth["ken_fp"], auth["cms_sec"]
    await set_members(client, auth, "KEN", "CMS")
    await set_members(client, auth, "TZA", "CMS")
    await add_concept(
        client,
        auth,
        "nbsap.revised",
        "single_choice",
        options=[{"code": "yes"}, {"code": "partly"}, {"code": "no"}],
    )
    await add_concept(client, auth, "gov.institutions", "text")
    await add_concept(client, auth, "outcomes", "text")
    await _carry_concepts(client, auth, "COP15")

    old = await open_workspace(client, fp, "KEN", "CMS:COP15")
    table = [{"area_type": "marine", "covered": True, "coverage_km2": 1200}]
    saved = await write(
        client,
        fp,
        old,
        ("concept:nbsap.revised", "yes", 0),
        ("concept:gov.institutions", "Kenya Wildlife Service", 0),
        ("concept:outcomes", "Outcomes text", 0),
        ("CMS:COP15:IV.2(details)", "Targets 3 and 7", 0),
        ("CMS:COP15:IV.4", "Native outcomes", 0),
        ("CMS:COP15:V.2", "First draft", 0),
        ("CMS:COP15:V.1b", table, 0),
        ("CMS:COP15:II.2", ["by_catch"], 0),
        ("CMS:COP15:VI.3", "Satellite telemetry", 0),
    )
    assert saved.status_code == 200, saved.text
    v1 = (await submitted(client, fp, old, "CMS:COP15", key="v1"))[0]
    assert (await decide(client, sec, v1["id"], "return", "Say more on V.2")).status_code == 200
    assert (await write(client, fp, old, ("CMS:COP15:V.2", "Final text", 1))).status_code == 200
    v2 = (await submitted(client, fp, old, "CMS:COP15", key="v2"))[0]
    assert (await decide(client, sec, v2["id"], "accept")).status_code == 200

    await _next_cms_cycle(client, auth, "COP16")
    await _carry_concepts(client, auth, "COP16")
    made = await client.post(
        "/api/v1/workspaces", json={"party": "KEN", "cycles": ["CMS:COP16"]}, headers=fp
    )
    assert made.status_code == 201, made.text
    new = made.json()["id"]
    answers = await stored(client, fp, new)

    def source(question: str) -> dict[str, Any]:
        return {"submission": v2["id"], "cycle": "CMS:COP15", "question": question}

    expected = {
        # through concepts (the native value read back through the inverse transform)
        "concept:nbsap.revised": ("yes", source("IV.2")),
        "concept:gov.institutions": ("Kenya Wildlife Service", source("I(a).1")),
        # through unchanged question ids, from the accepted version
        "CMS:COP16:IV.2(details)": ("Targets 3 and 7", source("IV.2(details)")),
        "CMS:COP16:IV.4": ("Native outcomes", source("IV.4")),
        "CMS:COP16:V.2": ("Final text", source("V.2")),
        "CMS:COP16:V.1b": (table, source("V.1b")),
    }
    # a carried table row gets a new id (submitted values carry none), kept from then on
    (row,) = answers["CMS:COP16:V.1b"]["value"]
    assert isinstance(row.pop("@id"), str)
    assert {slot: (a["value"], a["carried"]) for slot, a in answers.items()} == expected
    assert {a["revision"] for a in answers.values()} == {1}
    assert made.json()["carried_forward"] == len(expected)
    # a carried answer is a starting point that fills the report like any other
    report = await preview(client, fp, new, "CMS:COP16")
    assert (report["values"]["IV.2"], report["provenance"]["IV.2"]) == (
        True,
        "concept:nbsap.revised",
    )
    assert report["values"]["V.2"] == "Final text"

    # writing a slot (even confirming the same value) makes it the focal point's own
    confirmed = await write(
        client,
        fp,
        new,
        ("CMS:COP16:V.2", "Updated for COP16", 1),
        ("concept:gov.institutions", "Kenya Wildlife Service", 1),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert {a["slot"]: a["carried"] for a in confirmed.json()["answers"]} == {
        "CMS:COP16:V.2": None,
        "concept:gov.institutions": None,
    }
    answers = await stored(client, fp, new)
    assert answers["CMS:COP16:V.2"]["revision"] == 2
    assert answers["concept:gov.institutions"]["carried"] is None
    assert answers["concept:nbsap.revised"]["carried"] == source("IV.2")
    # the submission it came from is untouched
    kept = (await client.get(f"{SUBMISSIONS}/{v2['id']}", headers=fp)).json()
    assert kept["values"]["V.2"] == "Final text"
    assert kept["values"]["V.1b"] == table  # row ids belong to the workspace, not the report

    # another Party starts from nothing: KEN's answers are KEN's
    tza = await client.post(
        "/api/v1/workspaces", json={"party": "TZA", "cycles": ["CMS:COP16"]}, headers=auth["tza_fp"]
    )
    assert tza.status_code == 201
    assert tza.json()["carried_forward"] == 0
    assert await stored(client, auth["tza_fp"], tza.json()["id"]) == {}

    # opting out carries nothing
    await _next_cms_cycle(client, auth, "COP17")
    await _carry_concepts(client, auth, "COP17")
    fresh = await client.post(
        "/api/v1/workspaces",
        json={"party": "KEN", "cycles": ["CMS:COP17"], "carry_forward": False},
        headers=fp,
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["carried_forward"] in (0, None)
    assert await stored(client, fp, fresh.json()["id"]) == {}


async def test_only_accepted_submissions_carry_forward(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    old = await open_workspace(client, fp, "KEN", "CMS:COP15")
    assert (await write(client, fp, old, ("CMS:COP15:V.2", "Pending", 0))).status_code == 200
    sub = (await submitted(client, fp, old, "CMS:COP15", key="v1"))[0]
    await _next_cms_cycle(client, auth, "COP16")
    pending = await client.post(
        "/api/v1/workspaces", json={"party": "KEN", "cycles": ["CMS:COP16"]}, headers=fp
    )
    assert pending.status_code == 201
    assert pending.json()["carried_forward"] == 0
    assert await stored(client, fp, pending.json()["id"]) == {}
    # returned is not accepted either
    assert (await decide(client, auth["cms_sec"], sub["id"], "return", "No")).status_code == 200
    await _next_cms_cycle(client, auth, "COP17")
    returned = await client.post(
        "/api/v1/workspaces", json={"party": "KEN", "cycles": ["CMS:COP17"]}, headers=fp
    )
    assert returned.json()["carried_forward"] == 0


# --- 8. cycle status -----------------------------------------------------------------------------


def _party_rows(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["party"]: row for row in status["parties"]}


async def test_cycle_status_per_member_party(client: httpx.AsyncClient, auth: Headers) -> None:
    fp, cms_sec, cbd_sec = auth["ken_fp"], auth["cms_sec"], auth["cbd_sec"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await set_members(client, auth, "TZA", "CMS", "CBD")
    await set_members(client, auth, "UGA", "CMS")
    today = datetime.now(UTC).date()  # the service dates by UTC

    status = (await client.get("/api/v1/cycles/CMS:COP15/status", headers=cms_sec)).json()
    cms_late = today > date.fromisoformat(status["due_on"])
    assert (status["cycle"], status["past_due"]) == ("CMS:COP15", cms_late)
    assert status["parties"] == [
        {
            "party": p,
            "member": True,
            "workspace_id": None,
            "status": "not_started",
            "late": cms_late,
        }
        for p in ("KEN", "TZA", "UGA")
    ]

    ken = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    tza = await open_workspace(client, auth["tza_fp"], "TZA", "CMS:COP15")

    # CBD NR7 was due on 2026-02-28
    cbd_report = await preview(client, fp, ken, "CBD:NR7")
    required = sorted(
        {i["question"] for i in cbd_report["issues"] if i["code"] == "required" and "row" not in i}
    )
    assert len(required) > 2
    cbd = (await client.get("/api/v1/cycles/CBD:NR7/status", headers=cbd_sec)).json()
    assert (cbd["due_on"], cbd["past_due"]) == ("2026-02-28", True)
    rows = _party_rows(cbd)
    assert set(rows) == {"KEN", "TZA"}
    assert rows["TZA"] == {
        "party": "TZA",
        "member": True,
        "workspace_id": None,
        "status": "not_started",
        "late": True,
    }
    assert rows["KEN"] == {
        "party": "KEN",
        "member": True,
        "workspace_id": ken,
        "status": "in_progress",
        "required_answered": 0,
        "required_total": len(required),
        "share_answered": 0.0,
        "late": True,
    }
    saved = await write(
        client,
        fp,
        ken,
        ("CBD:NR7:sectionV.assessmentSummary", "Summary", 0),
        ("CBD:NR7:sectionIV[A].summaryOfProgress", "Progress", 0),
    )
    assert saved.status_code == 200
    rows = _party_rows((await client.get("/api/v1/cycles/CBD:NR7/status", headers=cbd_sec)).json())
    assert (
        rows["KEN"]["required_answered"],
        rows["KEN"]["required_total"],
        rows["KEN"]["share_answered"],
    ) == (2, len(required), round(2 / len(required), 4))
    assert cbd["totals"] == {
        "in_progress": 1,
        "not_started": 1,
        "parties": 2,
        "members": 2,
        "late": 2,
    }

    # CMS: submitted, returned, submitted again as version 2, accepted
    v1 = (await submitted(client, fp, ken, "CMS:COP15", key="v1"))[0]
    rows = _party_rows(
        (await client.get("/api/v1/cycles/CMS:COP15/status", headers=cms_sec)).json()
    )
    assert {k: rows["KEN"][k] for k in ("status", "version", "submission_id", "workspace_id")} == {
        "status": "submitted",
        "version": 1,
        "submission_id": v1["id"],
        "workspace_id": ken,
    }
    assert rows["KEN"]["late"] is False
    assert (rows["TZA"]["status"], rows["TZA"]["workspace_id"]) == ("in_progress", tza)
    assert rows["UGA"]["status"] == "not_started"
    assert (await decide(client, cms_sec, v1["id"], "return", "More please")).status_code == 200
    rows = _party_rows(
        (await client.get("/api/v1/cycles/CMS:COP15/status", headers=cms_sec)).json()
    )
    assert (rows["KEN"]["status"], rows["KEN"]["version"], rows["KEN"]["late"]) == (
        "returned",
        1,
        cms_late,
    )
    v2 = (await submitted(client, fp, ken, "CMS:COP15", key="v2"))[0]
    rows = _party_rows(
        (await client.get("/api/v1/cycles/CMS:COP15/status", headers=cms_sec)).json()
    )
    assert (rows["KEN"]["status"], rows["KEN"]["version"]) == ("submitted", 2)
    assert (await decide(client, cms_sec, v2["id"], "accept")).status_code == 200
    status = (await client.get("/api/v1/cycles/CMS:COP15/status", headers=cms_sec)).json()
    rows = _party_rows(status)
    assert (rows["KEN"]["status"], rows["KEN"]["version"], rows["KEN"]["submission_id"]) == (
        "accepted",
        2,
        v2["id"],
    )
    assert status["totals"]["accepted"] == 1
    assert status["totals"]["parties"] == 3


async def test_a_report_submitted_after_the_due_date_is_late(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp, cms_sec = auth["ken_fp"], auth["cms_sec"]
    await set_members(client, auth, "KEN", "CMS")
    await set_members(client, auth, "TZA", "CMS")
    await _next_cms_cycle(client, auth, "PAST", opens_on="2019-09-01", due_on="2020-06-30")
    await _next_cms_cycle(client, auth, "FUTURE", opens_on="2019-09-01", due_on="2999-06-30")
    ken = await open_workspace(client, fp, "KEN", "CMS:PAST", "CMS:FUTURE")
    made = await submitted(client, fp, ken, "CMS:PAST", "CMS:FUTURE", key="both")
    status = (await client.get("/api/v1/cycles/CMS:PAST/status", headers=cms_sec)).json()
    rows = _party_rows(status)
    assert (rows["KEN"]["status"], rows["KEN"]["late"]) == ("submitted", True)
    assert (rows["TZA"]["status"], rows["TZA"]["late"]) == ("not_started", True)
    assert status["totals"]["late"] == 2
    # accepting it does not make it on time
    past = next(s for s in made if s["cycle"] == "CMS:PAST")
    assert (await decide(client, cms_sec, past["id"], "accept")).status_code == 200
    rows = _party_rows((await client.get("/api/v1/cycles/CMS:PAST/status", headers=cms_sec)).json())
    assert (rows["KEN"]["status"], rows["KEN"]["late"]) == ("accepted", True)
    # the same submission to a cycle not yet due is on time
    future = (await client.get("/api/v1/cycles/CMS:FUTURE/status", headers=cms_sec)).json()
    assert future["past_due"] is False
    rows = _party_rows(future)
    assert (rows["KEN"]["status"], rows["KEN"]["late"]) == ("submitted", False)
    assert (rows["TZA"]["status"], rows["TZA"]["late"]) == ("not_started", False)


async def test_who_follows_a_cycle(client: httpx.AsyncClient, auth: Headers) -> None:
    await set_members(client, auth, "KEN", "CMS")
    for role, cycle, expected in [
        ("cms_sec", "CMS:COP15", 200),
        ("reviewer", "CMS:COP15", 200),
        ("admin", "CMS:COP15", 200),
        ("cbd_sec", "CMS:COP15", 403),
        ("cms_sec", "CBD:NR7", 403),
        ("ken_fp", "CMS:COP15", 403),
        ("tza_fp", "CMS:COP15", 403),
        ("anonymous", "CMS:COP15", 401),
        ("admin", "CMS:COP99", 404),
    ]:
        headers = {} if role == "anonymous" else auth[role]
        response = await client.get(f"/api/v1/cycles/{cycle}/status", headers=headers)
        if expected == 200:
            assert response.status_code == 200, (role, response.text)
            assert [p["party"] for p in response.json()["parties"]] == ["KEN"]
        else:
            assert_problem(response, expected)


# --- 9. who reads which submission ---------------------------------------------------------------


async def test_who_reads_which_submission(client: httpx.AsyncClient, auth: Headers) -> None:
    fp, tza_fp = auth["ken_fp"], auth["tza_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await set_members(client, auth, "TZA", "CMS")
    ken = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    await fill_required(client, fp, ken, "CBD:NR7")
    ken_cms, ken_cbd = await submitted(client, fp, ken, "CMS:COP15", "CBD:NR7", key="k")
    tza = await open_workspace(client, tza_fp, "TZA", "CMS:COP15")
    (tza_cms,) = await submitted(client, tza_fp, tza, "CMS:COP15", key="k")
    assert (await decide(client, auth["cms_sec"], ken_cms["id"], "accept")).status_code == 200

    everything = {ken_cms["id"], ken_cbd["id"], tza_cms["id"]}
    visible = {
        "admin": everything,
        "cms_sec": {ken_cms["id"], tza_cms["id"]},
        "cbd_sec": {ken_cbd["id"]},
        "reviewer": {ken_cms["id"]},  # accepted only
        "ken_fp": {ken_cms["id"], ken_cbd["id"]},
        "tza_fp": {tza_cms["id"]},
    }
    for role, ids in visible.items():
        headers = auth[role]
        page = (await client.get(SUBMISSIONS, params={"limit": 100}, headers=headers)).json()
        assert {s["id"] for s in page["items"]} == ids, role
        for sid in everything:
            response = await client.get(f"{SUBMISSIONS}/{sid}", headers=headers)
            if sid in ids:
                assert response.status_code == 200, (role, sid)
                assert response.json()["id"] == sid
            else:
                problem = assert_problem(response, 404)
                assert "values" not in problem
                for path in ("diff", "comments"):
                    assert_problem(
                        await client.get(f"{SUBMISSIONS}/{sid}/{path}", headers=headers), 404
                    )
    assert_problem(await client.get(SUBMISSIONS), 401)
    # versions are compared within one Party's report
    other = await client.get(
        f"{SUBMISSIONS}/{ken_cms['id']}/diff",
        params={"against": tza_cms["id"]},
        headers=auth["cms_sec"],
    )
    assert pointers(assert_problem(other, 422)) == ["/against"]
    hidden = await client.get(
        f"{SUBMISSIONS}/{ken_cms['id']}/diff",
        params={"against": ken_cbd["id"]},
        headers=auth["cms_sec"],
    )
    assert_problem(hidden, 404)
    assert_problem(await client.get(f"{SUBMISSIONS}/{ken_cms['id']}"), 401)

    # filters narrow what a caller may see, never widen it
    assert await listed(client, auth["cms_sec"], convention="CBD") == []
    assert await listed(client, auth["cbd_sec"], party="TZA") == []
    assert await listed(client, auth["reviewer"], status="submitted") == []
    assert await listed(client, tza_fp, party="KEN") == []
    assert await listed(client, auth["admin"], cycle="CMS:COP15", party="KEN") == [
        ("KEN", "CMS:COP15", 1, "accepted")
    ]
    assert await listed(client, auth["admin"], convention="CMS", status="submitted") == [
        ("TZA", "CMS:COP15", 1, "submitted")
    ]
    assert await listed(client, auth["cms_sec"], party="ken") == [
        ("KEN", "CMS:COP15", 1, "accepted")
    ]
