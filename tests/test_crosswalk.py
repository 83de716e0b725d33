"""The crosswalk through the HTTP API: concepts, mappings, transforms checked on write,
question links, coverage, translation and carry-over to new template versions.

The tests build a small crosswalk of their own on `bare_client` (templates but no bundled
crosswalk): cycle CMS:T1 with template A, cycle CBD:T1 with template B, nine concepts, and
mappings from both templates to them that cover every kind of transform (`MAPPINGS`), all
built by tests/factories/crosswalk.py.
"""

from __future__ import annotations

import asyncio
import copy
import os
from typing import Any

import httpx
import pytest

from tests.factories.crosswalk import (
    A_MAPPINGS,
    B_MAPPINGS,
    CONCEPTS,
    MAPPINGS,
    VERSION,
    Fixture,
    all_mappings,
    build,
    concept_document,
    mapping_audit,
    mapping_document,
    option_list,
    setup_templates,
    template_a,
    template_b,
)
from tests.helpers import Headers, Json, assert_problem, pointers

ON_POSTGRES = os.environ.get("CMSREPORTING_TEST_DATABASE_URL", "").startswith("postgresql")


async def snapshot(client: httpx.AsyncClient, auth: Headers) -> tuple[list[Json], list[Json]]:
    """The stored mappings and the mapping audit trail, to show that nothing was written."""
    return await all_mappings(client), await mapping_audit(client, auth)


@pytest.fixture
async def xw(bare_client: httpx.AsyncClient, auth: Headers) -> Fixture:
    """The fixture crosswalk on a fresh database without the bundled crosswalk."""
    return await build(bare_client, auth)


# --- concepts --------------------------------------------------------------------------------


async def test_concepts_are_written_by_admins_and_read_by_everyone(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    one = CONCEPTS[0]
    assert_problem(await bare_client.post("/api/v1/concepts", json=one), 401)
    for who in ("cms_sec", "reviewer", "ken_fp"):
        refused = await bare_client.post("/api/v1/concepts", json=one, headers=auth[who])
        assert_problem(refused, 403)
    created = await bare_client.post("/api/v1/concepts", json=one, headers=auth["admin"])
    assert created.status_code == 201, created.text
    assert [c["key"] for c in created.json()] == ["c.details"]
    rest = await bare_client.post("/api/v1/concepts", json=CONCEPTS[1:], headers=auth["admin"])
    assert rest.status_code == 201, rest.text
    assert [c["key"] for c in rest.json()] == [c["key"] for c in CONCEPTS[1:]]
    # a key that exists is a conflict, and the batch holding it stores nothing
    again = await bare_client.post(
        "/api/v1/concepts",
        json=[concept_document("c.new", "text", []), CONCEPTS[2]],
        headers=auth["admin"],
    )
    assert pointers(assert_problem(again, 409)) == ["/1/key"]
    assert_problem(await bare_client.get("/api/v1/concepts/c.new"), 404)
    twice = [concept_document("c.new", "text", []), concept_document("c.new", "number", [])]
    refused = await bare_client.post("/api/v1/concepts", json=twice, headers=auth["admin"])
    assert pointers(assert_problem(refused, 422)) == ["/1/key"]
    assert_problem(await bare_client.get("/api/v1/concepts/c.new"), 404)
    # anyone reads, without a token
    got = await bare_client.get("/api/v1/concepts/c.nbsap")
    assert got.status_code == 200
    body = got.json()
    assert body["type"] == "single_choice"
    assert [o["code"] for o in body["options"]] == ["yes", "partly", "no"]
    assert body["text"] == {"en": "Concept c.nbsap", "fr": "Concept c.nbsap (fr)"}
    assert body["description"] == {"en": "What c.nbsap means"}
    assert sorted(body["tags"]) == ["GBF:T14", "SPMS:T3"]
    listed = (await bare_client.get("/api/v1/concepts", params={"limit": 500})).json()
    assert [c["key"] for c in listed["items"]] == sorted(c["key"] for c in CONCEPTS)
    table = (await bare_client.get("/api/v1/concepts/c.laws")).json()
    assert [c["id"] for c in table["columns"]] == ["name", "year", "status"]
    assert_problem(await bare_client.get("/api/v1/concepts/c.nope"), 404)
    actions = (
        await bare_client.get(
            "/api/v1/audit", params={"target_type": "concept", "limit": 500}, headers=auth["admin"]
        )
    ).json()["items"]
    assert sorted(e["target_id"] for e in actions) == sorted(c["key"] for c in CONCEPTS)
    assert {e["action"] for e in actions} == {"concept.create"}


async def test_concepts_by_strategic_target(bare_client: httpx.AsyncClient, auth: Headers) -> None:
    created = await bare_client.post("/api/v1/concepts", json=CONCEPTS, headers=auth["admin"])
    assert created.status_code == 201

    async def tagged(tag: str) -> list[str]:
        page = (await bare_client.get("/api/v1/concepts", params={"tag": tag})).json()
        return [c["key"] for c in page["items"]]

    assert await tagged("GBF:T3") == ["c.area", "c.laws"]
    assert await tagged("AICHI:T11") == ["c.area", "c.law"]
    assert await tagged("SPMS:T10") == ["c.threats"]
    assert await tagged("SDG:14.4") == ["c.count"]
    assert await tagged("GBF:T14") == ["c.details", "c.nbsap"]
    assert await tagged("GBF:T99") == []
    tables = (await bare_client.get("/api/v1/concepts", params={"type": "table"})).json()
    assert [c["key"] for c in tables["items"]] == ["c.laws"]
    both = await bare_client.get("/api/v1/concepts", params={"type": "number", "tag": "GBF:T3"})
    assert [c["key"] for c in both.json()["items"]] == ["c.area"]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"type": "text", "text": {"en": "No key"}}, "/0/key"),
        ({"key": "Bad Key", "type": "text", "text": {"en": "x"}}, "/0/key"),
        ({"key": "c.x", "type": "colour", "text": {"en": "x"}}, "/0/type"),
        ({"key": "c.x", "type": "single_choice", "text": {"en": "x"}}, "/0/options"),
        ({"key": "c.x", "type": "table", "text": {"en": "x"}}, "/0/columns"),
        ({"key": "c.x", "type": "text", "text": {"en": "x"}, "tags": ["GBF T3"]}, "/0/tags/0"),
        ({"key": "c.x", "type": "text", "text": {"en": "x"}, "colour": "red"}, "/0/colour"),
    ],
)
async def test_invalid_concepts_are_refused(
    bare_client: httpx.AsyncClient, auth: Headers, document: Json, pointer: str
) -> None:
    good = concept_document("c.good", "text", [])
    refused = await bare_client.post(
        "/api/v1/concepts", json=[document, good], headers=auth["admin"]
    )
    assert pointer in pointers(assert_problem(refused, 422))
    listed = (await bare_client.get("/api/v1/concepts")).json()
    assert listed["items"] == []


async def test_replacing_a_concept(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    nbsap = next(c for c in CONCEPTS if c["key"] == "c.nbsap")
    relabelled = copy.deepcopy(nbsap) | {"text": {"en": "NBSAP covers migratory species?"}}
    relabelled["tags"] = ["GBF:T14", "GBF:T3"]
    url = "/api/v1/concepts/c.nbsap"
    assert_problem(await bare_client.put(url, json=relabelled), 401)
    assert_problem(await bare_client.put(url, json=relabelled, headers=auth["cms_sec"]), 403)
    replaced = await bare_client.put(url, json=relabelled, headers=auth["admin"])
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["text"] == {"en": "NBSAP covers migratory species?"}
    tagged = (await bare_client.get("/api/v1/concepts", params={"tag": "GBF:T3"})).json()
    assert [c["key"] for c in tagged["items"]] == ["c.area", "c.laws", "c.nbsap"]
    # SPMS:T3 was dropped
    dropped = (await bare_client.get("/api/v1/concepts", params={"tag": "SPMS:T3"})).json()
    assert dropped["items"] == []
    got = (await bare_client.get(url)).json()
    assert sorted(got["tags"]) == ["GBF:T14", "GBF:T3"]
    assert got["updated_at"] > got["created_at"]
    audit = (
        await bare_client.get(
            "/api/v1/audit", params={"target_type": "concept", "limit": 1}, headers=auth["admin"]
        )
    ).json()["items"]
    assert audit[0]["action"] == "concept.replace"
    assert audit[0]["before"]["text"] == {"en": "Concept c.nbsap", "fr": "Concept c.nbsap (fr)"}
    assert audit[0]["after"]["text"] == {"en": "NBSAP covers migratory species?"}
    renamed = relabelled | {"key": "c.other"}
    assert pointers(
        assert_problem(await bare_client.put(url, json=renamed, headers=auth["admin"]), 422)
    ) == ["/key"]
    assert_problem(
        await bare_client.put("/api/v1/concepts/c.nope", json=relabelled, headers=auth["admin"]),
        404,
    )


@pytest.mark.parametrize(
    ("key", "change"),
    [
        # the CMS option map has a key 'partly'
        ("c.nbsap", {"options": [{"code": "yes"}, {"code": "no"}]}),
        # scale and offset need a number
        ("c.area", {"type": "text", "unit": None}),
        # identity on both sides needs the same type
        ("c.capacity", {"type": "number"}),
        # the CMS column map reads the concept column 'status'
        (
            "c.laws",
            {"columns": [{"id": "name", "type": "text"}, {"id": "year", "type": "number"}]},
        ),
        # the CBD identity needs every concept code among the question's options
        (
            "c.monitoring",
            {"options": [{"code": "yes"}, {"code": "no"}, {"code": "unknown"}]},
        ),
    ],
)
async def test_a_concept_change_that_breaks_a_mapping_is_refused(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture, key: str, change: Json
) -> None:
    before = (await bare_client.get(f"/api/v1/concepts/{key}")).json()
    base = next(c for c in CONCEPTS if c["key"] == key)
    document = {k: v for k, v in (base | change).items() if v is not None}
    refused = await bare_client.put(f"/api/v1/concepts/{key}", json=document, headers=auth["admin"])
    problem = assert_problem(refused, 409)
    assert problem["errors"]
    assert all("mapping" in e for e in problem["errors"])
    assert (await bare_client.get(f"/api/v1/concepts/{key}")).json() == before
    audit = (
        await bare_client.get(
            "/api/v1/audit", params={"target_type": "concept", "limit": 500}, headers=auth["admin"]
        )
    ).json()["items"]
    assert "concept.replace" not in {e["action"] for e in audit}


# --- mappings: who writes what --------------------------------------------------------------


async def test_the_fixture_mappings_are_stored_as_sent(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    stored = await all_mappings(bare_client)
    assert [(m["concept"], m["question"]) for m in stored] == [
        (m["concept"], m["question"]) for m in MAPPINGS
    ]
    for sent, got in zip(MAPPINGS, stored, strict=True):
        assert got["template_version"] == VERSION
        assert got["relation"] == sent["relation"]
        assert got["transform"] == sent["transform"]
        assert got["status"] == sent["status"]
        assert got["justification"] == sent.get("justification")
        assert got["confidence"] == sent.get("confidence")
        assert got["mapping_justification"] == "semapv:ManualMappingCuration"
        writer = "user:cms_sec" if sent["question"].startswith("CMS") else "user:cbd_sec"
        assert got["author"] == sent.get("author", writer)
        assert got["created_by"] == writer
        if sent["status"] == "approved":
            assert got["approved_by"] == writer
            assert got["approved_at"] is not None
        else:
            assert got["approved_by"] is None
            assert got["approved_at"] is None
        assert got["propagates"] == (
            sent["status"] == "approved" and sent["relation"] in ("exactMatch", "closeMatch")
        )
    by_question = {m["question"]: m for m in stored}
    assert by_question["CMS:T1:a_sc"]["invertible"] is True
    assert by_question["CBD:T1:b_cap"]["propagates"] is False
    one = await bare_client.get(f"/api/v1/mappings/{xw.mappings['CMS:T1:a_law']}")
    assert one.json()["transform"] == {"options": {"true": "present", "false": "absent"}}
    assert one.json()["template_id"] == xw.templates["CMS:T1"]
    assert_problem(await bare_client.get("/api/v1/mappings/999999"), 404)
    audit = await mapping_audit(bare_client, auth)
    assert [e["action"] for e in audit] == ["mapping.create"] * len(MAPPINGS)


async def test_mapping_filters(bare_client: httpx.AsyncClient, xw: Fixture) -> None:
    async def questions(**params: str) -> list[str]:
        return [m["question"] for m in await all_mappings(bare_client, **params)]

    assert await questions(concept="c.nbsap") == ["CMS:T1:a_sc", "CBD:T1:b_sc"]
    assert await questions(cycle="CBD:T1") == [m["question"] for m in B_MAPPINGS]
    assert await questions(question="CMS:T1:a_mon") == ["CMS:T1:a_mon"]
    assert await questions(status="proposed") == ["CBD:T1:b_count"]
    assert await questions(relation="closeMatch") == ["CBD:T1:b_mon"]
    assert await questions(relation="relatedMatch", cycle="CBD:T1") == ["CBD:T1:b_cap"]
    assert await questions(concept="c.count", status="approved") == ["CMS:T1:a_count"]
    assert await questions(cycle="CMS:COP15") == []
    bad = await bare_client.get("/api/v1/mappings", params={"relation": "sameAs"})
    assert_problem(bad, 422)
    assert_problem(await bare_client.get("/api/v1/mappings", params={"question": "CMS:T1"}), 400)
    page = (await bare_client.get("/api/v1/mappings", params={"limit": 10})).json()
    assert len(page["items"]) == 10
    rest = (
        await bare_client.get(
            "/api/v1/mappings", params={"limit": 10, "cursor": page["next_cursor"]}
        )
    ).json()
    assert len(rest["items"]) == len(MAPPINGS) - 10
    assert rest["next_cursor"] is None


def _spare(**extra: Any) -> Json:
    """A valid new mapping (c.nbsap to B's yes/no question, proposed)."""
    return {
        "concept": "c.nbsap",
        "question": "CBD:T1:b_mon",
        "template_version": VERSION,
        "relation": "broadMatch",
        "transform": {"options": {"yes": "yes", "no": "no"}},
    } | extra


async def test_secretariats_propose_and_approve_their_own_mappings(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    # CMS writes CMS mappings; CBD does not (approved or proposed), and the reverse
    cms_doc = _spare(question="CMS:T1:a_law", transform={"options": {"yes": "present"}})
    for status in ("approved", "proposed"):
        denied = await bare_client.post(
            "/api/v1/mappings", json=[cms_doc | {"status": status}], headers=auth["cbd_sec"]
        )
        assert pointers(assert_problem(denied, 403)) == ["/0"]
    denied = await bare_client.post("/api/v1/mappings", json=[_spare()], headers=auth["cms_sec"])
    assert_problem(denied, 403)
    # a batch with one foreign item is refused whole
    mixed = [_spare(), cms_doc]
    assert pointers(
        assert_problem(
            await bare_client.post("/api/v1/mappings", json=mixed, headers=auth["cbd_sec"]), 403
        )
    ) == ["/1"]
    for who in ("ken_fp", "tza_fp"):
        refused = await bare_client.post("/api/v1/mappings", json=[_spare()], headers=auth[who])
        assert_problem(refused, 403)
    assert_problem(await bare_client.post("/api/v1/mappings", json=[_spare()]), 401)
    bad_token = {"Authorization": "Bearer cmsr_nope"}
    assert_problem(
        await bare_client.post("/api/v1/mappings", json=[_spare()], headers=bad_token), 401
    )
    assert len(await all_mappings(bare_client)) == len(MAPPINGS)
    # the CBD secretariat proposes, then approves its own
    created = await bare_client.post("/api/v1/mappings", json=[_spare()], headers=auth["cbd_sec"])
    assert created.status_code == 201, created.text
    mapping = created.json()[0]
    assert mapping["status"] == "proposed"
    assert mapping["author"] == "user:cbd_sec"
    url = f"/api/v1/mappings/{mapping['id']}"
    assert_problem(await bare_client.patch(url, json={"status": "approved"}), 401)
    for who in ("cms_sec", "reviewer", "ken_fp"):
        refused = await bare_client.patch(url, json={"status": "approved"}, headers=auth[who])
        assert_problem(refused, 403)
    approved = await bare_client.patch(
        url, json={"status": "approved", "confidence": 0.7}, headers=auth["cbd_sec"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == "user:cbd_sec"
    assert approved.json()["approved_at"] is not None
    assert approved.json()["confidence"] == 0.7
    assert approved.json()["propagates"] is False  # broadMatch suggests, never propagates
    # back to proposed clears the approval
    proposed = await bare_client.patch(url, json={"status": "proposed"}, headers=auth["admin"])
    assert proposed.json()["approved_by"] is None
    assert proposed.json()["approved_at"] is None
    audit = await mapping_audit(bare_client, auth)
    updates = [e for e in audit if e["action"] == "mapping.update"]
    assert [(e["actor"], e["after"]["status"]) for e in updates] == [
        ("user:admin", "proposed"),
        ("user:cbd_sec", "approved"),
    ]
    assert updates[1]["before"]["status"] == "proposed"


async def test_reviewers_only_propose(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    before = await snapshot(bare_client, auth)
    refused = await bare_client.post(
        "/api/v1/mappings", json=[_spare(status="approved")], headers=auth["reviewer"]
    )
    assert pointers(assert_problem(refused, 403)) == ["/0"]
    assert await snapshot(bare_client, auth) == before
    proposed = await bare_client.post(
        "/api/v1/mappings", json=[_spare(status="proposed")], headers=auth["reviewer"]
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()[0]["status"] == "proposed"
    assert proposed.json()[0]["created_by"] == "user:reviewer"
    also_cms = await bare_client.post(
        "/api/v1/mappings",
        json=[
            _spare(
                concept="c.monitoring",
                question="CMS:T1:a_law",
                transform={"options": {"yes": "present", "no": "absent"}},
            )
        ],
        headers=auth["reviewer"],
    )
    assert also_cms.status_code == 201, also_cms.text


# --- mappings: every class of invalid mapping is refused, with nothing stored ----------------

LAWS_TO_SITES = {"concept": "c.laws", "question": "CBD:T1:b_sites"}

INVALID: list[tuple[str, Json, int, list[str]]] = [
    ("unknown concept", _spare(concept="c.nope"), 422, ["/0/concept"]),
    ("concept key not a key", _spare(concept="C NOPE"), 422, ["/0/concept"]),
    ("unknown template version", _spare(template_version="3.0.0"), 422, ["/0/template_version"]),
    ("malformed template version", _spare(template_version="v1"), 422, ["/0/template_version"]),
    ("unknown cycle", _spare(question="CBD:T9:b_mon"), 422, ["/0/template_version"]),
    ("unknown question id", _spare(question="CBD:T1:b_nope"), 422, ["/0/question"]),
    ("question reference with two parts", _spare(question="CBD:b_mon"), 422, ["/0/question"]),
    ("question reference with slashes", _spare(question="CBD/T1/b_mon"), 422, ["/0/question"]),
    ("question reference with four parts", _spare(question="CBD:T1:b:mon"), 422, ["/0/question"]),
    ("bad relation", _spare(relation="sameAs"), 422, ["/0/relation"]),
    (
        "missing relation",
        {k: v for k, v in _spare().items() if k != "relation"},
        422,
        ["/0/relation"],
    ),
    ("bad status", _spare(status="rejected"), 422, ["/0/status"]),
    ("confidence above 1", _spare(confidence=1.5), 422, ["/0/confidence"]),
    ("negative confidence", _spare(confidence=-0.1), 422, ["/0/confidence"]),
    ("unknown member", _spare(score=3), 422, ["/0/score"]),
    (
        "bad approval time",
        _spare(status="approved", approved_at="yesterday"),
        422,
        ["/0/approved_at"],
    ),
    (
        "identity between different types",
        _spare(concept="c.details", question="CBD:T1:b_count", transform={}),
        422,
        ["/0/transform"],
    ),
    (
        "identity with a concept option missing in the question",
        _spare(transform={}),
        422,
        ["/0/transform"],
    ),
    (
        "multi_choice identity with concept options missing in the question",
        _spare(concept="c.threats", question="CMS:T1:a_threats", transform={}),
        422,
        ["/0/transform", "/0/transform"],
    ),
    (
        "option map key that is not a concept option",
        _spare(transform={"options": {"yes": "yes", "maybe": "no"}}),
        422,
        ["/0/transform/options/maybe"],
    ),
    (
        "option map value that is not a question option",
        _spare(transform={"options": {"yes": "yes", "partly": "sometimes", "no": "no"}}),
        422,
        ["/0/transform/options/partly"],
    ),
    (
        "option map value that is a boolean for a choice question",
        _spare(transform={"options": {"yes": True}}),
        422,
        ["/0/transform/options/yes"],
    ),
    (
        "boolean question given a string image",
        _spare(question="CBD:T1:b_law", transform={"options": {"yes": "true", "no": False}}),
        422,
        ["/0/transform/options/yes"],
    ),
    (
        "boolean concept with a key other than true/false",
        _spare(concept="c.law", question="CMS:T1:a_sc", transform={"options": {"yes": "yes"}}),
        422,
        ["/0/transform/options/yes"],
    ),
    (
        "option map on number types",
        _spare(concept="c.count", question="CBD:T1:b_area", transform={"options": {"1": "2"}}),
        422,
        ["/0/transform/options"],
    ),
    (
        "option map from a single_choice to text",
        _spare(question="CBD:T1:b_free", transform={"options": {"yes": "yes"}}),
        422,
        ["/0/transform/options"],
    ),
    (
        "scale and offset on text",
        _spare(concept="c.details", question="CBD:T1:b_free", transform={"scale": 2}),
        422,
        ["/0/transform"],
    ),
    (
        "offset from a number to text",
        _spare(concept="c.count", question="CBD:T1:b_free", transform={"offset": 1}),
        422,
        ["/0/transform"],
    ),
    (
        "scale that is not a number",
        _spare(concept="c.count", question="CBD:T1:b_area", transform={"scale": "100"}),
        422,
        ["/0/transform/scale"],
    ),
    (
        "column map on text",
        _spare(
            concept="c.details",
            question="CBD:T1:b_free",
            transform={"columns": {"name": {"to": "site"}}},
        ),
        422,
        ["/0/transform/columns"],
    ),
    (
        "column map with an unknown concept column",
        _spare(**LAWS_TO_SITES, transform={"columns": {"nope": {"to": "site"}}}),
        422,
        ["/0/transform/columns/nope"],
    ),
    (
        "column map to an unknown question column",
        _spare(**LAWS_TO_SITES, transform={"columns": {"name": {"to": "nope"}}}),
        422,
        ["/0/transform/columns/name/to"],
    ),
    (
        "two concept columns feeding the same native column",
        _spare(
            **LAWS_TO_SITES,
            transform={"columns": {"name": {"to": "site"}, "year": {"to": "site"}}},
        ),
        422,
        ["/0/transform/columns/year/to"],
    ),
    (
        "column transform that does not apply",
        _spare(
            **LAWS_TO_SITES,
            transform={
                "columns": {"status": {"to": "site", "transform": {"options": {"in_force": "x"}}}}
            },
        ),
        422,
        ["/0/transform/columns/status/transform/options"],
    ),
    (
        "table identity with a column of another type",
        _spare(**LAWS_TO_SITES, transform={}),
        422,
        ["/0/transform/columns/year"],
    ),
    (
        "a transform mixing forms",
        _spare(transform={"options": {"yes": "yes"}, "scale": 2}),
        422,
        ["/0/transform"],
    ),
    (
        "a transform of unknown form",
        _spare(transform={"regex": "s/yes/no/"}),
        422,
        ["/0/transform"],
    ),
    ("a transform that is not an object", _spare(transform=["yes"]), 422, ["/0/transform"]),
    (
        "option image that is neither a code nor a boolean",
        _spare(transform={"options": {"yes": 1, "no": "no"}}),
        422,
        ["/0/transform/options/yes"],
    ),
    (
        "column map entry without 'to'",
        _spare(**LAWS_TO_SITES, transform={"columns": {"name": {}}}),
        422,
        ["/0/transform/columns/name/to"],
    ),
    (
        "column transform that is malformed",
        _spare(
            **LAWS_TO_SITES,
            transform={"columns": {"name": {"to": "site", "transform": {"scale": "x"}}}},
        ),
        422,
        ["/0/transform/columns/name/transform/scale"],
    ),
    (
        "an empty option map",
        _spare(transform={"options": {}}),
        422,
        ["/0/transform/options"],
    ),
]


@pytest.mark.parametrize(
    ("document", "status", "expected"),
    [pytest.param(doc, status, ptrs, id=name) for name, doc, status, ptrs in INVALID],
)
async def test_an_invalid_mapping_is_refused_and_nothing_is_stored(
    bare_client: httpx.AsyncClient,
    auth: Headers,
    xw: Fixture,
    document: Json,
    status: int,
    expected: list[str],
) -> None:
    before = await snapshot(bare_client, auth)
    alone = await bare_client.post("/api/v1/mappings", json=[document], headers=auth["admin"])
    assert sorted(pointers(assert_problem(alone, status))) == sorted(expected)
    # in a batch after a valid item: the pointer names the item, and the valid one is not kept
    valid = _spare(concept="c.details", question="CBD:T1:b_free", transform={})
    batch = await bare_client.post(
        "/api/v1/mappings", json=[valid, document], headers=auth["admin"]
    )
    assert sorted(pointers(assert_problem(batch, status))) == sorted(
        "/1" + p.removeprefix("/0") for p in expected
    )
    assert await snapshot(bare_client, auth) == before


async def test_one_bad_item_refuses_the_whole_batch(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    before = await snapshot(bare_client, auth)
    batch = [
        mapping_document("c.details", "CBD:T1:b_free", {}, relation="closeMatch"),
        mapping_document("c.laws", "CBD:T1:b_sites", {"columns": {"name": {"to": "site"}}}),
        _spare(transform={"options": {"yes": "yes", "partly": "partially"}}),
        _spare(concept="c.monitoring", question="CMS:T1:a_law", status="proposed"),
    ]
    batch[3]["transform"] = {"options": {"yes": "present", "no": "absent"}}
    refused = await bare_client.post("/api/v1/mappings", json=batch, headers=auth["admin"])
    problem = assert_problem(refused, 422)
    assert pointers(problem) == ["/2/transform/options/partly"]
    assert "partially" in problem["errors"][0]["detail"]
    assert await snapshot(bare_client, auth) == before
    # without the bad item, the rest is stored in order
    del batch[2]
    created = await bare_client.post("/api/v1/mappings", json=batch, headers=auth["admin"])
    assert created.status_code == 201, created.text
    assert [m["question"] for m in created.json()] == [
        "CBD:T1:b_free",
        "CBD:T1:b_sites",
        "CMS:T1:a_law",
    ]
    assert [m["propagates"] for m in created.json()] == [True, True, False]


async def test_a_duplicate_mapping_is_a_conflict(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    before = await snapshot(bare_client, auth)
    again = copy.deepcopy(A_MAPPINGS[1]) | {"status": "proposed", "confidence": 0.5}
    refused = await bare_client.post("/api/v1/mappings", json=[again], headers=auth["admin"])
    assert pointers(assert_problem(refused, 409)) == ["/0"]
    # twice in one batch
    twice = [_spare(), _spare(relation="narrowMatch")]
    refused = await bare_client.post("/api/v1/mappings", json=twice, headers=auth["admin"])
    assert pointers(assert_problem(refused, 409)) == ["/1"]
    assert await snapshot(bare_client, auth) == before


async def test_a_second_propagating_mapping_is_refused_when_created(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    await bare_client.post(
        "/api/v1/concepts", json=[concept_document("c.summary", "text", [])], headers=auth["admin"]
    )
    before = await snapshot(bare_client, auth)
    second = mapping_document("c.summary", "CBD:T1:b_text", {})
    for relation in ("exactMatch", "closeMatch"):
        refused = await bare_client.post(
            "/api/v1/mappings", json=[second | {"relation": relation}], headers=auth["cbd_sec"]
        )
        assert pointers(assert_problem(refused, 409)) == ["/0/status"]
    # b_mon takes its value from a closeMatch: a second exactMatch is refused too
    refused = await bare_client.post(
        "/api/v1/mappings",
        json=[_spare(relation="exactMatch", status="approved")],
        headers=auth["admin"],
    )
    assert pointers(assert_problem(refused, 409)) == ["/0/status"]
    # two propagating mappings to the same question in one batch
    pair = [
        mapping_document("c.summary", "CBD:T1:b_free", {}),
        mapping_document("c.details", "CBD:T1:b_free", {}, relation="closeMatch"),
    ]
    refused = await bare_client.post("/api/v1/mappings", json=pair, headers=auth["admin"])
    assert pointers(assert_problem(refused, 409)) == ["/1/status"]
    assert await snapshot(bare_client, auth) == before
    # what does not propagate is welcome: proposed, or an approved looser relation
    fine = [
        second | {"status": "proposed"},
        mapping_document("c.capacity", "CBD:T1:b_text", {}, relation="relatedMatch"),
        mapping_document("c.details", "CBD:T1:b_free", {}, relation="relatedMatch"),
    ]
    created = await bare_client.post("/api/v1/mappings", json=fine, headers=auth["cbd_sec"])
    assert created.status_code == 201, created.text
    assert [m["propagates"] for m in created.json()] == [False, False, False]


async def test_a_second_propagating_mapping_is_refused_when_approved(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    await bare_client.post(
        "/api/v1/concepts", json=[concept_document("c.summary", "text", [])], headers=auth["admin"]
    )
    created = await bare_client.post(
        "/api/v1/mappings",
        json=[
            mapping_document("c.summary", "CBD:T1:b_text", {}, status="proposed"),
            mapping_document("c.capacity", "CBD:T1:b_text", {}, relation="relatedMatch"),
        ],
        headers=auth["cbd_sec"],
    )
    assert created.status_code == 201, created.text
    proposed, related = (m["id"] for m in created.json())
    before = await snapshot(bare_client, auth)
    for mapping_id, change in (
        (proposed, {"status": "approved"}),
        (proposed, {"status": "approved", "relation": "closeMatch"}),
        (related, {"relation": "exactMatch"}),
        (related, {"relation": "closeMatch", "confidence": 0.9}),
    ):
        refused = await bare_client.patch(
            f"/api/v1/mappings/{mapping_id}", json=change, headers=auth["admin"]
        )
        assert pointers(assert_problem(refused, 409)) == ["/status"], change
    assert await snapshot(bare_client, auth) == before
    # once the first no longer propagates, the second may be approved
    first = xw.mappings["CBD:T1:b_text"]
    demoted = await bare_client.patch(
        f"/api/v1/mappings/{first}", json={"relation": "broadMatch"}, headers=auth["cbd_sec"]
    )
    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["status"] == "approved"
    assert demoted.json()["propagates"] is False
    approved = await bare_client.patch(
        f"/api/v1/mappings/{proposed}", json={"status": "approved"}, headers=auth["cbd_sec"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["propagates"] is True
    # and the first cannot propagate again
    refused = await bare_client.patch(
        f"/api/v1/mappings/{first}", json={"relation": "exactMatch"}, headers=auth["admin"]
    )
    assert_problem(refused, 409)


PATCH_INVALID: list[tuple[str, str, Json, int, list[str]]] = [
    (
        "option map value not a question option",
        "CMS:T1:a_sc",
        {"transform": {"options": {"yes": "yes", "partly": "maybe"}}},
        422,
        ["/transform/options/partly"],
    ),
    (
        "option map key not a concept option",
        "CMS:T1:a_sc",
        {"transform": {"options": {"perhaps": "partially"}}},
        422,
        ["/transform/options/perhaps"],
    ),
    (
        "identity between choices of other codes",
        "CMS:T1:a_sc",
        {"transform": {}},
        422,
        ["/transform"],
    ),
    ("number map on a boolean", "CMS:T1:a_mon", {"transform": {"scale": 1}}, 422, ["/transform"]),
    (
        "string image for a boolean question",
        "CMS:T1:a_mon",
        {"transform": {"options": {"yes": "yes"}}},
        422,
        ["/transform/options/yes"],
    ),
    (
        "unknown concept column",
        "CMS:T1:a_laws",
        {"transform": {"columns": {"title": {"to": "instrument"}}}},
        422,
        ["/transform/columns/title"],
    ),
    (
        "unknown question column",
        "CMS:T1:a_laws",
        {"transform": {"columns": {"name": {"to": "title"}}}},
        422,
        ["/transform/columns/name/to"],
    ),
    (
        "mixed transform forms",
        "CMS:T1:a_area",
        {"transform": {"scale": 2, "columns": {"x": {"to": "y"}}}},
        422,
        ["/transform"],
    ),
    ("bad relation", "CMS:T1:a_area", {"relation": "sameAs"}, 422, ["/relation"]),
    ("bad status", "CMS:T1:a_area", {"status": "rejected"}, 422, ["/status"]),
    ("confidence above 1", "CMS:T1:a_area", {"confidence": 1.01}, 422, ["/confidence"]),
    ("the concept cannot be changed", "CMS:T1:a_area", {"concept": "c.count"}, 422, ["/concept"]),
    (
        "the question cannot be changed",
        "CMS:T1:a_area",
        {"question": "CMS:T1:a_count"},
        422,
        ["/question"],
    ),
]


@pytest.mark.parametrize(
    ("question", "change", "status", "expected"),
    [pytest.param(q, c, s, e, id=name) for name, q, c, s, e in PATCH_INVALID],
)
async def test_an_invalid_change_is_refused_and_nothing_changes(
    bare_client: httpx.AsyncClient,
    auth: Headers,
    xw: Fixture,
    question: str,
    change: Json,
    status: int,
    expected: list[str],
) -> None:
    before = await snapshot(bare_client, auth)
    refused = await bare_client.patch(
        f"/api/v1/mappings/{xw.mappings[question]}", json=change, headers=auth["admin"]
    )
    assert sorted(pointers(assert_problem(refused, status))) == sorted(expected)
    assert await snapshot(bare_client, auth) == before


async def test_a_valid_change_is_checked_and_recorded(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    url = f"/api/v1/mappings/{xw.mappings['CMS:T1:a_area']}"
    changed = await bare_client.patch(
        url,
        json={"transform": {"scale": 0.5, "offset": -2}, "justification": "remeasured"},
        headers=auth["cms_sec"],
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["transform"] == {"scale": 0.5, "offset": -2}
    assert body["justification"] == "remeasured"
    assert body["status"] == "approved"  # untouched fields stay
    assert body["approved_by"] == "user:cms_sec"
    # scale 0 is a valid transform, but not invertible
    flat = await bare_client.patch(url, json={"transform": {"scale": 0}}, headers=auth["admin"])
    assert flat.status_code == 200, flat.text
    assert flat.json()["invertible"] is False
    assert_problem(
        await bare_client.patch("/api/v1/mappings/999999", json={}, headers=auth["admin"]), 404
    )
    audit = await mapping_audit(bare_client, auth)
    assert [e["action"] for e in audit[:2]] == ["mapping.update", "mapping.update"]
    assert audit[1]["before"]["transform"] == {"scale": 2, "offset": 1}
    assert audit[1]["after"]["transform"] == {"scale": 0.5, "offset": -2}


async def test_a_mapping_to_a_draft_or_an_old_version_is_pinned_to_it(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    draft = await bare_client.post(
        "/api/v1/templates", json=template_b("1.1.0"), headers=auth["admin"]
    )
    assert draft.status_code == 201, draft.text
    created = await bare_client.post(
        "/api/v1/mappings",
        json=[mapping_document("c.details", "CBD:T1:b_free", {}) | {"template_version": "1.1.0"}],
        headers=auth["cbd_sec"],
    )
    assert created.status_code == 201, created.text
    assert created.json()[0]["template_version"] == "1.1.0"
    assert created.json()[0]["template_id"] == draft.json()["id"]
    # the 1.0.0 question has no mapping from c.details to b_free; the draft's mapping is seen
    # by its secretariat only
    response = await bare_client.get(
        "/api/v1/mappings", params={"question": "CBD:T1:b_free"}, headers=auth["cbd_sec"]
    )
    assert [m["template_version"] for m in response.json()["items"]] == ["1.1.0"]
    assert await all_mappings(bare_client, question="CBD:T1:b_free") == []
    # a reviewer cannot propose a mapping to a draft it cannot see
    hidden = await bare_client.post(
        "/api/v1/mappings",
        json=[
            mapping_document("c.details", "CBD:T1:b_free", {})
            | {"template_version": "1.1.0", "status": "proposed"}
        ],
        headers=auth["reviewer"],
    )
    assert hidden.status_code == 422, hidden.text
    assert pointers(hidden.json()) == ["/0/template_version"]


# --- crosswalk queries ----------------------------------------------------------------------


async def test_question_links(bare_client: httpx.AsyncClient, xw: Fixture) -> None:
    response = await bare_client.get("/api/v1/crosswalk/CMS:T1:a_sc")
    assert response.status_code == 200, response.text
    body = response.json()
    a_map = {"options": {"yes": "yes", "partly": "partially", "no": "no"}}
    b_map = {"options": {"yes": "fully", "no": "no"}}
    assert body["question"] == "CMS:T1:a_sc"
    assert body["template_id"] == xw.templates["CMS:T1"]
    assert body["template_version"] == VERSION
    assert body["type"] == "single_choice"
    assert body["concepts"] == [
        {
            "concept": "c.nbsap",
            "relation": "exactMatch",
            "status": "approved",
            "mapping_id": xw.mappings["CMS:T1:a_sc"],
            "transform": a_map,
        }
    ]
    assert body["links"] == [
        {
            "question": "CBD:T1:b_sc",
            "template_version": VERSION,
            "template_status": "published",
            "via": {
                "concept": "c.nbsap",
                "from_relation": "exactMatch",
                "to_relation": "exactMatch",
            },
            "relation": "exactMatch",
            "propagates": True,
            "transform_from": a_map,
            "transform_to": b_map,
            "invertible": True,
            "mapping_ids": [xw.mappings["CMS:T1:a_sc"], xw.mappings["CBD:T1:b_sc"]],
        }
    ]

    async def links(ref: str) -> list[tuple[str, str, bool]]:
        got = await bare_client.get(f"/api/v1/crosswalk/{ref}")
        assert got.status_code == 200, got.text
        return [(x["question"], x["relation"], x["propagates"]) for x in got.json()["links"]]

    # the path's relation combines both mappings' relations
    assert await links("CBD:T1:b_mon") == [("CMS:T1:a_mon", "closeMatch", True)]
    assert await links("CMS:T1:a_cap") == [("CBD:T1:b_cap", "relatedMatch", False)]
    assert await links("CBD:T1:b_count") == [("CMS:T1:a_count", "exactMatch", False)]
    assert await links("CBD:T1:b_free") == []
    free = (await bare_client.get("/api/v1/crosswalk/CBD:T1:b_free")).json()
    assert free["concepts"] == []
    assert_problem(await bare_client.get("/api/v1/crosswalk/CBD:T1:b_nope"), 404)
    assert_problem(await bare_client.get("/api/v1/crosswalk/CBD:T9:b_free"), 404)
    assert_problem(await bare_client.get("/api/v1/crosswalk/CBD:T1"), 400)
    assert_problem(
        await bare_client.get("/api/v1/crosswalk/CBD:T1:b_free", params={"version": "7.0.0"}), 404
    )


# Hand-computed coverage of B (CBD:T1) from A (CMS:T1). The share of a row is the share of the
# `from` question's possible values that reach the `to` question: open types (text, number,
# tables whose required columns are fed) count 1; a_sc has 3 options of which 'partially'
# (concept 'partly') has no image in b_sc, so 2/3.
def _row(
    question: str,
    type_: str,
    relation: str | None = None,
    concept: str | None = None,
    from_question: str | None = None,
    share: float = 0.0,
    *,
    fillable: bool = True,
    suggestion_only: bool = False,
) -> Json:
    return {
        "question": question,
        "type": type_,
        "fillable": fillable,
        "relation": relation,
        "concept": concept,
        "from_question": from_question,
        "share": share,
        "suggestion_only": suggestion_only,
    }


def _unlinked(question: str, type_: str) -> Json:
    return _row(question, type_, fillable=False)


COVERAGE_A_TO_B = [
    _row("b_text", "text", "exactMatch", "c.details", "a_text", 1.0),
    _row("b_sc", "single_choice", "exactMatch", "c.nbsap", "a_sc", 0.6667),
    _row("b_mon", "single_choice", "closeMatch", "c.monitoring", "a_mon", 1.0),
    _row("b_law", "boolean", "exactMatch", "c.law", "a_law", 1.0),
    _row("b_area", "number", "exactMatch", "c.area", "a_area", 1.0),
    _row("b_threats", "multi_choice", "exactMatch", "c.threats", "a_threats", 1.0),
    _row("b_laws", "table", "exactMatch", "c.laws", "a_laws", 1.0),
    # an approved relatedMatch only suggests
    _row(
        "b_cap",
        "text",
        "relatedMatch",
        "c.capacity",
        "a_cap",
        0.0,
        fillable=False,
        suggestion_only=True,
    ),
    # only proposed: not counted
    _unlinked("b_count", "number"),
    _unlinked("b_free", "text"),
    _unlinked("b_sites", "table"),
]
# 11 questions: 7 fillable (6 exact, 1 close), 1 suggestion, 3 unlinked;
# value share (6 * 1 + 0.6667) / 11
TOTALS_A_TO_B = {
    "questions": 11,
    "fillable": 7,
    "suggestion_only": 1,
    "unlinked": 3,
    "share_fillable": 0.6364,
    "by_relation": {
        "exactMatch": {"count": 6, "share": 0.5455},
        "closeMatch": {"count": 1, "share": 0.0909},
    },
    "value_share": 0.6061,
}
COVERAGE_B_TO_A = [
    _row("a_text", "text", "exactMatch", "c.details", "b_text", 1.0),
    # both of b_sc's options reach a_sc
    _row("a_sc", "single_choice", "exactMatch", "c.nbsap", "b_sc", 1.0),
    _row("a_mon", "boolean", "closeMatch", "c.monitoring", "b_mon", 1.0),
    _row("a_law", "single_choice", "exactMatch", "c.law", "b_law", 1.0),
    _row("a_area", "number", "exactMatch", "c.area", "b_area", 1.0),
    _row("a_threats", "multi_choice", "exactMatch", "c.threats", "b_threats", 1.0),
    _row("a_laws", "table", "exactMatch", "c.laws", "b_laws", 1.0),
    _row(
        "a_cap",
        "text",
        "relatedMatch",
        "c.capacity",
        "b_cap",
        0.0,
        fillable=False,
        suggestion_only=True,
    ),
    _unlinked("a_count", "number"),
    _unlinked("a_extra", "date"),
]
TOTALS_B_TO_A = {
    "questions": 10,
    "fillable": 7,
    "suggestion_only": 1,
    "unlinked": 2,
    "share_fillable": 0.7,
    "by_relation": {
        "exactMatch": {"count": 6, "share": 0.6},
        "closeMatch": {"count": 1, "share": 0.1},
    },
    "value_share": 0.7,
}


async def test_coverage_matches_the_hand_computed_values(
    bare_client: httpx.AsyncClient, xw: Fixture
) -> None:
    response = await bare_client.get(
        "/api/v1/crosswalk/coverage", params={"from": "CMS:T1", "to": "CBD:T1"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == {
        "cycle": "CMS:T1",
        "template_id": xw.templates["CMS:T1"],
        "version": VERSION,
    }
    assert body["to"] == {
        "cycle": "CBD:T1",
        "template_id": xw.templates["CBD:T1"],
        "version": VERSION,
    }
    assert body["questions"] == COVERAGE_A_TO_B
    assert body["totals"] == TOTALS_A_TO_B
    back = await bare_client.get(
        "/api/v1/crosswalk/coverage", params={"from": "CBD:T1", "to": "CMS:T1"}
    )
    assert back.status_code == 200, back.text
    assert back.json()["questions"] == COVERAGE_B_TO_A
    assert back.json()["totals"] == TOTALS_B_TO_A


async def test_coverage_follows_approvals(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    # approving the proposed b_count mapping makes b_count fillable; withdrawing the approval
    # of b_sc makes it unlinked
    for question, status in (("CBD:T1:b_count", "approved"), ("CBD:T1:b_sc", "proposed")):
        patched = await bare_client.patch(
            f"/api/v1/mappings/{xw.mappings[question]}",
            json={"status": status},
            headers=auth["cbd_sec"],
        )
        assert patched.status_code == 200, patched.text
    body = (
        await bare_client.get(
            "/api/v1/crosswalk/coverage", params={"from": "CMS:T1", "to": "CBD:T1"}
        )
    ).json()
    rows = {r["question"]: r for r in body["questions"]}
    assert rows["b_count"] == _row("b_count", "number", "exactMatch", "c.count", "a_count", 1.0)
    assert rows["b_sc"] == _unlinked("b_sc", "single_choice")
    # 7 fillable (6 exact with b_count, 1 close), value share 7 / 11
    assert body["totals"] == TOTALS_A_TO_B | {
        "value_share": 0.6364,
        "by_relation": {
            "exactMatch": {"count": 6, "share": 0.5455},
            "closeMatch": {"count": 1, "share": 0.0909},
        },
    }


async def test_coverage_errors(bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture) -> None:
    url = "/api/v1/crosswalk/coverage"
    assert_problem(await bare_client.get(url, params={"from": "CMS:T1"}), 422)
    assert_problem(await bare_client.get(url, params={"from": "CMS:T9", "to": "CBD:T1"}), 404)
    assert_problem(await bare_client.get(url, params={"from": "CMST1", "to": "CBD:T1"}), 400)
    # a cycle without a published template
    empty = {
        "convention": "RAMSAR",
        "code": "T1",
        "title": "No template yet",
        "opens_on": "2026-01-01",
        "due_on": "2026-12-31",
    }
    made = await bare_client.post("/api/v1/cycles", json=empty, headers=auth["admin"])
    assert made.status_code == 201, made.text
    assert_problem(await bare_client.get(url, params={"from": "CMS:T1", "to": "RAMSAR:T1"}), 404)


# --- translation ----------------------------------------------------------------------------

A_ANSWERS: Json = {
    "a_text": "Migratory species are covered by NBSAP target 4",
    "a_sc": "yes",
    "a_mon": True,
    "a_law": "present",
    "a_area": 4.2,
    "a_threats": ["hunt", "habitat_loss"],
    "a_laws": [
        {"instrument": "Wildlife Act", "year": 2013, "state": "force"},
        {"instrument": "Wetlands bill", "state": "draft"},
    ],
    "a_cap": "Training of rangers",
    "a_count": 12,
    "a_extra": "2025-06-30",
}
# A's answers in B: (4.2 - 1) / 2 = 1.6 km2 is 160 ha
B_VALUES: Json = {
    "b_text": "Migratory species are covered by NBSAP target 4",
    "b_sc": "fully",
    "b_mon": "yes",
    "b_law": True,
    "b_area": 160,
    "b_threats": ["hunting", "habitat"],
    "b_laws": [
        {"name": "Wildlife Act", "year": 2013, "status": "in_force"},
        {"name": "Wetlands bill", "status": "draft"},
    ],
}
# the questions of A linked to B by approved exact or close matches with invertible transforms
ROUND_TRIP = ("a_text", "a_sc", "a_mon", "a_law", "a_area", "a_threats", "a_laws")


async def _translate(client: httpx.AsyncClient, source: str, target: str, answers: Json) -> Json:
    response = await client.post(
        "/api/v1/crosswalk/translate", json={"from": source, "to": target, "answers": answers}
    )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def test_translate_a_report_into_another_template(
    bare_client: httpx.AsyncClient, xw: Fixture
) -> None:
    body = await _translate(bare_client, "CMS:T1", "CBD:T1", A_ANSWERS)
    assert body["from"] == {
        "cycle": "CMS:T1",
        "template_id": xw.templates["CMS:T1"],
        "version": VERSION,
    }
    assert body["to"] == {
        "cycle": "CBD:T1",
        "template_id": xw.templates["CBD:T1"],
        "version": VERSION,
    }
    assert body["values"] == B_VALUES
    assert body["provenance"] == {
        qid: {"concept": concept, "from_question": source}
        for qid, concept, source in (
            ("b_text", "c.details", "a_text"),
            ("b_sc", "c.nbsap", "a_sc"),
            ("b_mon", "c.monitoring", "a_mon"),
            ("b_law", "c.law", "a_law"),
            ("b_area", "c.area", "a_area"),
            ("b_threats", "c.threats", "a_threats"),
            ("b_laws", "c.laws", "a_laws"),
        )
    }
    # the relatedMatch gives a suggestion, not a value; the proposed mapping gives nothing
    assert body["suggestions"] == {
        "b_cap": {
            "value": "Training of rangers",
            "concept": "c.capacity",
            "relation": "relatedMatch",
            "from_question": "a_cap",
        }
    }
    assert body["needs_direct_answer"] == []
    assert body["left_to_answer"] == ["b_cap", "b_count", "b_free", "b_sites"]
    assert body["untranslated"] == ["a_extra"]
    assert body["conflicts"] == []


async def test_translation_round_trips_through_invertible_transforms(
    bare_client: httpx.AsyncClient, xw: Fixture
) -> None:
    there = await _translate(bare_client, "CMS:T1", "CBD:T1", A_ANSWERS)
    back = await _translate(bare_client, "CBD:T1", "CMS:T1", there["values"])
    assert back["values"] == {q: A_ANSWERS[q] for q in ROUND_TRIP}
    assert back["untranslated"] == []
    # and from B's side: B -> A -> B gives B's answers back
    b_answers = B_VALUES | {
        "b_sc": "no",
        "b_mon": "no",
        "b_law": False,
        "b_area": 0.5,
        "b_threats": ["bycatch"],
    }
    a_side = await _translate(bare_client, "CBD:T1", "CMS:T1", b_answers)
    # 0.5 ha = 0.005 km2, in A 0.005 * 2 + 1
    assert {q: a_side["values"][q] for q in ("a_sc", "a_mon", "a_law", "a_area", "a_threats")} == {
        "a_sc": "no",
        "a_mon": False,
        "a_law": "absent",
        "a_area": 1.01,
        "a_threats": ["bycatch"],
    }
    b_again = await _translate(bare_client, "CMS:T1", "CBD:T1", a_side["values"])
    assert b_again["values"] == b_answers


async def test_a_value_without_an_image_needs_a_direct_answer(
    bare_client: httpx.AsyncClient, xw: Fixture
) -> None:
    # 'partially' is the concept's 'partly', which b_sc has no option for
    body = await _translate(bare_client, "CMS:T1", "CBD:T1", {"a_sc": "partially"})
    assert body["values"] == {}
    assert body["needs_direct_answer"] == ["b_sc"]
    assert "b_sc" in body["left_to_answer"]
    # a table whose required native column gets no value does not propagate either
    rows = [{"year": 2001, "state": "draft"}]
    body = await _translate(bare_client, "CMS:T1", "CBD:T1", {"a_laws": rows})
    assert "b_laws" not in body["values"]
    assert body["needs_direct_answer"] == ["b_laws"]


async def test_translate_refuses_unknown_questions(
    bare_client: httpx.AsyncClient, xw: Fixture
) -> None:
    url = "/api/v1/crosswalk/translate"
    refused = await bare_client.post(
        url, json={"from": "CMS:T1", "to": "CBD:T1", "answers": {"a_text": "x", "a/b": 1}}
    )
    assert pointers(assert_problem(refused, 422)) == ["/answers/a~1b"]
    extra = {"from": "CMS:T1", "to": "CBD:T1", "answers": {}, "lang": "en"}
    assert pointers(assert_problem(await bare_client.post(url, json=extra), 422)) == ["/lang"]
    missing = {"from": "CMS:T1", "answers": {}}
    assert pointers(assert_problem(await bare_client.post(url, json=missing), 422)) == ["/to"]
    unknown = {"from": "CMS:T9", "to": "CBD:T1", "answers": {}}
    assert_problem(await bare_client.post(url, json=unknown), 404)


# --- new template versions ------------------------------------------------------------------


def _question(document: Json, qid: str) -> Json:
    question: Json = next(q for q in document["sections"][0]["questions"] if q["id"] == qid)
    return question


async def test_publishing_a_new_version_carries_unchanged_mappings_over(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    document = template_a("1.1.0")
    # a new wording does not matter to a mapping
    _question(document, "a_text")["text"] = {"en": "Please describe, in more detail"}
    # a new option, a new type, and a question gone
    _question(document, "a_sc")["options"] += option_list("unknown")
    area = _question(document, "a_area")
    area["type"] = "text"
    del area["unit"]
    questions = document["sections"][0]["questions"]
    questions.remove(_question(document, "a_count"))
    draft = await bare_client.post("/api/v1/templates", json=document, headers=auth["cms_sec"])
    assert draft.status_code == 201, draft.text
    new_id = draft.json()["id"]
    before = await all_mappings(bare_client)
    published = await bare_client.post(
        f"/api/v1/templates/{new_id}/publish", headers=auth["cms_sec"]
    )
    assert published.status_code == 200, published.text
    report = published.json()
    assert report["replaces"]["id"] == xw.templates["CMS:T1"]
    carried = report["mappings_carried"]
    unchanged = ("a_text", "a_mon", "a_law", "a_threats", "a_laws", "a_cap")
    assert [(c["question"], c["status"]) for c in carried] == [(q, "proposed") for q in unchanged]
    for entry in carried:
        old = next(m for m in A_MAPPINGS if m["question"] == f"CMS:T1:{entry['question']}")
        assert entry["mapping"] == xw.mappings[old["question"]]
        assert entry["concept"] == old["concept"]
        assert entry["relation"] == old["relation"]
    review = {r["question"]: r for r in report["mappings_to_review"]}
    assert sorted(review) == ["a_area", "a_count", "a_sc"]
    for qid, concept in (("a_area", "c.area"), ("a_count", "c.count"), ("a_sc", "c.nbsap")):
        assert review[qid]["mapping"] == xw.mappings[f"CMS:T1:{qid}"]
        assert review[qid]["concept"] == concept
        assert review[qid]["reason"]
    assert "gone" in review["a_count"]["reason"]
    assert "options changed (added unknown)" in review["a_sc"]["reason"]
    # a carried mapping says what changed in its question (the template diff's fields)
    assert next(c for c in carried if c["question"] == "a_text")["question_changed"] == ["text"]
    assert "question_changed" not in next(c for c in carried if c["question"] == "a_mon")
    assert "text" in review["a_area"]["reason"]
    # the copies are new mappings pinned to 1.1.0, proposed; the old ones are untouched
    after = await all_mappings(bare_client)
    assert after[: len(before)] == before
    copies = after[len(before) :]
    assert [m["id"] for m in copies] == [c["new_mapping"] for c in carried]
    for copied in copies:
        old = next(m for m in before if m["question"] == copied["question"])
        assert copied["template_id"] == new_id
        assert copied["template_version"] == "1.1.0"
        assert copied["status"] == "proposed"
        assert copied["approved_by"] is None
        assert copied["propagates"] is False
        for key in ("concept", "relation", "transform", "justification", "confidence", "author"):
            assert copied[key] == old[key], key
    audit = await mapping_audit(bare_client, auth)
    assert [e["action"] for e in audit[: len(copies)]] == ["mapping.carry_over"] * len(copies)
    # links of the question now follow the newest version, where the copy is only proposed
    # (the same question's 1.0.0 mapping is listed as a link too, with its version)
    links = (await bare_client.get("/api/v1/crosswalk/CMS:T1:a_text")).json()
    assert links["template_version"] == "1.1.0"
    assert [(x["question"], x["template_version"], x["propagates"]) for x in links["links"]] == [
        ("CMS:T1:a_text", VERSION, False),
        ("CBD:T1:b_text", VERSION, False),
    ]
    pinned = (
        await bare_client.get("/api/v1/crosswalk/CMS:T1:a_text", params={"version": VERSION})
    ).json()
    assert [(x["question"], x["template_version"], x["propagates"]) for x in pinned["links"]] == [
        ("CBD:T1:b_text", VERSION, True),
        ("CMS:T1:a_text", "1.1.0", False),
    ]
    # approving a carried mapping makes it propagate again
    approved = await bare_client.patch(
        f"/api/v1/mappings/{copies[0]['id']}", json={"status": "approved"}, headers=auth["cms_sec"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["propagates"] is True


async def test_publishing_the_first_version_carries_nothing(
    bare_client: httpx.AsyncClient, auth: Headers
) -> None:
    ids = await setup_templates(bare_client, auth)
    assert set(ids) == {"CMS:T1", "CBD:T1"}
    draft = await bare_client.post(
        "/api/v1/templates", json=template_b("2.0.0"), headers=auth["cbd_sec"]
    )
    published = await bare_client.post(
        f"/api/v1/templates/{draft.json()['id']}/publish", headers=auth["cbd_sec"]
    )
    assert published.status_code == 200, published.text
    assert published.json()["mappings_carried"] == []
    assert published.json()["mappings_to_review"] == []


# --- defects found while writing these tests ------------------------------------------------


async def test_concurrent_approvals_leave_one_propagating_mapping(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    keys = [f"c.rival{i}" for i in range(6)]
    concepts = [concept_document(k, "text", []) for k in keys]
    made = await bare_client.post("/api/v1/concepts", json=concepts, headers=auth["admin"])
    assert made.status_code == 201, made.text
    proposed = [mapping_document(k, "CBD:T1:b_free", {}, status="proposed") for k in keys]
    created = await bare_client.post("/api/v1/mappings", json=proposed, headers=auth["admin"])
    assert created.status_code == 201, created.text
    ids = [m["id"] for m in created.json()]
    # warm the connection pool so that the approvals really run side by side
    await asyncio.gather(*(bare_client.get("/api/v1/mappings") for _ in keys))
    for _ in range(3):
        approvals = await asyncio.gather(
            *(
                bare_client.patch(
                    f"/api/v1/mappings/{i}", json={"status": "approved"}, headers=auth["admin"]
                )
                for i in ids
            )
        )
        assert sorted(r.status_code for r in approvals) == [200] + [409] * (len(ids) - 1)
        linked = await all_mappings(bare_client, question="CBD:T1:b_free")
        assert [m["propagates"] for m in linked].count(True) == 1
        # withdraw the approval and try again
        for approval in approvals:
            if approval.status_code == 200:
                withdrawn = await bare_client.patch(
                    f"/api/v1/mappings/{approval.json()['id']}",
                    json={"status": "proposed"},
                    headers=auth["admin"],
                )
                assert withdrawn.status_code == 200, withdrawn.text


async def test_a_translated_suggestion_names_the_relation_of_its_path(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    made = await bare_client.post(
        "/api/v1/concepts", json=[concept_document("c.broad", "text", [])], headers=auth["admin"]
    )
    assert made.status_code == 201, made.text
    created = await bare_client.post(
        "/api/v1/mappings",
        json=[
            mapping_document("c.broad", "CMS:T1:a_cap", {}, relation="broadMatch"),
            mapping_document("c.broad", "CBD:T1:b_free", {}),
        ],
        headers=auth["admin"],
    )
    assert created.status_code == 201, created.text
    coverage = (
        await bare_client.get(
            "/api/v1/crosswalk/coverage", params={"from": "CMS:T1", "to": "CBD:T1"}
        )
    ).json()
    row = next(r for r in coverage["questions"] if r["question"] == "b_free")
    assert (row["relation"], row["suggestion_only"]) == ("broadMatch", True)
    links = (await bare_client.get("/api/v1/crosswalk/CBD:T1:b_free")).json()["links"]
    assert [x["relation"] for x in links] == ["broadMatch"]
    body = await _translate(bare_client, "CMS:T1", "CBD:T1", {"a_cap": "Ranger training"})
    assert body["suggestions"]["b_free"] == {
        "value": "Ranger training",
        "concept": "c.broad",
        "relation": "broadMatch",
        "from_question": "a_cap",
    }


async def test_a_draft_is_not_revealed_through_the_crosswalk(
    bare_client: httpx.AsyncClient, auth: Headers, xw: Fixture
) -> None:
    draft = await bare_client.post(
        "/api/v1/templates", json=template_b("1.1.0"), headers=auth["cbd_sec"]
    )
    assert draft.status_code == 201, draft.text
    # the draft itself is hidden
    assert_problem(await bare_client.get(f"/api/v1/templates/{draft.json()['id']}"), 404)
    url = "/api/v1/crosswalk/CBD:T1:b_free"
    assert_problem(await bare_client.get(url, params={"version": "1.1.0"}), 404)
    assert_problem(
        await bare_client.get(url, params={"version": "1.1.0"}, headers=auth["cms_sec"]), 404
    )
