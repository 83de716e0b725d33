"""Who may do what, role by role, through the HTTP API.

Roles of the test users (tests/conftest.py): admin; cms_sec and cbd_sec (secretariat of CMS,
of CBD); ken_fp (focal point of Kenya for CMS and CBD); tza_fp (focal point of Tanzania for
CMS); reviewer. "anonymous" sends no Authorization header.

A draft is invisible to whoever may not manage it, so writes to it by those callers answer 404
(as reads do); writes to a published template, which everyone can see, answer 403.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import Headers, assert_problem, minimal_template

TEMPLATES = "/api/v1/templates"
ROLES = ["anonymous", "admin", "cms_sec", "cbd_sec", "ken_fp", "tza_fp", "reviewer"]


def as_(auth: Headers, role: str) -> dict[str, str]:
    """The headers of a role; none for anonymous."""
    return {} if role == "anonymous" else auth[role]


def assert_refused(response: httpx.Response, status: int) -> None:
    """A 401 (with its challenge), 403 or 404 problem."""
    assert_problem(response, status)
    if status == 401:
        assert response.headers["www-authenticate"].lower().startswith("bearer")


def by_role(table: dict[str, Any]) -> list[Any]:
    """pytest params (role, expected) with the role as id."""
    return [pytest.param(role, expected, id=role) for role, expected in table.items()]


async def drafts_seen_by_admin(client: httpx.AsyncClient, auth: Headers) -> list[int]:
    """Ids of every draft."""
    response = await client.get(
        TEMPLATES, params={"status": "draft", "limit": 500}, headers=auth["admin"]
    )
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["items"]]


async def import_draft(
    client: httpx.AsyncClient,
    auth: Headers,
    *,
    convention: str = "CMS",
    cycle: str = "COP15",
    version: str = "9.0.0",
    user: str = "cms_sec",
) -> int:
    """A new draft, imported by `user`."""
    doc = minimal_template(convention, cycle, version)
    response = await client.post(TEMPLATES, json=doc, headers=auth[user])
    assert response.status_code == 201, response.text
    tid: int = response.json()["id"]
    return tid


async def bundled_cms_template(client: httpx.AsyncClient) -> int:
    """Id of the published bundled CMS COP15 template."""
    listed = await client.get(TEMPLATES, params={"cycle": "CMS:COP15", "status": "published"})
    items = [t for t in listed.json()["items"] if t["version"] == "1.0.0"]
    assert len(items) == 1, listed.json()
    tid: int = items[0]["id"]
    return tid


# --- template import -------------------------------------------------------------------------


IMPORT: dict[str, dict[str, int]] = {
    # role: status of importing a template of CMS, of CBD, of AEWA (a CMS Family instrument)
    "anonymous": {"CMS": 401, "CBD": 401, "AEWA": 401},
    "admin": {"CMS": 201, "CBD": 201, "AEWA": 201},
    "cms_sec": {"CMS": 201, "CBD": 403, "AEWA": 403},
    "cbd_sec": {"CMS": 403, "CBD": 201, "AEWA": 403},
    "ken_fp": {"CMS": 403, "CBD": 403, "AEWA": 403},
    "tza_fp": {"CMS": 403, "CBD": 403, "AEWA": 403},
    "reviewer": {"CMS": 403, "CBD": 403, "AEWA": 403},
}
CYCLE_OF = {"CMS": "COP15", "CBD": "NR7", "AEWA": "MOP9"}


@pytest.mark.parametrize(("role", "expected"), by_role(IMPORT))
async def test_template_import(
    client: httpx.AsyncClient, auth: Headers, role: str, expected: dict[str, int]
) -> None:
    imported: list[int] = []
    for convention, status in expected.items():
        doc = minimal_template(convention, CYCLE_OF[convention])
        response = await client.post(TEMPLATES, json=doc, headers=as_(auth, role))
        if status == 201:
            assert response.status_code == 201, (convention, response.text)
            assert response.json()["convention"] == convention
            assert response.json()["created_by"] == f"user:{role}"
            imported.append(response.json()["id"])
        else:
            assert_refused(response, status)
        assert await drafts_seen_by_admin(client, auth) == imported


# --- writes to a draft -----------------------------------------------------------------------

DRAFT_WRITES: dict[str, dict[str, int]] = {
    "anonymous": {"replace": 401, "publish": 401, "delete": 401},
    "admin": {"replace": 200, "publish": 200, "delete": 204},
    "cms_sec": {"replace": 200, "publish": 200, "delete": 204},
    "cbd_sec": {"replace": 404, "publish": 404, "delete": 404},
    "ken_fp": {"replace": 404, "publish": 404, "delete": 404},
    "tza_fp": {"replace": 404, "publish": 404, "delete": 404},
    "reviewer": {"replace": 404, "publish": 404, "delete": 404},
}


async def check_draft_writes(
    client: httpx.AsyncClient, auth: Headers, role: str, expected: dict[str, int]
) -> None:
    """Writes to three CMS drafts, one per operation."""
    headers = as_(auth, role)
    replaced, published, deleted = [
        await import_draft(client, auth, version=v) for v in ("9.0.0", "9.0.1", "9.0.2")
    ]
    originals = {
        tid: (await client.get(f"{TEMPLATES}/{tid}/document", headers=auth["admin"])).json()
        for tid in (replaced, published, deleted)
    }
    doc = minimal_template() | {"title": {"en": "Replaced", "fr": "Remplacé"}}
    responses = {
        "replace": await client.put(f"{TEMPLATES}/{replaced}", json=doc, headers=headers),
        "publish": await client.post(f"{TEMPLATES}/{published}/publish", headers=headers),
        "delete": await client.delete(f"{TEMPLATES}/{deleted}", headers=headers),
    }
    for op, response in responses.items():
        if expected[op] < 400:
            assert response.status_code == expected[op], (op, response.text)
        else:
            assert_refused(response, expected[op])
    after = {
        tid: await client.get(f"{TEMPLATES}/{tid}/document", headers=auth["admin"])
        for tid in (replaced, published, deleted)
    }
    listed = await client.get(TEMPLATES, params={"limit": 500}, headers=auth["admin"])
    status = {t["id"]: t["status"] for t in listed.json()["items"]}
    if expected["replace"] == 200:
        assert after[replaced].json()["title"]["en"] == "Replaced"
    else:
        assert after[replaced].json() == originals[replaced]
    assert status[published] == ("published" if expected["publish"] == 200 else "draft")
    if expected["delete"] == 204:
        assert_problem(after[deleted], 404)
    else:
        assert after[deleted].json() == originals[deleted]


# --- writes to a published template ----------------------------------------------------------

PUBLISHED_WRITES: dict[str, dict[str, int]] = {
    "anonymous": {"replace": 401, "publish": 401, "delete": 401, "retire": 401},
    "admin": {"replace": 409, "publish": 409, "delete": 409, "retire": 200},
    "cms_sec": {"replace": 409, "publish": 409, "delete": 409, "retire": 200},
    "cbd_sec": {"replace": 403, "publish": 403, "delete": 403, "retire": 403},
    "ken_fp": {"replace": 403, "publish": 403, "delete": 403, "retire": 403},
    "tza_fp": {"replace": 403, "publish": 403, "delete": 403, "retire": 403},
    "reviewer": {"replace": 403, "publish": 403, "delete": 403, "retire": 403},
}


async def check_published_writes(
    client: httpx.AsyncClient, auth: Headers, role: str, expected: dict[str, int]
) -> None:
    """Writes to the bundled, published CMS template."""
    headers = as_(auth, role)
    tid = await bundled_cms_template(client)
    url = f"{TEMPLATES}/{tid}"
    original = (await client.get(f"{url}/document")).json()
    responses = {
        "replace": await client.put(url, json=original, headers=headers),
        "publish": await client.post(f"{url}/publish", headers=headers),
        "delete": await client.delete(url, headers=headers),
        "retire": await client.post(f"{url}/retire", headers=headers),
    }
    for op, response in responses.items():
        if expected[op] == 200:
            assert response.status_code == 200, (op, response.text)
        else:
            assert_refused(response, expected[op])
    after = await client.get(url)
    assert after.status_code == 200
    assert after.json()["status"] == ("retired" if expected["retire"] == 200 else "published")
    assert (await client.get(f"{url}/document")).json() == original


@pytest.mark.parametrize("role", ROLES)
async def test_template_writes(client: httpx.AsyncClient, auth: Headers, role: str) -> None:
    """Replace, publish, delete, retire the published CMS template; then the same on drafts."""
    await check_published_writes(client, auth, role, PUBLISHED_WRITES[role])
    await check_draft_writes(client, auth, role, DRAFT_WRITES[role])


# --- who sees drafts -------------------------------------------------------------------------

DRAFT_VISIBLE: dict[str, tuple[bool, bool]] = {
    # role: (sees the CMS draft, sees the CBD draft)
    "anonymous": (False, False),
    "admin": (True, True),
    "cms_sec": (True, False),
    "cbd_sec": (False, True),
    "ken_fp": (False, False),
    "tza_fp": (False, False),
    "reviewer": (False, False),
}


@pytest.mark.parametrize(("role", "expected"), by_role(DRAFT_VISIBLE))
async def test_draft_visibility(
    client: httpx.AsyncClient, auth: Headers, role: str, expected: tuple[bool, bool]
) -> None:
    headers = as_(auth, role)
    cms = await import_draft(client, auth)
    cbd = await import_draft(client, auth, convention="CBD", cycle="NR7", user="cbd_sec")
    for tid, visible in zip((cms, cbd), expected, strict=True):
        for path in (f"{TEMPLATES}/{tid}", f"{TEMPLATES}/{tid}/document"):
            response = await client.get(path, headers=headers)
            if visible:
                assert response.status_code == 200, (path, response.text)
            else:
                assert_problem(response, 404)
    lists: list[tuple[dict[str, str], tuple[bool, bool]]] = [
        ({}, expected),
        ({"status": "draft"}, expected),
        ({"convention": "CMS"}, (expected[0], False)),
        ({"cycle": "CMS:COP15"}, (expected[0], False)),
        ({"convention": "CBD", "status": "draft"}, (False, expected[1])),
    ]
    for params, shown in lists:
        listed = await client.get(TEMPLATES, params=params, headers=headers)
        assert listed.status_code == 200
        ids = {t["id"] for t in listed.json()["items"]}
        assert (cms in ids, cbd in ids) == shown, params
    drafts = await client.get(TEMPLATES, params={"status": "draft"}, headers=headers)
    assert {t["id"] for t in drafts.json()["items"]} == {
        tid for tid, visible in zip((cms, cbd), expected, strict=True) if visible
    }
    assert all(t["status"] == "draft" for t in drafts.json()["items"])


async def test_published_and_retired_templates_are_public(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    listed = await client.get(TEMPLATES)
    assert listed.status_code == 200
    public = listed.json()["items"]
    assert {t["cycle"] for t in public} >= {"CMS:COP15", "CBD:NR7", "AEWA:MOP9"}
    assert {t["status"] for t in public} == {"published"}
    for summary in public:
        one = await client.get(f"{TEMPLATES}/{summary['id']}")
        assert one.status_code == 200
        assert one.json()["sections"]
        document = await client.get(f"{TEMPLATES}/{summary['id']}/document")
        assert document.status_code == 200
        assert document.json()["version"] == summary["version"]
    tid = await bundled_cms_template(client)
    retired = await client.post(f"{TEMPLATES}/{tid}/retire", headers=auth["cms_sec"])
    assert retired.status_code == 200
    assert (await client.get(f"{TEMPLATES}/{tid}")).json()["status"] == "retired"
    listed_retired = await client.get(TEMPLATES, params={"status": "retired"})
    assert [t["id"] for t in listed_retired.json()["items"]] == [tid]


# --- registry writes -------------------------------------------------------------------------

REGISTRY_WRITES: dict[str, dict[str, int]] = {
    # role: status of setting a membership, of opening a CMS cycle, of opening a CBD cycle
    "anonymous": {"membership": 401, "CMS": 401, "CBD": 401},
    "admin": {"membership": 201, "CMS": 201, "CBD": 201},
    "cms_sec": {"membership": 403, "CMS": 201, "CBD": 403},
    "cbd_sec": {"membership": 403, "CMS": 403, "CBD": 201},
    "ken_fp": {"membership": 403, "CMS": 403, "CBD": 403},
    "tza_fp": {"membership": 403, "CMS": 403, "CBD": 403},
    "reviewer": {"membership": 403, "CMS": 403, "CBD": 403},
}


@pytest.mark.parametrize(("role", "expected"), by_role(REGISTRY_WRITES))
async def test_registry_writes(
    client: httpx.AsyncClient, auth: Headers, role: str, expected: dict[str, int]
) -> None:
    """Memberships are the admin's; a convention's cycles its secretariat's and the admin's."""
    headers = as_(auth, role)
    url = "/api/v1/parties/TZA/memberships/CMS"
    body = {"since": "1999-09-01", "source": "test"}
    response = await client.put(url, json=body, headers=headers)
    party = (await client.get("/api/v1/parties/TZA")).json()
    if expected["membership"] == 201:
        assert response.status_code == 201, response.text
        assert [m["convention"] for m in party["memberships"]] == ["CMS"]
        assert (await client.delete(url, headers=headers)).status_code == 204
    else:
        assert_refused(response, expected["membership"])
        assert party["memberships"] == []
        # removing one is the admin's too
        assert (await client.put(url, json=body, headers=auth["admin"])).status_code == 201
        assert_refused(await client.delete(url, headers=headers), expected["membership"])
        kept = (await client.get("/api/v1/parties/TZA")).json()
        assert [m["convention"] for m in kept["memberships"]] == ["CMS"]
    for convention in ("CMS", "CBD"):
        cycle = {
            "convention": convention,
            "code": "NEXT",
            "title": "Next round",
            "opens_on": "2030-01-01",
            "due_on": "2030-12-31",
        }
        response = await client.post("/api/v1/cycles", json=cycle, headers=headers)
        stored = await client.get(f"/api/v1/cycles/{convention}:NEXT")
        if expected[convention] == 201:
            assert response.status_code == 201, response.text
            assert stored.status_code == 200
        else:
            assert_refused(response, expected[convention])
            assert_problem(stored, 404)


# --- audit and identity ----------------------------------------------------------------------

AUDIT: dict[str, int] = {
    "anonymous": 401,
    "admin": 200,
    "cms_sec": 403,
    "cbd_sec": 403,
    "ken_fp": 403,
    "tza_fp": 403,
    "reviewer": 403,
}


async def test_only_the_admin_reads_the_audit(client: httpx.AsyncClient, auth: Headers) -> None:
    queries: list[dict[str, str | int]] = [
        {},
        {"target_type": "template"},
        {"actor": "system", "limit": 1},
    ]
    for role, status in AUDIT.items():
        for params in queries:
            response = await client.get("/api/v1/audit", params=params, headers=as_(auth, role))
            if status == 200:
                assert response.status_code == 200, response.text
                assert response.json()["items"]
            else:
                assert_refused(response, status)
                assert "items" not in response.json()


ME: dict[str, list[dict[str, str | None]] | None] = {
    "anonymous": None,
    "admin": [{"role": "admin", "convention": None, "party": None}],
    "cms_sec": [{"role": "secretariat", "convention": "CMS", "party": None}],
    "cbd_sec": [{"role": "secretariat", "convention": "CBD", "party": None}],
    "ken_fp": [
        {"role": "focal_point", "convention": "CMS", "party": "KEN"},
        {"role": "focal_point", "convention": "CBD", "party": "KEN"},
    ],
    "tza_fp": [{"role": "focal_point", "convention": "CMS", "party": "TZA"}],
    "reviewer": [{"role": "reviewer", "convention": None, "party": None}],
}


def _grant_key(grant: dict[str, str | None]) -> tuple[str, str, str]:
    return (grant["role"] or "", grant["convention"] or "", grant["party"] or "")


async def test_me_returns_the_callers_roles(client: httpx.AsyncClient, auth: Headers) -> None:
    for role, roles in ME.items():
        response = await client.get("/api/v1/me", headers=as_(auth, role))
        if roles is None:
            assert_refused(response, 401)
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == role
        assert sorted(body["roles"], key=_grant_key) == sorted(roles, key=_grant_key), role


# --- bad credentials -------------------------------------------------------------------------

BAD_AUTHORIZATION = {
    "basic": "Basic eHl6OnNlY3JldA==",
    "bearer-without-token": "Bearer",
    "bearer-blank-token": "Bearer    ",
    "unknown-token": "Bearer cmsr_not-a-token-this-service-issued",
    "other-scheme": "Token abc",
    "token-without-scheme": "cmsr_abcdef",
}

# a bad header must never make an endpoint answer as if the caller were anonymous
PATHS = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/audit"),
    ("GET", TEMPLATES),
    ("GET", f"{TEMPLATES}/1"),
    ("GET", f"{TEMPLATES}/1/document"),
    ("POST", TEMPLATES),
    ("POST", "/api/v1/cycles"),
    ("PUT", "/api/v1/parties/KEN/memberships/CMS"),
    ("GET", "/api/v1/conventions"),
    ("GET", "/api/v1/conventions/CMS"),
    ("GET", "/api/v1/parties"),
    ("GET", "/api/v1/parties/KEN"),
    ("GET", "/api/v1/cycles"),
    ("GET", "/api/v1/cycles/CMS:COP15"),
]


async def test_bad_authorization_is_refused_not_anonymous(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    for name, header in BAD_AUTHORIZATION.items():
        for method, path in PATHS:
            body = minimal_template() if (method, path) == ("POST", TEMPLATES) else {}
            response = await client.request(
                method,
                path,
                json=None if method == "GET" else body,
                headers={"Authorization": header},
            )
            assert response.status_code == 401, (name, method, path, response.text)
            assert_refused(response, 401)
    assert await drafts_seen_by_admin(client, auth) == []
    memberships = (await client.get("/api/v1/parties/KEN")).json()["memberships"]
    assert memberships == []


async def test_a_tampered_token_is_refused(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    token = tokens["admin"]
    for header in (
        f"Bearer {token}x",
        f"Bearer {token[:-1]}",
        f"Bearer {token.upper()}",
        f"Bearer {token} {token}",
        f"Bearer {token},",
    ):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert_refused(response, 401)
        assert "admin" not in response.text


async def test_the_scheme_is_case_insensitive(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    for header in (f"bearer {tokens['admin']}", f"BEARER {tokens['admin']}"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "admin"
