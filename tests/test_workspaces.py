"""The harmonized workspace through the HTTP API: who opens one for which cycles, answers checked
before anything is stored, no lost writes (also under real concurrency), what each convention
receives from shared and native answers, and who may see a workspace at all.

The happy path (one concept feeding two reports, submit-once, return, version 2) is in
tests/test_journey.py; these tests cover the rules around it. Submissions, decisions, comments,
carry-forward and cycle status are in tests/test_submissions.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.factories.workspaces import (
    WORKSPACES,
    add_concept,
    add_mappings,
    mapping,
    nbsap_concept,
    open_workspace,
    preview,
    set_members,
    stored,
    workspace_ids,
    write,
)
from tests.helpers import Headers, assert_problem, pointers, questions_of

# --- 1. creating a workspace ---------------------------------------------------------------------


async def test_workspace_covers_only_cycles_of_member_conventions(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    cases: list[tuple[dict[str, Any], str]] = [
        # KEN is not a member of AEWA (it holds no AEWA focal point either: admin asks)
        ({"party": "KEN", "cycles": ["CMS:COP15", "AEWA:MOP9"]}, "/cycles/1"),
        ({"party": "KEN", "cycles": ["CMS:COP99"]}, "/cycles/0"),
        ({"party": "KEN", "cycles": ["CBD:NR7", "NOPE:X1"]}, "/cycles/1"),
        ({"party": "KEN", "cycles": ["not a cycle"]}, "/cycles/0"),
        ({"party": "KEN", "cycles": ["CMS:COP15", "CMS:COP15"]}, "/cycles/1"),
        ({"party": "ZZZ", "cycles": ["CMS:COP15"]}, "/party"),
    ]
    for body, pointer in cases:
        refused = await client.post(WORKSPACES, json=body, headers=auth["admin"])
        problem = assert_problem(refused, 422)
        assert pointer in pointers(problem), (body, problem)
    assert await workspace_ids(client, auth["admin"]) == []

    made = await client.post(
        WORKSPACES, json={"party": "KEN", "cycles": ["CMS:COP15"], "title": "KEN 2027"}, headers=fp
    )
    assert made.status_code == 201, made.text
    first = made.json()
    assert made.headers["location"] == f"/api/v1/workspaces/{first['id']}"
    assert first["party"] == "KEN"
    assert first["title"] == "KEN 2027"
    assert first["created_by"] == "user:ken_fp"
    assert [(c["cycle"], c["convention"]) for c in first["cycles"]] == [("CMS:COP15", "CMS")]

    # CMS COP15 is taken by the first workspace: a second one of KEN cannot cover it
    taken = await client.post(
        WORKSPACES, json={"party": "KEN", "cycles": ["CBD:NR7", "CMS:COP15"]}, headers=fp
    )
    problem = assert_problem(taken, 409)
    assert pointers(problem) == ["/cycles/1"]
    assert problem["errors"][0]["workspace"] == first["id"]
    assert await workspace_ids(client, fp) == [first["id"]]
    # ... and the refused attempt did not take CBD NR7
    second = await open_workspace(client, fp, "KEN", "CBD:NR7")
    assert await workspace_ids(client, fp) == [first["id"], second]


async def test_who_opens_a_partys_workspace(client: httpx.AsyncClient, auth: Headers) -> None:
    await set_members(client, auth, "KEN", "CMS", "CBD")
    refused = {
        "anonymous": 401,
        "tza_fp": 403,  # a focal point of another Party
        "cms_sec": 403,
        "cbd_sec": 403,
        "reviewer": 403,
    }
    for role, status in refused.items():
        headers = {} if role == "anonymous" else auth[role]
        response = await client.post(
            WORKSPACES, json={"party": "KEN", "cycles": ["CMS:COP15"]}, headers=headers
        )
        assert_problem(response, status)
        assert await workspace_ids(client, auth["admin"]) == [], role
    for role, cycle in (("ken_fp", "CMS:COP15"), ("admin", "CBD:NR7")):
        response = await client.post(
            WORKSPACES, json={"party": "KEN", "cycles": [cycle]}, headers=auth[role]
        )
        assert response.status_code == 201, response.text
        assert response.json()["created_by"] == f"user:{role}"
    assert len(await workspace_ids(client, auth["admin"])) == 2


# --- 2. answers are checked before anything is stored --------------------------------------------

BAD_VALUES: list[tuple[str, Any, str]] = [
    # slot, value, the pointer that must be named (the bad item is /answers/1)
    ("CMS:COP15:IV.2", "yes", "/answers/1/value"),  # boolean question
    ("CMS:COP15:IV.2", 1, "/answers/1/value"),  # 1 is not true
    ("CMS:COP15:I(a).1", 42, "/answers/1/value"),  # text question
    ("CMS:COP15:I(a).1", "x" * 10_001, "/answers/1/value"),  # max_length 10000
    ("CBD:NR7:sectionII.hasRevisedNbsap", "maybe", "/answers/1/value"),  # unknown option
    ("CMS:COP15:II.2", ["by_catch", "volcanoes"], "/answers/1/value"),  # unknown option in a list
    ("CMS:COP15:II.2", "by_catch", "/answers/1/value"),  # multi_choice takes a list
    ("AEWA:MOP9:E.2", -1, "/answers/1/value"),  # min 0
    ("AEWA:MOP9:E.2", 2.5, "/answers/1/value"),  # integer
    ("AEWA:MOP9:E.2", True, "/answers/1/value"),  # a boolean is not a number
    ("AEWA:MOP9:E.2", "12", "/answers/1/value"),  # nor is a numeric string
    ("concept:share.test", 150, "/answers/1/value"),  # the concept's max is 100
    ("CBD:NR7:sectionII.anticipatedNbsapDate", "2026-02-30", "/answers/1/value"),
    ("CBD:NR7:sectionII.anticipatedNbsapDate", "28/02/2026", "/answers/1/value"),
    ("CMS:COP15:V.1b", {"area_type": "marine"}, "/answers/1/value"),  # a table is a list
    (
        "CMS:COP15:V.1b",
        [{"area_type": "marine", "covered": True}] * 4,  # max_rows 3
        "/answers/1/value",
    ),
    (
        "CMS:COP15:V.1b",
        [{"area_type": "marine", "covered": True}, {"area_type": "desert", "covered": True}],
        "/answers/1/value/1/area_type",
    ),
    (
        "CMS:COP15:V.1b",
        [{"area_type": "marine", "covered": True, "coverage_km2": -5}],
        "/answers/1/value/0/coverage_km2",
    ),
    (
        "CMS:COP15:V.1b",
        [{"area_type": "marine", "covered": "yes"}],
        "/answers/1/value/0/covered",
    ),
    (
        "CMS:COP15:V.1b",
        [{"area_type": "marine", "covered": True, "colour": "blue"}],
        "/answers/1/value/0/colour",
    ),
]


async def test_values_are_checked_against_the_slot_type_before_anything_is_stored(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD", "AEWA")
    await add_concept(client, auth, "share.test", "number", min=0, max=100)
    await add_mappings(client, auth, mapping("share.test", "AEWA:MOP9:F.5", "closeMatch"))
    wid = await open_workspace(client, auth["admin"], "KEN", "CMS:COP15", "CBD:NR7", "AEWA:MOP9")
    good = ("CMS:COP15:I(a).2", "A valid answer written in the same batch", 0)
    for slot, value, pointer in BAD_VALUES:
        response = await write(client, fp, wid, good, (slot, value, 0))
        problem = assert_problem(response, 422)
        assert pointer in pointers(problem), (slot, value, problem)
        assert all(p.startswith("/answers/1/value") for p in pointers(problem)), problem
    assert await stored(client, fp, wid) == {}

    # the same values, valid, are stored
    valid = [
        ("CMS:COP15:IV.2", True, 0),
        ("CMS:COP15:I(a).1", "x" * 10_000, 0),
        ("CBD:NR7:sectionII.hasRevisedNbsap", "inProgress", 0),
        ("CMS:COP15:II.2", ["by_catch", "other"], 0),
        ("AEWA:MOP9:E.2", 3, 0),
        ("concept:share.test", 100, 0),
        ("CBD:NR7:sectionII.anticipatedNbsapDate", "2028-02-29", 0),
        ("CMS:COP15:V.1b", [{"area_type": "marine", "covered": True, "coverage_km2": 0}], 0),
    ]
    saved = await write(client, fp, wid, good, *valid)
    assert saved.status_code == 200, saved.text
    answers = await stored(client, fp, wid)
    (row,) = answers["CMS:COP15:V.1b"]["value"]
    assert isinstance(row.pop("@id"), str)  # a table row is stored with its id
    assert {slot: a["value"] for slot, a in answers.items()} == {good[0]: good[1]} | {
        slot: value for slot, value, _ in valid
    }
    assert {a["revision"] for a in answers.values()} == {1}
    assert {a["updated_by"] for a in answers.values()} == {"user:ken_fp"}


async def test_slots_must_belong_to_the_workspace(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await nbsap_concept(client, auth)
    # a concept that feeds CBD only, and one that feeds nothing
    await add_concept(client, auth, "cbd.only", "text")
    await add_mappings(
        client, auth, mapping("cbd.only", "CBD:NR7:sectionI.contactPerson", "exactMatch")
    )
    await add_concept(client, auth, "unlinked", "text")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    good = ("CMS:COP15:I(a).2", "A valid answer written in the same batch", 0)
    for slot, value in [
        ("concept:no.such.concept", "x"),
        ("concept:unlinked", "x"),
        ("concept:cbd.only", "x"),  # CBD NR7 is not a cycle of this workspace
        ("CBD:NR7:sectionI.contactPerson", "x"),  # idem
        ("CMS:COP16:I(a).1", "x"),  # no such cycle
        ("CMS:COP15:XX.99", "x"),  # no such question
        ("CMS:COP15:", "x"),
        ("I(a).1", "x"),  # a bare question id is not a slot
        ("concept:", "x"),
    ]:
        problem = assert_problem(await write(client, fp, wid, good, (slot, value, 0)), 422)
        assert pointers(problem) == ["/answers/1/slot"], (slot, problem)

    # a slot named twice in one batch, even with the same value
    twice = await write(
        client, fp, wid, good, ("concept:nbsap.revised", "yes", 0), ("CMS:COP15:I(a).2", "y", 0)
    )
    assert pointers(assert_problem(twice, 422)) == ["/answers/2/slot"]
    assert await stored(client, fp, wid) == {}

    # nor is there a preview of another workspace's cycle
    assert_problem(await client.get(f"{WORKSPACES}/{wid}/preview/CBD:NR7", headers=fp), 404)

    # the concept that feeds this workspace is a valid slot
    saved = await write(client, fp, wid, good, ("concept:nbsap.revised", "yes", 0))
    assert saved.status_code == 200, saved.text
    assert set(await stored(client, fp, wid)) == {"CMS:COP15:I(a).2", "concept:nbsap.revised"}


async def test_a_read_since_a_time_returns_only_newer_answers(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """A tab asks cheaply whether anything changed: `?since=` an earlier read's `as_of`."""
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    url = f"{WORKSPACES}/{wid}/answers"
    assert (await write(client, fp, wid, ("CMS:COP15:I(a).1", "Ministry", 0))).status_code == 200
    first = (await client.get(url, headers=fp)).json()
    assert [a["slot"] for a in first["answers"]] == ["CMS:COP15:I(a).1"]
    as_of = first["as_of"]
    assert (await client.get(url, params={"since": as_of}, headers=fp)).json()["answers"] == []
    written = await write(client, auth["admin"], wid, ("CMS:COP15:I(a).2", "Forestry", 0))
    assert written.status_code == 200
    newer = (await client.get(url, params={"since": as_of}, headers=fp)).json()
    assert [(a["slot"], a["value"], a["updated_by"]) for a in newer["answers"]] == [
        ("CMS:COP15:I(a).2", "Forestry", "user:admin")
    ]
    assert newer["as_of"] >= as_of
    # a time without an offset is UTC; a time long ago returns everything
    everything = await client.get(url, params={"since": "2000-01-01T00:00:00"}, headers=fp)
    assert len(everything.json()["answers"]) == 2
    refused = await client.get(url, params={"since": "yesterday"}, headers=fp)
    assert pointers(assert_problem(refused, 422)) == ["/since"]


async def test_null_clears_an_answer_and_every_write_is_audited(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await nbsap_concept(client, auth)
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    slot = "CMS:COP15:I(a).1"
    assert (await write(client, fp, wid, (slot, "Ministry", 0))).status_code == 200
    assert (await write(client, auth["admin"], wid, (slot, "Ministry of Environment", 1))).json()[
        "answers"
    ][0]["revision"] == 2
    cleared = await write(client, fp, wid, (slot, None, 2), ("concept:nbsap.revised", "yes", 0))
    assert cleared.status_code == 200, cleared.text
    after = {a["slot"]: a for a in cleared.json()["answers"]}
    assert after[slot]["value"] is None
    assert after[slot]["revision"] == 3
    assert after["concept:nbsap.revised"]["revision"] == 1
    assert (await stored(client, fp, wid))[slot]["value"] is None
    report = await preview(client, fp, wid, "CMS:COP15")
    assert "I(a).1" not in report["values"]
    assert report["values"]["IV.2"] is True
    # a cleared answer is written again from its new revision
    assert (await write(client, fp, wid, (slot, "Ministry", 0))).status_code == 409
    assert (await write(client, fp, wid, (slot, "Ministry", 3))).status_code == 200

    audit = await client.get(
        "/api/v1/audit",
        params={"target_type": "workspace", "target_id": str(wid), "limit": 100},
        headers=auth["admin"],
    )
    assert audit.status_code == 200, audit.text
    # oldest first (the API lists newest first); one batch records its writes in slot order
    events = [e for e in reversed(audit.json()["items"]) if e["action"] == "answer.write"]
    assert [(e["actor"], e["before"], e["after"]) for e in events] == [
        (
            "user:ken_fp",
            {"slot": slot, "value": None},
            {"slot": slot, "value": "Ministry", "revision": 1},
        ),
        (
            "user:admin",
            {"slot": slot, "value": "Ministry"},
            {"slot": slot, "value": "Ministry of Environment", "revision": 2},
        ),
        (
            "user:ken_fp",
            {"slot": slot, "value": "Ministry of Environment"},
            {"slot": slot, "value": None, "revision": 3},
        ),
        (
            "user:ken_fp",
            {"slot": "concept:nbsap.revised", "value": None},
            {"slot": "concept:nbsap.revised", "value": "yes", "revision": 1},
        ),
        (
            "user:ken_fp",
            {"slot": slot, "value": None},
            {"slot": slot, "value": "Ministry", "revision": 4},
        ),
    ]
    assert {e["target_id"] for e in events} == {str(wid)}
    # refused writes (the 409 above) left no event
    assert len(events) == 5
    # the audit trail is for admins
    assert_problem(
        await client.get("/api/v1/audit", params={"target_type": "workspace"}, headers=fp), 403
    )


# --- 3. no lost writes ---------------------------------------------------------------------------


async def test_a_stale_write_is_refused_whole(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client = bare_client
    alice, bob = auth["ken_fp"], auth["admin"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await nbsap_concept(client, auth)
    wid = await open_workspace(client, alice, "KEN", "CMS:COP15", "CBD:NR7")
    first = await write(client, alice, wid, ("concept:nbsap.revised", "no", 0))
    assert first.status_code == 200

    # both read revision 1
    assert (await stored(client, alice, wid))["concept:nbsap.revised"]["revision"] == 1
    assert (await stored(client, bob, wid))["concept:nbsap.revised"]["revision"] == 1
    # bob writes first and wins
    won = await write(client, bob, wid, ("concept:nbsap.revised", "yes", 1))
    assert won.status_code == 200, won.text
    # alice's batch, based on revision 1, is refused whole: her new slot is not written either
    lost = await write(
        client,
        alice,
        wid,
        ("CMS:COP15:I(a).1", "Alice's new answer", 0),
        ("concept:nbsap.revised", "partly", 1),
    )
    problem = assert_problem(lost, 409)
    assert problem["errors"] == [
        {
            "pointer": "/answers/1/base_revision",
            "detail": problem["errors"][0]["detail"],
            "slot": "concept:nbsap.revised",
            "current_revision": 2,
            "current_value": "yes",
            "updated_by": "user:admin",
        }
    ]
    answers = await stored(client, alice, wid)
    assert set(answers) == {"concept:nbsap.revised"}
    assert answers["concept:nbsap.revised"]["value"] == "yes"
    assert answers["concept:nbsap.revised"]["revision"] == 2
    assert (await preview(client, alice, wid, "CBD:NR7"))["values"][
        "sectionII.hasRevisedNbsap"
    ] == "yes"

    # a slot somebody wrote meanwhile cannot be "created" again from revision 0, and a
    # revision from the future is as stale as one from the past
    problem = assert_problem(
        await write(
            client,
            alice,
            wid,
            ("concept:nbsap.revised", "no", 0),
            ("CMS:COP15:I(a).2", "new", 7),
        ),
        409,
    )
    assert [(e["pointer"], e["slot"], e["current_revision"]) for e in problem["errors"]] == [
        ("/answers/0/base_revision", "concept:nbsap.revised", 2),
        ("/answers/1/base_revision", "CMS:COP15:I(a).2", 0),
    ]
    assert problem["errors"][1]["current_value"] is None
    assert set(await stored(client, alice, wid)) == {"concept:nbsap.revised"}

    # reloaded, alice writes from the current revision
    retry = await write(
        client,
        alice,
        wid,
        ("CMS:COP15:I(a).1", "Alice's new answer", 0),
        ("concept:nbsap.revised", "partly", 2),
    )
    assert retry.status_code == 200, retry.text
    assert {a["slot"]: a["revision"] for a in retry.json()["answers"]} == {
        "CMS:COP15:I(a).1": 1,
        "concept:nbsap.revised": 3,
    }


WRITERS = 20


async def _free_text_slots(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int, *cycles: str
) -> list[str]:
    """Native slots of always-visible text questions of these cycles."""
    slots = []
    for cycle in cycles:
        template_id = (await preview(client, headers, wid, cycle))["template_id"]
        document = (await client.get(f"/api/v1/templates/{template_id}/document")).json()
        slots += [
            f"{cycle}:{qid}"
            for qid, question in questions_of(document).items()
            if question["type"] == "text" and "visible_if" not in question
        ]
    return slots


@pytest.mark.parametrize("base", [0, 1], ids=["new-slot", "existing-slot"])
async def test_concurrent_writers_of_one_slot_exactly_one_wins(
    client: httpx.AsyncClient, auth: Headers, base: int
) -> None:
    """Each writer's batch holds the contested slot (a bundled concept, written last as slots
    sort) and a slot of its own: a loser's own slot must not be written either."""
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    contested = "concept:governance.institutions"
    if base:
        assert (await write(client, fp, wid, (contested, "before the race", 0))).status_code == 200
    # I(a).1 is the question the contested concept fills
    free = await _free_text_slots(client, fp, wid, "CMS:COP15", "CBD:NR7")
    own = [slot for slot in free if slot != "CMS:COP15:I(a).1"][:WRITERS]
    assert len(own) == WRITERS
    assert all(slot < contested for slot in own)

    responses = await asyncio.gather(
        *(
            write(client, fp, wid, (own[n], f"own {n}", 0), (contested, f"writer {n}", base))
            for n in range(WRITERS)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (WRITERS - 1), [r.text for r in responses]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    for response in responses:
        if response.status_code == 409:
            problem = assert_problem(response, 409)
            assert [
                (e["pointer"], e["slot"], e["current_revision"], e["current_value"])
                for e in problem["errors"]
            ] == [("/answers/1/base_revision", contested, base + 1, f"writer {winner}")]
    answers = await stored(client, fp, wid)
    assert {slot: (a["value"], a["revision"]) for slot, a in answers.items()} == {
        contested: (f"writer {winner}", base + 1),
        own[winner]: (f"own {winner}", 1),
    }
    assert (await preview(client, fp, wid, "CMS:COP15"))["values"]["I(a).1"] == f"writer {winner}"
    audit = await client.get(
        "/api/v1/audit",
        params={"target_type": "workspace", "target_id": str(wid), "limit": 100},
        headers=auth["admin"],
    )
    writes = [e for e in audit.json()["items"] if e["action"] == "answer.write"]
    first_value = "before the race" if base else f"writer {winner}"
    assert sorted(
        (e["after"]["slot"], e["after"]["value"]) for e in writes if e["before"]["value"] is None
    ) == sorted([(own[winner], f"own {winner}"), (contested, first_value)])
    assert len(writes) == base + 2


async def test_concurrent_workspaces_for_one_cycle_exactly_one_opens(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    await set_members(client, auth, "KEN", "CMS")
    body = {"party": "KEN", "cycles": ["CMS:COP15"]}
    responses = await asyncio.gather(
        *(client.post(WORKSPACES, json=body, headers=auth["ken_fp"]) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7, [
        r.text for r in responses
    ]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    assert len(await workspace_ids(client, auth["admin"])) == 1


# --- 4. what each convention receives ------------------------------------------------------------


async def test_native_answer_wins_for_its_convention_only(
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
        ("CMS:COP15:IV.2", False, 0),  # CMS is told something else on purpose
    )
    assert saved.status_code == 200, saved.text

    cms = await preview(client, fp, wid, "CMS:COP15")
    assert cms["values"]["IV.2"] is False
    assert cms["provenance"]["IV.2"] == "native"
    assert cms["divergences"] == [
        {
            "question": "IV.2",
            "concept": "nbsap.revised",
            "native_value": False,
            "concept_value": True,
        }
    ]
    # the follow-up of IV.2 follows the value CMS receives
    assert "IV.2(details)" in cms["hidden"]
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert cbd["values"]["sectionII.hasRevisedNbsap"] == "yes"
    assert cbd["provenance"]["sectionII.hasRevisedNbsap"] == "concept:nbsap.revised"
    assert cbd["divergences"] == []

    # a native answer equal to the derived value is no divergence
    answers = await stored(client, fp, wid)
    same = await write(
        client, fp, wid, ("CMS:COP15:IV.2", True, answers["CMS:COP15:IV.2"]["revision"])
    )
    assert same.status_code == 200
    cms = await preview(client, fp, wid, "CMS:COP15")
    assert (cms["values"]["IV.2"], cms["provenance"]["IV.2"], cms["divergences"]) == (
        True,
        "native",
        [],
    )
    # clearing the native answer gives the question back to the concept
    cleared = await write(client, fp, wid, ("CMS:COP15:IV.2", None, 2))
    assert cleared.status_code == 200
    cms = await preview(client, fp, wid, "CMS:COP15")
    assert cms["values"]["IV.2"] is True
    assert cms["provenance"]["IV.2"] == "concept:nbsap.revised"


async def test_a_changed_mapping_changes_the_next_projection_at_once(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    """Each worker keeps compiled projections; a mapping changed since is never served stale."""
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await nbsap_concept(client, auth)
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    saved = await write(client, fp, wid, ("concept:nbsap.revised", "partly", 0))
    assert saved.status_code == 200, saved.text
    qid = "sectionII.hasRevisedNbsap"
    assert (await preview(client, fp, wid, "CBD:NR7"))["values"][qid] == "inProgress"
    listed = await client.get("/api/v1/mappings", params={"question": f"CBD:NR7:{qid}"})
    (mapping_id,) = [m["id"] for m in listed.json()["items"]]

    remapped = await client.patch(
        f"/api/v1/mappings/{mapping_id}",
        json={"transform": {"options": {"yes": "yes", "partly": "no", "no": "no"}}},
        headers=auth["admin"],
    )
    assert remapped.status_code == 200, remapped.text
    assert (await preview(client, fp, wid, "CBD:NR7"))["values"][qid] == "no"

    loosened = await client.patch(
        f"/api/v1/mappings/{mapping_id}", json={"relation": "broadMatch"}, headers=auth["admin"]
    )
    assert loosened.status_code == 200, loosened.text
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert qid not in cbd["values"]
    assert cbd["suggestions"][qid] == {
        "value": "no",
        "concept": "nbsap.revised",
        "relation": "broadMatch",
    }


async def test_loose_mappings_suggest_and_never_fill(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await add_concept(client, auth, "obstacles", "text")
    await add_concept(
        client, auth, "engaged", "single_choice", options=[{"code": "yes"}, {"code": "no"}]
    )
    await add_concept(client, auth, "proposed.only", "text")
    await add_mappings(
        client,
        auth,
        mapping("obstacles", "CBD:NR7:sectionV.assessmentSummary", "broadMatch"),
        mapping("obstacles", "CMS:COP15:II.3c", "narrowMatch"),
        mapping(
            "engaged",
            "CBD:NR7:sectionII.hasStakeholderEngagement",
            "relatedMatch",
            transform={"options": {"yes": True, "no": False}},
        ),
        # an exact match that is only proposed neither fills nor suggests
        mapping(
            "proposed.only", "CBD:NR7:sectionI.processUndertaken", "exactMatch", status="proposed"
        ),
    )
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    saved = await write(
        client,
        fp,
        wid,
        ("concept:obstacles", "Funding and staff", 0),
        ("concept:engaged", "yes", 0),
        ("concept:proposed.only", "A process", 0),
    )
    assert saved.status_code == 200, saved.text

    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert cbd["suggestions"]["sectionV.assessmentSummary"] == {
        "value": "Funding and staff",
        "concept": "obstacles",
        "relation": "broadMatch",
    }
    assert cbd["suggestions"]["sectionII.hasStakeholderEngagement"] == {
        "value": True,
        "concept": "engaged",
        "relation": "relatedMatch",
    }
    for qid in (
        "sectionV.assessmentSummary",
        "sectionII.hasStakeholderEngagement",
        "sectionI.processUndertaken",
    ):
        assert qid not in cbd["values"]
        assert qid not in cbd["provenance"]
    assert "sectionI.processUndertaken" not in cbd["suggestions"]
    # a suggestion does not answer a required question
    assert {"question": "sectionV.assessmentSummary", "severity": "error"}.items() <= next(
        i for i in cbd["issues"] if i["question"] == "sectionV.assessmentSummary"
    ).items()
    # nor does it reveal the questions that depend on it
    assert "sectionII.stakeholders" in cbd["hidden"]
    cms = await preview(client, fp, wid, "CMS:COP15")
    assert cms["suggestions"]["II.3c"]["relation"] == "narrowMatch"
    assert "II.3c" not in cms["values"]

    # the focal point confirms a suggestion: it becomes a native answer and is no longer offered
    confirmed = await write(
        client, fp, wid, ("CBD:NR7:sectionII.hasStakeholderEngagement", True, 0)
    )
    assert confirmed.status_code == 200
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert cbd["values"]["sectionII.hasStakeholderEngagement"] is True
    assert cbd["provenance"]["sectionII.hasStakeholderEngagement"] == "native"
    assert "sectionII.hasStakeholderEngagement" not in cbd["suggestions"]
    assert "sectionII.stakeholders" not in cbd["hidden"]


async def test_a_value_the_transform_cannot_carry_needs_a_direct_answer(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    await nbsap_concept(client, auth)
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    # 'partly' has an image in CBD (inProgress) but none in CMS's yes/no
    assert (await write(client, fp, wid, ("concept:nbsap.revised", "partly", 0))).status_code == 200
    cms = await preview(client, fp, wid, "CMS:COP15")
    assert cms["needs_direct_answer"] == ["IV.2"]
    assert "IV.2" not in cms["values"]
    assert "IV.2" not in cms["provenance"]
    assert "IV.2(details)" in cms["hidden"]
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert cbd["needs_direct_answer"] == []
    assert cbd["values"]["sectionII.hasRevisedNbsap"] == "inProgress"
    # the date question shown for 'inProgress' appears in CBD
    assert "sectionII.anticipatedNbsapDate" not in cbd["hidden"]

    # the direct answer settles it (and is no divergence: nothing was derived)
    assert (await write(client, fp, wid, ("CMS:COP15:IV.2", True, 0))).status_code == 200
    cms = await preview(client, fp, wid, "CMS:COP15")
    assert cms["needs_direct_answer"] == []
    assert (cms["values"]["IV.2"], cms["provenance"]["IV.2"]) == (True, "native")
    assert cms["divergences"] == []


async def test_hidden_questions_follow_projected_values(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    """CBD 9.3.1 is required, and shown only when 9.3 (fed here by a concept) contains
    'partially' or 'fully'."""
    client, fp = bare_client, auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS", "CBD")
    scale = [{"code": c} for c in ("no", "underDevelopment", "partially", "fully")]
    await add_concept(client, auth, "benefits.scale", "multi_choice", options=scale)
    await add_mappings(
        client, auth, mapping("benefits.scale", "CBD:NR7:binaryResponseTarget9.9_3", "exactMatch")
    )
    await nbsap_concept(client, auth)
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", "CBD:NR7")
    trigger, follow = "binaryResponseTarget9.9_3", "binaryResponseTarget9.9_3_1"

    def issues_of(report: dict[str, Any], qid: str) -> list[dict[str, Any]]:
        return [i for i in report["issues"] if i["question"] == qid]

    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert follow in cbd["hidden"]
    assert issues_of(cbd, follow) == []

    saved = await write(
        client,
        fp,
        wid,
        ("concept:benefits.scale", ["no"], 0),
        (f"CBD:NR7:{follow}", ["womenGirls"], 0),  # answered natively, but hidden
        ("concept:nbsap.revised", "no", 0),
        ("CMS:COP15:IV.2(details)", "Answered although IV.2 is false", 0),
    )
    assert saved.status_code == 200, saved.text
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert (cbd["values"][trigger], cbd["provenance"][trigger]) == (
        ["no"],
        "concept:benefits.scale",
    )
    assert follow in cbd["hidden"]
    assert follow not in cbd["values"]
    assert follow not in cbd["provenance"]
    assert issues_of(cbd, follow) == []
    cms = await preview(client, fp, wid, "CMS:COP15")
    assert cms["values"]["IV.2"] is False
    assert "IV.2(details)" in cms["hidden"]
    assert "IV.2(details)" not in cms["values"]

    # the trigger changes through the concept: the follow-up shows, with its native answer
    revisions = {slot: a["revision"] for slot, a in (await stored(client, fp, wid)).items()}
    changed = await write(
        client, fp, wid, ("concept:benefits.scale", ["fully"], revisions["concept:benefits.scale"])
    )
    assert changed.status_code == 200
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert follow not in cbd["hidden"]
    assert cbd["values"][follow] == ["womenGirls"]
    # and once visible it is required
    cleared = await write(
        client, fp, wid, (f"CBD:NR7:{follow}", None, revisions[f"CBD:NR7:{follow}"])
    )
    assert cleared.status_code == 200
    cbd = await preview(client, fp, wid, "CBD:NR7")
    assert [(i["severity"], i["code"]) for i in issues_of(cbd, follow)] == [("error", "required")]


# --- 9. a workspace is its Party's ---------------------------------------------------------------


async def test_only_the_partys_focal_points_and_admins_reach_its_workspace(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    await set_members(client, auth, "TZA", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15", title="Kenya secret title")
    secret = "Kenya's confidential draft answer"
    assert (await write(client, fp, wid, ("CMS:COP15:I(a).1", secret, 0))).status_code == 200
    tza_wid = await open_workspace(client, auth["tza_fp"], "TZA", "CMS:COP15")
    missing = wid + tza_wid + 1000

    def calls(target: int) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]:
        base = f"{WORKSPACES}/{target}"
        return [
            ("GET", base, None, {}),
            ("GET", f"{base}/form", None, {}),
            ("GET", f"{base}/answers", None, {}),
            (
                "PATCH",
                f"{base}/answers",
                {
                    "answers": [
                        {"slot": "CMS:COP15:I(a).1", "value": "overwritten", "base_revision": 1}
                    ]
                },
                {},
            ),
            ("GET", f"{base}/preview/CMS:COP15", None, {}),
            ("POST", f"{base}/submit", {"cycles": ["CMS:COP15"]}, {"Idempotency-Key": "tza-try"}),
        ]

    for role in ("tza_fp", "cms_sec", "cbd_sec", "reviewer"):
        for (method, url, body, extra), (_, missing_url, _, _) in zip(
            calls(wid), calls(missing), strict=True
        ):
            response = await client.request(method, url, json=body, headers=auth[role] | extra)
            problem = assert_problem(response, 404)
            assert secret not in response.text
            assert "Kenya" not in response.text
            # exactly what a workspace that does not exist answers
            absent = await client.request(
                method, missing_url, json=body, headers=auth[role] | extra
            )
            assert_problem(absent, 404)
            assert problem["detail"].replace(str(wid), "N") == absent.json()["detail"].replace(
                str(missing), "N"
            ), (role, method, url)
        assert wid not in await workspace_ids(client, auth[role])
    for method, url, body, extra in calls(wid):
        assert_problem(await client.request(method, url, json=body, headers=extra), 401)

    # nothing was written or submitted by them
    answers = await stored(client, fp, wid)
    assert answers["CMS:COP15:I(a).1"]["value"] == secret
    assert answers["CMS:COP15:I(a).1"]["revision"] == 1
    listed = await client.get("/api/v1/submissions", headers=auth["admin"])
    assert listed.json()["items"] == []

    # the Party's focal point and admins see it; each focal point lists its own Party's only
    assert await workspace_ids(client, fp) == [wid]
    assert await workspace_ids(client, auth["tza_fp"]) == [tza_wid]
    assert await workspace_ids(client, auth["admin"]) == [wid, tza_wid]
    filtered = await client.get(WORKSPACES, params={"party": "KEN"}, headers=auth["tza_fp"])
    assert filtered.json()["items"] == []
    for who in ("ken_fp", "admin"):
        shown = await client.get(f"{WORKSPACES}/{wid}", headers=auth[who])
        assert shown.status_code == 200
        assert shown.json()["title"] == "Kenya secret title"
        assert (await preview(client, auth[who], wid, "CMS:COP15"))["values"]["I(a).1"] == secret
