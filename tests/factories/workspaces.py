"""Builders of workspaces, concepts and mappings through the HTTP API, shared by the tests of
workspaces, submissions, the journey and exports."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Headers

WORKSPACES = "/api/v1/workspaces"


async def set_members(
    client: httpx.AsyncClient, auth: Headers, party: str, *conventions: str
) -> None:
    """Make a Party a member of these conventions (admin)."""
    for convention in conventions:
        response = await client.put(
            f"/api/v1/parties/{party}/memberships/{convention}", json={}, headers=auth["admin"]
        )
        assert response.status_code in (200, 201), response.text


async def add_concept(
    client: httpx.AsyncClient, auth: Headers, key: str, kind: str, **fields: Any
) -> None:
    """A concept of the shared question bank (admin)."""
    concept = {"key": key, "type": kind, "text": {"en": f"Concept {key}"}} | fields
    response = await client.post("/api/v1/concepts", json=concept, headers=auth["admin"])
    assert response.status_code == 201, response.text


async def add_mappings(client: httpx.AsyncClient, auth: Headers, *mappings: dict[str, Any]) -> None:
    """Mappings (admin); `template_version` defaults to the bundled 1.0.0, status to approved."""
    documents = [{"template_version": "1.0.0", "status": "approved"} | m for m in mappings]
    response = await client.post("/api/v1/mappings", json=documents, headers=auth["admin"])
    assert response.status_code == 201, response.text


def mapping(concept: str, question: str, relation: str, **fields: Any) -> dict[str, Any]:
    """A mapping document."""
    return {"concept": concept, "question": question, "relation": relation} | fields


async def nbsap_concept(client: httpx.AsyncClient, auth: Headers) -> None:
    """The journey's concept: NBSAP revised, feeding CBD NR7 (option map) and CMS COP15 IV.2
    (closeMatch, option -> boolean, with no image for 'partly')."""
    await add_concept(
        client,
        auth,
        "nbsap.revised",
        "single_choice",
        options=[{"code": "yes"}, {"code": "partly"}, {"code": "no"}],
    )
    await add_mappings(
        client,
        auth,
        mapping(
            "nbsap.revised",
            "CBD:NR7:sectionII.hasRevisedNbsap",
            "exactMatch",
            transform={"options": {"yes": "yes", "partly": "inProgress", "no": "no"}},
        ),
        mapping(
            "nbsap.revised",
            "CMS:COP15:IV.2",
            "closeMatch",
            transform={"options": {"yes": True, "no": False}},
        ),
    )


async def open_workspace(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    party: str,
    *cycles: str,
    **fields: Any,
) -> int:
    """A new workspace; returns its id."""
    made = await client.post(
        WORKSPACES, json={"party": party, "cycles": list(cycles)} | fields, headers=headers
    )
    assert made.status_code == 201, made.text
    wid: int = made.json()["id"]
    return wid


async def write(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int, *answers: tuple[str, Any, int]
) -> httpx.Response:
    """PATCH a batch of (slot, value, base_revision)."""
    return await client.patch(
        f"{WORKSPACES}/{wid}/answers",
        json={"answers": [{"slot": s, "value": v, "base_revision": r} for s, v, r in answers]},
        headers=headers,
    )


async def stored(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int
) -> dict[str, dict[str, Any]]:
    """The stored answers of a workspace by slot."""
    response = await client.get(f"{WORKSPACES}/{wid}/answers", headers=headers)
    assert response.status_code == 200, response.text
    return {a["slot"]: a for a in response.json()["answers"]}


async def preview(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int, cycle: str
) -> dict[str, Any]:
    """The preview of one cycle."""
    response = await client.get(f"{WORKSPACES}/{wid}/preview/{cycle}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def workspace_ids(client: httpx.AsyncClient, headers: dict[str, str]) -> list[int]:
    """Ids of the workspaces a caller is shown."""
    response = await client.get(WORKSPACES, headers=headers)
    assert response.status_code == 200, response.text
    return [w["id"] for w in response.json()["items"]]


async def shared_nbsap_concept(client: httpx.AsyncClient, auth: Headers) -> None:
    """A concept on NBSAP status feeding CBD NR7 (option map) and CMS (option -> boolean)."""
    for convention in ("CMS", "CBD"):
        member = await client.put(
            f"/api/v1/parties/KEN/memberships/{convention}", json={}, headers=auth["admin"]
        )
        assert member.status_code in (200, 201)
    concept = {
        "key": "nbsap.revised",
        "type": "single_choice",
        "text": {"en": "Has the national biodiversity strategy been revised?"},
        "options": [{"code": "yes"}, {"code": "partly"}, {"code": "no"}],
        "tags": ["GBF:T14"],
    }
    assert (
        await client.post("/api/v1/concepts", json=concept, headers=auth["admin"])
    ).status_code == 201
    mappings = [
        {
            "concept": "nbsap.revised",
            "question": "CBD:NR7:sectionII.hasRevisedNbsap",
            "template_version": "1.0.0",
            "relation": "exactMatch",
            "transform": {"options": {"yes": "yes", "partly": "inProgress", "no": "no"}},
            "status": "approved",
        },
        {
            "concept": "nbsap.revised",
            "question": "CMS:COP15:IV.2",
            "template_version": "1.0.0",
            "relation": "closeMatch",
            "transform": {"options": {"yes": True, "no": False}},
            "status": "approved",
        },
    ]
    created = await client.post("/api/v1/mappings", json=mappings, headers=auth["admin"])
    assert created.status_code == 201, created.text
