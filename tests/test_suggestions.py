"""Mapping suggestions through the HTTP API: ranking between templates and against the
concept bank, accepting a suggestion as mappings (by role, through the mapping rules),
rejecting one as a negative mapping, and bad input refused with nothing stored."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sssom.parsers import parse_sssom_table
from sssom.validators import validate

from cmsreporting.crosswalk.exchange import question_iri
from tests.helpers import Headers, Json, assert_problem, minimal_template, pointers

URL = "/api/v1/crosswalk/suggestions"
RELATIONS = {"exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch"}


async def suggestions(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: Any
) -> Json:
    response = await client.get(
        URL, params={"from": params.pop("from_"), **params}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def mappings_of(client: httpx.AsyncClient, question: str) -> list[Json]:
    response = await client.get("/api/v1/mappings", params={"question": question, "limit": 500})
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def rejections(client: httpx.AsyncClient) -> list[Json]:
    response = await client.get("/api/v1/crosswalk/rejections", params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


def concept_keys(mappings: list[Json]) -> set[str]:
    return {m["concept"] for m in mappings}


async def test_pairs_between_templates_are_ranked_and_explained(client: httpx.AsyncClient) -> None:
    body = await suggestions(client, from_="CBD:NR7", to="RAMSAR:COP16", limit=40, min_score=0)
    assert body["from"]["cycle"] == "CBD:NR7"
    assert body["to"]["cycle"] == "RAMSAR:COP16"
    items = body["items"]
    assert 0 < len(items) <= 40
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    for item in items:
        assert item["from_question"].startswith("CBD:NR7:")
        assert item["to_question"].startswith("RAMSAR:COP16:")
        assert 0 <= item["score"] <= 1
        assert item["relation"] in RELATIONS
        assert item["reasons"]
        assert item["reasons"][0].startswith("wording similarity")
        if item["transform"] is None:
            assert item["relation"] == "relatedMatch"
    # a pair already linked through a concept is not suggested again
    linked = await client.get("/api/v1/crosswalk/RAMSAR:COP16:1.1")
    others = {link["question"] for link in linked.json()["links"]}
    assert others, "the bundled crosswalk links RAMSAR:COP16:1.1"
    pairs = {(i["from_question"], i["to_question"]) for i in items}
    assert not any((o, "RAMSAR:COP16:1.1") in pairs for o in others)
    # limit and min_score are honoured
    fewer = await suggestions(client, from_="CBD:NR7", to="RAMSAR:COP16", limit=3, min_score=0)
    assert fewer["items"] == items[:3]
    high = await suggestions(client, from_="CBD:NR7", to="RAMSAR:COP16", min_score=0.5)
    assert all(i["score"] >= 0.5 for i in high["items"])
    assert [i for i in items if i["score"] >= 0.5][:50] == high["items"][:50]


async def test_suggestions_against_the_concept_bank(client: httpx.AsyncClient) -> None:
    body = await suggestions(client, from_="CMS:COP15", to="concepts", limit=100, min_score=0)
    assert body["to"] == {
        "concepts": len((await client.get("/api/v1/concepts?limit=500")).json()["items"])
    }
    items = body["items"]
    assert items
    for item in items:
        assert item["to_question"].startswith("concept:")
        mapped = concept_keys(await mappings_of(client, item["from_question"]))
        assert item["to_question"].removeprefix("concept:") not in mapped


async def test_accepting_creates_mappings_by_role(client: httpx.AsyncClient, auth: Headers) -> None:
    items = (await suggestions(client, from_="CMS:COP15", to="concepts", limit=100, min_score=0))[
        "items"
    ]
    pick = next(i for i in items if i["transform"] is not None)
    decision = {
        "from_question": pick["from_question"],
        "to_question": pick["to_question"],
        "relation": "relatedMatch",
    }
    assert_problem(await client.post(f"{URL}/accept", json=decision), 401)
    assert_problem(await client.post(f"{URL}/accept", json=decision, headers=auth["ken_fp"]), 403)
    assert_problem(await client.post(f"{URL}/accept", json=decision, headers=auth["cbd_sec"]), 403)
    before = await mappings_of(client, pick["from_question"])
    # a reviewer proposes
    proposed = await client.post(f"{URL}/accept", json=decision, headers=auth["reviewer"])
    assert proposed.status_code == 201, proposed.text
    [mapping] = proposed.json()
    assert mapping["status"] == "proposed"
    assert mapping["concept"] == pick["to_question"].removeprefix("concept:")
    assert mapping["question"] == pick["from_question"]
    assert mapping["transform"] == pick["transform"]
    assert mapping["mapping_justification"] == "semapv:CompositeMatching"
    assert len(await mappings_of(client, pick["from_question"])) == len(before) + 1
    # the pair is no longer suggested; accepting it again is a conflict and stores nothing
    again = (await suggestions(client, from_="CMS:COP15", to="concepts", limit=500, min_score=0))[
        "items"
    ]
    assert (pick["from_question"], pick["to_question"]) not in {
        (i["from_question"], i["to_question"]) for i in again
    }
    assert_problem(await client.post(f"{URL}/accept", json=decision, headers=auth["cms_sec"]), 409)
    # the convention's secretariat approves
    other = next(i for i in again if i["transform"] is not None and i["relation"] != "exactMatch")
    approved = await client.post(
        f"{URL}/accept",
        json={
            "from_question": other["from_question"],
            "to_question": other["to_question"],
            "relation": "relatedMatch",
        },
        headers=auth["cms_sec"],
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()[0]["status"] == "approved"
    assert approved.json()[0]["approved_by"]


async def test_accepting_a_pair_between_templates_links_through_a_concept(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    # RAMSAR:COP16:1.1 is mapped to nbsap.wetlands; a question of CITES is not
    pair = {
        "from_question": "RAMSAR:COP16:1.1",
        "to_question": "CITES:COP21:4.1",
        "relation": "relatedMatch",
    }
    assert "nbsap.wetlands" in concept_keys(await mappings_of(client, "RAMSAR:COP16:1.1"))
    before = concept_keys(await mappings_of(client, "CITES:COP21:4.1"))
    created = await client.post(f"{URL}/accept", json=pair, headers=auth["admin"])
    assert created.status_code == 201, created.text
    [mapping] = created.json()
    assert mapping["question"] == "CITES:COP21:4.1"
    assert mapping["relation"] == "relatedMatch"
    assert mapping["status"] == "approved"
    after = concept_keys(await mappings_of(client, "CITES:COP21:4.1"))
    assert after - before == {mapping["concept"]}
    # now linked: accepting again is a conflict
    assert_problem(await client.post(f"{URL}/accept", json=pair, headers=auth["admin"]), 409)
    # two questions without any concept need one named
    lonely = {
        "from_question": "CITES:COP21:2.2",
        "to_question": "RAMSAR:COP16:6.1",
        "relation": "relatedMatch",
    }
    for q in ("CITES:COP21:2.2", "RAMSAR:COP16:6.1"):
        assert await mappings_of(client, q) == []
    problem = assert_problem(
        await client.post(f"{URL}/accept", json=lonely, headers=auth["admin"]), 409
    )
    assert pointers(problem) == ["/concept"]
    assert await mappings_of(client, "RAMSAR:COP16:6.1") == []


async def test_rejecting_records_a_negative_mapping_once(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    items = (await suggestions(client, from_="CBD:NR7", to="RAMSAR:COP16", limit=5, min_score=0))[
        "items"
    ]
    top = items[0]
    decision = {
        "from_question": top["from_question"],
        "to_question": top["to_question"],
        "relation": top["relation"],
        "justification": "different scope",
    }
    assert_problem(await client.post(f"{URL}/reject", json=decision), 401)
    assert_problem(await client.post(f"{URL}/reject", json=decision, headers=auth["ken_fp"]), 403)
    assert await rejections(client) == []
    rejected = await client.post(f"{URL}/reject", json=decision, headers=auth["reviewer"])
    assert rejected.status_code == 201, rejected.text
    negative = rejected.json()
    assert negative["subject"] == top["from_question"]
    assert negative["object"] == top["to_question"]
    assert negative["predicate_modifier"] == "Not"
    assert await rejections(client) == [negative]
    # never suggested again, either way round
    after = (await suggestions(client, from_="CBD:NR7", to="RAMSAR:COP16", limit=500, min_score=0))[
        "items"
    ]
    assert (top["from_question"], top["to_question"]) not in {
        (i["from_question"], i["to_question"]) for i in after
    }
    back = (await suggestions(client, from_="RAMSAR:COP16", to="CBD:NR7", limit=500, min_score=0))[
        "items"
    ]
    assert (top["to_question"], top["from_question"]) not in {
        (i["from_question"], i["to_question"]) for i in back
    }
    # rejecting twice (or the other way round) is a conflict and stores nothing
    assert_problem(await client.post(f"{URL}/reject", json=decision, headers=auth["cbd_sec"]), 409)
    flipped = decision | {"from_question": top["to_question"], "to_question": top["from_question"]}
    assert_problem(await client.post(f"{URL}/reject", json=flipped, headers=auth["admin"]), 409)
    assert await rejections(client) == [negative]
    # and a rejected pair cannot be accepted
    assert_problem(await client.post(f"{URL}/accept", json=decision, headers=auth["admin"]), 409)


@pytest.mark.parametrize(
    ("params", "status", "pointer"),
    [
        ({"from": "CMS:NOPE", "to": "CBD:NR7"}, 404, "/from"),
        ({"from": "CMS:COP15", "to": "CBD:NOPE"}, 404, "/to"),
        ({"from": "CMS", "to": "CBD:NR7"}, 400, "/from"),
        ({"from": "CMS:COP15", "to": "CMS:COP15"}, 400, "/to"),
        ({"from": "CMS:COP15", "to": "CBD:NR7", "limit": "0"}, 422, "limit"),
        ({"from": "CMS:COP15", "to": "CBD:NR7", "limit": "501"}, 422, "limit"),
        ({"from": "CMS:COP15", "to": "CBD:NR7", "min_score": "1.5"}, 422, "min_score"),
        ({"from": "CMS:COP15", "to": "CBD:NR7", "min_score": "nan"}, 422, "min_score"),
        ({"to": "CBD:NR7"}, 422, "from"),
    ],
)
async def test_bad_suggestion_queries_name_the_field(
    client: httpx.AsyncClient, params: dict[str, str], status: int, pointer: str
) -> None:
    problem = assert_problem(await client.get(URL, params=params), status)
    assert any(p.endswith(pointer) for p in pointers(problem)), problem


async def test_drafts_only_for_those_who_may_see_them(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    draft = await client.post(
        "/api/v1/templates", json=minimal_template("CMS", "COP15", "9.0.0"), headers=auth["cms_sec"]
    )
    assert draft.status_code == 201, draft.text
    params = {"from": "CMS:COP15", "from_version": "9.0.0", "to": "CBD:NR7", "min_score": "0"}
    for who in (None, "cbd_sec", "reviewer"):
        problem = assert_problem(
            await client.get(URL, params=params, headers=auth[who] if who else {}), 404
        )
        assert pointers(problem) == ["/from"]
    seen = await client.get(URL, params=params, headers=auth["cms_sec"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["from"]["status"] == "draft"
    assert {i["from_question"] for i in seen.json()["items"]} <= {
        "CMS:COP15:I.1",
        "CMS:COP15:I.1a",
        "CMS:COP15:I.2",
    }


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (
            {"from_question": "CMS:COP15", "to_question": "concept:nbsap.wetlands"},
            422,
            "from_question",
        ),
        (
            {"from_question": "CMS:COP15:nope", "to_question": "concept:nbsap.wetlands"},
            404,
            "/from_question",
        ),
        (
            {"from_question": "CMS:COP15:IV.2", "to_question": "concept:no.such"},
            404,
            "/to_question",
        ),
        ({"from_question": "CMS:COP15:IV.2", "to_question": "CMS:COP15:IV.3"}, 400, "/to_question"),
        (
            {
                "from_question": "CMS:COP15:IV.2",
                "to_question": "concept:nbsap.wetlands",
                "relation": "sameAs",
            },
            422,
            "relation",
        ),
        (
            {
                "from_question": "CMS:COP15:IV.2",
                "to_question": "concept:nbsap.wetlands",
                "confidence": 2,
            },
            422,
            "confidence",
        ),
    ],
)
async def test_bad_decisions_name_the_field_and_store_nothing(
    client: httpx.AsyncClient, auth: Headers, body: Json, status: int, pointer: str
) -> None:
    before = await mappings_of(client, "CMS:COP15:IV.2")
    for action in ("accept", "reject"):
        problem = assert_problem(
            await client.post(f"{URL}/{action}", json=body, headers=auth["admin"]), status
        )
        assert any(p.endswith(pointer) for p in pointers(problem)), problem
    assert await mappings_of(client, "CMS:COP15:IV.2") == before
    assert await rejections(client) == []


# --- the command line ------------------------------------------------------------------------


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `cmsreporting ARGS` against the given database."""
    env = os.environ | {"CMSREPORTING_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "cmsreporting.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_cli_writes_candidates_as_sssom(
    db_url: str,
    client: httpx.AsyncClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    output = tmp_path / "cbd-ramsar.sssom.tsv"
    done = cli(db_url, "crosswalk", "suggest", "CBD:NR7", "RAMSAR:COP16", "-o", str(output))
    assert done.returncode == 0, done.stderr
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(output)
        validate(msdf, fail_on_error=True)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("sssom")] == []
    rows = msdf.df.to_dict("records")
    api = await suggestions(client, from_="CBD:NR7", to="RAMSAR:COP16", limit=500)
    assert len(rows) == len(api["items"]) > 0
    expand = msdf.converter.expand
    by_pair = {(expand(r["subject_id"]), expand(r["object_id"])): r for r in rows}
    for item in api["items"]:
        row = by_pair[(question_iri(item["from_question"]), question_iri(item["to_question"]))]
        assert row["predicate_id"] == "skos:" + item["relation"]
        assert row["confidence"] == pytest.approx(item["score"])
        assert row["mapping_justification"] in {
            "semapv:LexicalMatching",
            "semapv:CompositeMatching",
        }
        assert row["comment"] == "; ".join(item["reasons"])
    # against the concepts, the objects are concepts; a bad reference exits 1 and writes nothing
    concepts = tmp_path / "concepts.sssom.tsv"
    done = cli(db_url, "crosswalk", "suggest", "CMS:COP15", "concepts", "-o", str(concepts))
    assert done.returncode == 0, done.stderr
    objects = {r["object_id"] for r in parse_sssom_table(concepts).df.to_dict("records")}
    assert objects
    assert all(o.startswith("qbank:") for o in objects)
    missing = tmp_path / "none.sssom.tsv"
    done = cli(db_url, "crosswalk", "suggest", "CMS:NOPE", "concepts", "-o", str(missing))
    assert done.returncode == 1
    assert "CMS:NOPE" in done.stderr
    assert not missing.exists()
