"""The crosswalk fixture of tests/test_crosswalk.py and tests/test_crosswalk_exchange.py.

Cycle CMS:T1 with template A, cycle CBD:T1 with template B, nine concepts, and mappings from
both templates to them that cover every kind of transform (`MAPPINGS`); `build` creates it all
through the HTTP API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.helpers import Headers, Json

VERSION = "1.0.0"


# --- the fixture: two templates, nine concepts, eighteen mappings ---------------------------


def _label(text: str) -> dict[str, str]:
    return {"en": text}


def _q(qid: str, type_: str, **extra: Any) -> Json:
    return {"id": qid, "type": type_, "text": _label(f"Question {qid}")} | extra


def option_list(*codes: str) -> list[Json]:
    return [{"code": c, "label": _label(c.replace("_", " ").capitalize())} for c in codes]


def _col(cid: str, type_: str, **extra: Any) -> Json:
    return {"id": cid, "type": type_, "text": _label(cid.capitalize())} | extra


def _template(convention: str, questions: list[Json], version: str) -> Json:
    return {
        "convention": convention,
        "cycle": "T1",
        "version": version,
        "languages": ["en"],
        "title": _label(f"{convention} test report"),
        "sections": [
            {"id": "I", "title": _label("Everything"), "questions": questions, "sections": []}
        ],
    }


def template_a(version: str = VERSION) -> Json:
    """The CMS:T1 template (A)."""
    return _template(
        "CMS",
        [
            _q("a_text", "text", max_length=2000),
            _q("a_sc", "single_choice", options=option_list("yes", "partially", "no")),
            _q("a_mon", "boolean"),
            _q("a_law", "single_choice", options=option_list("present", "absent")),
            _q("a_area", "number", unit="km2"),
            _q("a_threats", "multi_choice", options=option_list("hunt", "bycatch", "habitat_loss")),
            _q(
                "a_laws",
                "table",
                columns=[
                    _col("instrument", "text", required=True),
                    _col("year", "number", integer=True),
                    _col("state", "single_choice", options=option_list("force", "draft")),
                ],
            ),
            _q("a_cap", "text"),
            _q("a_count", "number", integer=True),
            _q("a_extra", "date"),
        ],
        version,
    )


def template_b(version: str = VERSION) -> Json:
    """The CBD:T1 template (B)."""
    return _template(
        "CBD",
        [
            _q("b_text", "text"),
            _q("b_sc", "single_choice", options=option_list("fully", "no")),
            _q("b_mon", "single_choice", options=option_list("yes", "no")),
            _q("b_law", "boolean"),
            _q("b_area", "number", unit="ha"),
            _q("b_threats", "multi_choice", options=option_list("hunting", "bycatch", "habitat")),
            _q(
                "b_laws",
                "table",
                columns=[
                    _col("name", "text", required=True),
                    _col("year", "number", integer=True),
                    _col("status", "single_choice", options=option_list("in_force", "draft")),
                ],
            ),
            _q("b_cap", "text"),
            _q("b_count", "number"),
            _q("b_free", "text"),
            _q(
                "b_sites",
                "table",
                columns=[_col("site", "text", required=True), _col("year", "text")],
            ),
        ],
        version,
    )


def concept_document(key: str, type_: str, tags: list[str], **extra: Any) -> Json:
    return {
        "key": key,
        "type": type_,
        "text": {"en": f"Concept {key}", "fr": f"Concept {key} (fr)"},
        "description": _label(f"What {key} means"),
        "tags": tags,
    } | extra


CONCEPTS: list[Json] = [
    concept_document("c.details", "text", ["GBF:T14"]),
    concept_document(
        "c.nbsap",
        "single_choice",
        ["GBF:T14", "SPMS:T3"],
        options=[{"code": "yes"}, {"code": "partly"}, {"code": "no"}],
    ),
    concept_document(
        "c.monitoring", "single_choice", ["GBF:T21"], options=[{"code": "yes"}, {"code": "no"}]
    ),
    concept_document("c.law", "boolean", ["AICHI:T11"]),
    concept_document("c.area", "number", ["GBF:T3", "AICHI:T11", "SDG:14.5"], unit="km2"),
    concept_document(
        "c.threats",
        "multi_choice",
        ["SPMS:T10"],
        options=[{"code": "hunting"}, {"code": "bycatch"}, {"code": "habitat"}],
    ),
    concept_document(
        "c.laws",
        "table",
        ["GBF:T3", "SPMS:T2"],
        columns=[
            {"id": "name", "type": "text", "required": True},
            {"id": "year", "type": "number", "integer": True},
            {
                "id": "status",
                "type": "single_choice",
                "options": [{"code": "in_force"}, {"code": "draft"}],
            },
        ],
    ),
    concept_document("c.capacity", "text", ["GBF:T20"]),
    concept_document("c.count", "number", ["SDG:14.4"], integer=True),
]

LAWS_COLUMNS = {
    "name": {"to": "instrument"},
    "year": {"to": "year"},
    "status": {"to": "state", "transform": {"options": {"in_force": "force", "draft": "draft"}}},
}


def mapping_document(
    concept: str,
    question: str,
    transform: Json,
    relation: str = "exactMatch",
    status: str = "approved",
    **extra: Any,
) -> Json:
    return {
        "concept": concept,
        "question": question,
        "template_version": VERSION,
        "relation": relation,
        "transform": transform,
        "status": status,
    } | extra


# written by the CMS secretariat
A_MAPPINGS: list[Json] = [
    mapping_document(
        "c.details", "CMS:T1:a_text", {}, justification="same wording", confidence=1.0
    ),
    mapping_document(
        "c.nbsap",
        "CMS:T1:a_sc",
        {"options": {"yes": "yes", "partly": "partially", "no": "no"}},
        confidence=0.95,
        author="CMS Secretariat",
    ),
    mapping_document("c.monitoring", "CMS:T1:a_mon", {"options": {"yes": True, "no": False}}),
    mapping_document("c.law", "CMS:T1:a_law", {"options": {"true": "present", "false": "absent"}}),
    mapping_document("c.area", "CMS:T1:a_area", {"scale": 2, "offset": 1}),
    mapping_document(
        "c.threats",
        "CMS:T1:a_threats",
        {"options": {"hunting": "hunt", "bycatch": "bycatch", "habitat": "habitat_loss"}},
    ),
    mapping_document("c.laws", "CMS:T1:a_laws", {"columns": LAWS_COLUMNS}),
    mapping_document("c.capacity", "CMS:T1:a_cap", {}),
    mapping_document("c.count", "CMS:T1:a_count", {}),
]
# written by the CBD secretariat
B_MAPPINGS: list[Json] = [
    mapping_document("c.details", "CBD:T1:b_text", {}),
    # 'partly' has no image in B
    mapping_document(
        "c.nbsap", "CBD:T1:b_sc", {"options": {"yes": "fully", "no": "no"}}, confidence=0.8
    ),
    mapping_document("c.monitoring", "CBD:T1:b_mon", {}, relation="closeMatch"),
    mapping_document("c.law", "CBD:T1:b_law", {}),
    mapping_document("c.area", "CBD:T1:b_area", {"scale": 100}, justification="km2 to ha"),
    mapping_document("c.threats", "CBD:T1:b_threats", {}),
    mapping_document("c.laws", "CBD:T1:b_laws", {}),
    mapping_document("c.capacity", "CBD:T1:b_cap", {}, relation="relatedMatch"),
    mapping_document("c.count", "CBD:T1:b_count", {}, status="proposed"),
]
MAPPINGS = A_MAPPINGS + B_MAPPINGS


@dataclass
class Fixture:
    """Ids of what `build` created."""

    templates: dict[str, int]
    mappings: dict[str, int]  # question reference -> mapping id


async def setup_templates(client: httpx.AsyncClient, auth: Headers) -> dict[str, int]:
    """Cycles CMS:T1 and CBD:T1 with templates A and B published; their ids by cycle."""
    ids = {}
    for convention, document in (("CMS", template_a()), ("CBD", template_b())):
        cycle = {
            "convention": convention,
            "code": "T1",
            "title": f"{convention} test cycle",
            "opens_on": "2026-01-01",
            "due_on": "2026-12-31",
        }
        made = await client.post("/api/v1/cycles", json=cycle, headers=auth["admin"])
        assert made.status_code == 201, made.text
        imported = await client.post("/api/v1/templates", json=document, headers=auth["admin"])
        assert imported.status_code == 201, imported.text
        tid = imported.json()["id"]
        published = await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["admin"])
        assert published.status_code == 200, published.text
        ids[f"{convention}:T1"] = tid
    return ids


async def build(client: httpx.AsyncClient, auth: Headers) -> Fixture:
    """The whole fixture: templates, concepts and mappings."""
    templates = await setup_templates(client, auth)
    made = await client.post("/api/v1/concepts", json=CONCEPTS, headers=auth["admin"])
    assert made.status_code == 201, made.text
    ids: dict[str, int] = {}
    for who, batch in (("cms_sec", A_MAPPINGS), ("cbd_sec", B_MAPPINGS)):
        created = await client.post("/api/v1/mappings", json=batch, headers=auth[who])
        assert created.status_code == 201, created.text
        ids |= {m["question"]: m["id"] for m in created.json()}
    return Fixture(templates=templates, mappings=ids)


async def all_mappings(client: httpx.AsyncClient, **params: str) -> list[Json]:
    """Every mapping (one page is enough for these tests)."""
    query: dict[str, str | int] = {"limit": 500, **params}
    response = await client.get("/api/v1/mappings", params=query)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    items: list[Json] = response.json()["items"]
    return items


async def mapping_audit(client: httpx.AsyncClient, auth: Headers) -> list[Json]:
    """Audit events about mappings."""
    response = await client.get(
        "/api/v1/audit",
        params={"target_type": "mapping", "limit": 500},
        headers=auth["admin"],
    )
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items
