"""The authorization matrix: every operation of the OpenAPI schema, for every role.

The operations are enumerated from `create_app().openapi()`, so a new route cannot be
forgotten: an operation without a row in MATRIX fails (test_every_operation_has_a_row, and its
own failing case in test_access_of_role). Each row holds one or more variants (own versus other
Party, own versus other convention, draft versus published) and the status class every role
must get: 200 stands for any 2xx; 401, 403, 404 and 409 are exact.

Roles (tests/conftest.py): anonymous; admin; cms_sec and cbd_sec (secretariats of CMS, of
CBD); ken_fp (focal point of Kenya for CMS and CBD); tza_fp (focal point of Tanzania for CMS);
reviewer.

One database serves the whole matrix (module fixture): a Kenyan workspace on CMS COP15 and CBD
NR7 with answers, its submissions to CMS (submitted, with a comment) and to CBD (accepted), a
Tanzanian workspace with its CMS submission, drafts of CMS and CBD templates with a mapping
on the CMS draft. Secret markers sit in that data (answers, comment, draft titles, the draft's
mapping); no response to a role may hold a marker the role may not read, whatever its status.
Reads run first; each write case then makes its own fresh objects (as admin) before the role
tries it, and a refused write must leave the audit trail (every write is audited) unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from cmsreporting.config import Settings
from cmsreporting.jobs import service as jobs_service
from cmsreporting.jobs.queue import run_worker
from cmsreporting.main import create_app
from tests.factories.databases import IS_POSTGRES, Seed, app_client, clone_database, password_of
from tests.helpers import PROBLEM, Headers, fill_required, minimal_template

API = "/api/v1"
ROLES = ["anonymous", "admin", "cms_sec", "cbd_sec", "ken_fp", "tza_fp", "reviewer", "ken_contrib"]

# marker -> the roles that may read it
VISIBLE = {
    "SECRET-KEN-CMS": {"admin", "cms_sec", "ken_fp"},
    "SECRET-KEN-CBD": {"admin", "cbd_sec", "ken_fp", "reviewer"},  # accepted: reviewers read it
    "SECRET-TZA-CMS": {"admin", "cms_sec", "tza_fp"},
    "SECRET-DRAFT-CMS": {"admin", "cms_sec"},
    "SECRET-DRAFT-CBD": {"admin", "cbd_sec"},
    "SECRET-KEN-DOC": {"admin", "ken_fp", "ken_contrib"},  # a document of Kenya's library
}
HIDDEN = {role: [m for m, who in VISIBLE.items() if role not in who] for role in ROLES}


def allow(*ok: str, others: int = 403, anonymous: int = 401, **special: int) -> dict[str, int]:
    """The status of each role: 200 (any 2xx) for `ok`, `others` for the rest."""
    table = dict.fromkeys(ROLES, others)
    table["anonymous"] = anonymous
    table.update(dict.fromkeys(ok, 200))
    table.update(special)
    return table


PUBLIC = dict.fromkeys(ROLES, 200)
SIGNED_IN = allow(*ROLES[1:])
ADMIN = allow("admin")


# --- the world the matrix runs in -------------------------------------------------------------


@dataclass
class World:
    ken_ws: int = 0
    tza_ws: int = 0
    sub_ken_cms: int = 0  # submitted
    sub_ken_cbd: int = 0  # accepted
    sub_tza_cms: int = 0  # submitted
    draft_cms: int = 0
    draft_cbd: int = 0
    published_cms: int = 0
    mapping: int = 0  # of the published CMS template
    draft_mapping: int = 0  # of the CMS draft
    ken_assignment: int = 0  # section II of the Kenyan CMS report, to ken_contrib
    ken_document: int = 0  # a document of Kenya's library
    ken_cited: int = 0  # another, cited by Kenya's CMS and CBD reports
    export_job: int = 0  # the admin's finished export job of CMS:COP15 (every report)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


@dataclass
class Ctx:
    http: httpx.AsyncClient
    auth: Headers
    world: World

    def next(self) -> int:
        return next(self.world.serial)

    async def admin(
        self, method: str, url: str, status: int, *, extra: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        """A request by the admin that must answer `status`; its JSON body."""
        headers = self.auth["admin"] | (extra or {})
        response = await self.http.request(method, url, headers=headers, **kw)
        assert response.status_code == status, (method, url, response.text[:500])
        return response.json() if response.content else None


def tiny_template(convention: str, cycle: str, version: str = "1.0.0") -> dict[str, Any]:
    """A template with one optional question: a workspace on it can be submitted at once."""
    return {
        "convention": convention,
        "cycle": cycle,
        "version": version,
        "languages": ["en"],
        "title": {"en": f"Matrix {cycle}"},
        "sections": [
            {
                "id": "S",
                "title": {"en": "Section"},
                "questions": [{"id": "Q", "type": "text", "text": {"en": "Anything?"}}],
            }
        ],
    }


async def fresh_cycle(ctx: Ctx, convention: str, *, publish: bool = True) -> str:
    """A new cycle of the convention, with a published tiny template unless told otherwise."""
    code = f"MX{ctx.next()}"
    await ctx.admin(
        "POST",
        f"{API}/cycles",
        201,
        json={
            "convention": convention,
            "code": code,
            "title": f"Matrix {code}",
            "opens_on": "2030-01-01",
            "due_on": "2030-12-31",
        },
    )
    if publish:
        made = await ctx.admin(
            "POST", f"{API}/templates", 201, json=tiny_template(convention, code)
        )
        await ctx.admin("POST", f"{API}/templates/{made['id']}/publish", 200)
    return f"{convention}:{code}"


async def fresh_workspace(ctx: Ctx, party: str, convention: str) -> tuple[int, str]:
    ref = await fresh_cycle(ctx, convention)
    made = await ctx.admin("POST", f"{API}/workspaces", 201, json={"party": party, "cycles": [ref]})
    return made["id"], ref


async def fresh_submission(ctx: Ctx, party: str, convention: str) -> int:
    wid, ref = await fresh_workspace(ctx, party, convention)
    done = await ctx.admin(
        "POST",
        f"{API}/workspaces/{wid}/submit",
        201,
        json={"cycles": [ref]},
        extra={"Idempotency-Key": f"matrix-{wid}"},
    )
    sid: int = done["submissions"][0]["id"]
    return sid


async def fresh_concept(ctx: Ctx) -> str:
    key = f"matrix.c{ctx.next()}"
    await ctx.admin(
        "POST", f"{API}/concepts", 201, json={"key": key, "type": "text", "text": {"en": key}}
    )
    return key


def mapping_doc(concept: str, question: str, status: str = "proposed") -> dict[str, Any]:
    return {
        "concept": concept,
        "question": question,
        "template_version": "1.0.0",
        "relation": "relatedMatch",
        "transform": {},
        "status": status,
    }


async def fresh_mapping(ctx: Ctx) -> int:
    concept = await fresh_concept(ctx)
    made = await ctx.admin(
        "POST", f"{API}/mappings", 201, json=[mapping_doc(concept, "CMS:COP15:I(a).2")]
    )
    mid: int = made[0]["id"]
    return mid


DOCUMENT_META = {"title": "Matrix document", "language": "en", "type": "report"}


async def fresh_document(ctx: Ctx, title: str = "Matrix document") -> int:
    """A document of Kenya's library, uploaded by the admin."""
    response = await ctx.http.post(
        f"{API}/parties/KEN/documents",
        params=DOCUMENT_META | {"title": title},
        content=f"%PDF-1.7 {title}".encode(),
        headers=ctx.auth["admin"] | {"Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    did: int = response.json()["id"]
    return did


async def build_world(http: httpx.AsyncClient, auth: Headers) -> World:
    world = World()
    ctx = Ctx(http, auth, world)
    for party, conventions in (("KEN", ("CMS", "CBD", "AEWA")), ("TZA", ("CMS",))):
        for convention in conventions:
            response = await http.put(
                f"{API}/parties/{party}/memberships/{convention}", json={}, headers=auth["admin"]
            )
            assert response.status_code in (200, 201), response.text

    async def workspace(user: str, party: str, cycles: list[str], secrets: dict[str, str]) -> int:
        made = await http.post(
            f"{API}/workspaces", json={"party": party, "cycles": cycles}, headers=auth[user]
        )
        assert made.status_code == 201, made.text
        wid: int = made.json()["id"]
        answers = [{"slot": s, "value": v, "base_revision": 0} for s, v in secrets.items()]
        saved = await http.patch(
            f"{API}/workspaces/{wid}/answers", json={"answers": answers}, headers=auth[user]
        )
        assert saved.status_code == 200, saved.text
        for cycle in cycles:
            await fill_required(http, auth[user], wid, cycle)
        return wid

    async def submit(user: str, wid: int, cycle: str) -> int:
        done = await http.post(
            f"{API}/workspaces/{wid}/submit",
            json={"cycles": [cycle]},
            headers=auth[user] | {"Idempotency-Key": f"world-{cycle}"},
        )
        assert done.status_code == 201, done.text
        sid: int = done.json()["submissions"][0]["id"]
        return sid

    world.ken_ws = await workspace(
        "ken_fp",
        "KEN",
        ["CMS:COP15", "CBD:NR7"],
        {
            "CMS:COP15:I(a).1": "SECRET-KEN-CMS",
            "CBD:NR7:sectionI.contactPerson": "SECRET-KEN-CBD",
        },
    )
    world.ken_assignment = (
        await ctx.admin(
            "POST",
            f"{API}/workspaces/{world.ken_ws}/assignments",
            201,
            json={"section": "CMS:COP15:II", "contributor": "ken_contrib"},
        )
    )["id"]
    world.ken_document = await fresh_document(ctx, "SECRET-KEN-DOC")
    world.ken_cited = await fresh_document(ctx, "Matrix cited document")
    cited = await http.patch(
        f"{API}/workspaces/{world.ken_ws}/answers",
        json={
            "answers": [
                {"slot": slot, "value": value, "base_revision": 1, "documents": [world.ken_cited]}
                for slot, value in (
                    ("CMS:COP15:I(a).1", "SECRET-KEN-CMS"),
                    ("CBD:NR7:sectionI.contactPerson", "SECRET-KEN-CBD"),
                )
            ]
        },
        headers=auth["ken_fp"],
    )
    assert cited.status_code == 200, cited.text
    world.tza_ws = await workspace(
        "tza_fp", "TZA", ["CMS:COP15"], {"CMS:COP15:I(a).1": "SECRET-TZA-CMS"}
    )
    world.sub_ken_cms = await submit("ken_fp", world.ken_ws, "CMS:COP15")
    world.sub_ken_cbd = await submit("ken_fp", world.ken_ws, "CBD:NR7")
    world.sub_tza_cms = await submit("tza_fp", world.tza_ws, "CMS:COP15")
    await ctx.admin(
        "POST",
        f"{API}/submissions/{world.sub_ken_cms}/comments",
        201,
        json={"body": "Please check SECRET-KEN-CMS"},
    )
    await ctx.admin("POST", f"{API}/submissions/{world.sub_ken_cbd}/accept", 200, json={})
    for convention, cycle, marker in (
        ("CMS", "COP15", "SECRET-DRAFT-CMS"),
        ("CBD", "NR7", "SECRET-DRAFT-CBD"),
    ):
        document = minimal_template(convention, cycle, "9.0.0")
        document["title"]["en"] = marker
        made = await ctx.admin("POST", f"{API}/templates", 201, json=document)
        if convention == "CMS":
            world.draft_cms = made["id"]
        else:
            world.draft_cbd = made["id"]
    concept = {
        "key": "matrix.covered",
        "type": "single_choice",
        "text": {"en": "Covered?"},
        "options": [{"code": "yes"}, {"code": "no"}],
    }
    await ctx.admin("POST", f"{API}/concepts", 201, json=concept)
    draft_mapping = mapping_doc("matrix.covered", "CMS:COP15:I.1") | {
        "template_version": "9.0.0",
        "relation": "exactMatch",
        "justification": "SECRET-DRAFT-CMS mapping",
    }
    world.draft_mapping = (await ctx.admin("POST", f"{API}/mappings", 201, json=[draft_mapping]))[
        0
    ]["id"]
    published = await ctx.admin(
        "GET", f"{API}/templates", 200, params={"cycle": "CMS:COP15", "status": "published"}
    )
    world.published_cms = published["items"][0]["id"]
    mappings = await ctx.admin(
        "GET", f"{API}/mappings", 200, params={"question": "CMS:COP15:IV.2", "limit": 1}
    )
    world.mapping = mappings["items"][0]["id"]
    world.export_job = await finished_export(ctx, "CMS:COP15")
    return world


async def finished_export(ctx: Ctx, cycle: str) -> int:
    """An export job of the cycle started by the admin, run to its end (on PostgreSQL by a
    worker run here until the queue is empty; on SQLite the server runs it)."""
    job = await ctx.admin("POST", f"{API}/cycles/{cycle}/exports", 202, json={"format": "jsonl"})
    for _ in range(400):
        if IS_POSTGRES:
            app = ctx.http._transport.app  # type: ignore[attr-defined]
            state = app.state
            await run_worker(
                jobs_service.Runtime(state.session_factory, state.settings, state.storage),
                wait=False,
            )
        status = await ctx.admin("GET", f"{API}/exports/{job['id']}", 200)
        if status["status"] == "done":
            return int(job["id"])
        assert status["status"] in ("queued", "running"), status
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {job['id']} did not finish")


@pytest.fixture(scope="module")
async def matrix(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ctx]:
    """One prepared database and a client of it, for the whole matrix."""
    auth = {name: {"Authorization": f"Bearer {token}"} for name, token in seed.tokens.items()}
    folder = tmp_path_factory.mktemp("matrix")
    async for url in clone_database(seed, folder):
        async for http in app_client(
            url, document_storage=str(folder / "documents"), export_folder=str(folder / "exports")
        ):
            yield Ctx(http, auth, await build_world(http, auth))


# --- the matrix -------------------------------------------------------------------------------


@dataclass
class Request:
    url: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a body that is not JSON (a file upload, a PO file)


Build = Callable[[Ctx], Awaitable[Request]]


@dataclass(frozen=True)
class Case:
    """One variant of an operation: how to make its request, and what each role gets."""

    variant: str
    expect: dict[str, int]
    build: Build
    bug: dict[str, str] = field(default_factory=dict)  # role -> known bug (strict xfail)


def get(url: Callable[[World], str]) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(API + url(ctx.world))

    return build


def const(url: str, body: Any = None) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(API + url, body)

    return build


def outside_api(url: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(url)

    return build


def reads_of(
    path: Callable[[int], str], variants: dict[str, tuple[Callable[[World], int], dict[str, int]]]
) -> list[Case]:
    def url(of: Callable[[World], int]) -> Callable[[World], str]:
        return lambda w: path(of(w))

    return [Case(name, expect, get(url(of))) for name, (of, expect) in variants.items()]


# a contributor of Kenya reads the workspace, its form and answers (its own sections' only),
# and is refused the rest of the workspace with 403
KEN_WS = allow("admin", "ken_fp", others=404, ken_contrib=403)
KEN_WS_CONTRIB = allow("admin", "ken_fp", "ken_contrib", others=404)
TZA_WS = allow("admin", "tza_fp", others=404)
WORKSPACES = {"KEN": (lambda w: w.ken_ws, KEN_WS), "TZA": (lambda w: w.tza_ws, TZA_WS)}
CONTRIBUTED = {
    "KEN": (lambda w: w.ken_ws, KEN_WS_CONTRIB),
    "TZA": (lambda w: w.tza_ws, TZA_WS),
}
SUBMISSIONS = {
    "KEN-CMS-submitted": (
        lambda w: w.sub_ken_cms,
        allow("admin", "cms_sec", "ken_fp", others=404),
    ),
    "KEN-CBD-accepted": (
        lambda w: w.sub_ken_cbd,
        allow("admin", "cbd_sec", "ken_fp", "reviewer", others=404),
    ),
    "TZA-CMS-submitted": (
        lambda w: w.sub_tza_cms,
        allow("admin", "cms_sec", "tza_fp", others=404),
    ),
}
DRAFTS = {
    "published": (lambda w: w.published_cms, PUBLIC),
    "CMS-draft": (lambda w: w.draft_cms, allow("admin", "cms_sec", others=404, anonymous=404)),
    "CBD-draft": (lambda w: w.draft_cbd, allow("admin", "cbd_sec", others=404, anonymous=404)),
}
# translating is a template write: admins and the template's secretariat; others are refused
# (403) a published template and do not see (404) a draft
TRANSLATE = {
    "published": (lambda w: w.published_cms, allow("admin", "cms_sec")),
    "CMS-draft": (lambda w: w.draft_cms, allow("admin", "cms_sec", others=404)),
    "CBD-draft": (lambda w: w.draft_cbd, allow("admin", "cbd_sec", others=404)),
}
FOLLOW_CMS = allow("admin", "cms_sec", "reviewer")
FOLLOW_CBD = allow("admin", "cbd_sec", "reviewer")

READS: dict[tuple[str, str], list[Case]] = {
    ("GET", "/health"): [Case("", PUBLIC, outside_api("/health"))],
    ("GET", "/health/live"): [Case("", PUBLIC, outside_api("/health/live"))],
    ("GET", "/health/ready"): [Case("", PUBLIC, outside_api("/health/ready"))],
    ("GET", "/api/v1/conventions"): [Case("", PUBLIC, const("/conventions"))],
    ("GET", "/api/v1/conventions/{code}"): [Case("CMS", PUBLIC, const("/conventions/CMS"))],
    ("GET", "/api/v1/parties"): [Case("", PUBLIC, const("/parties?convention=CMS"))],
    ("GET", "/api/v1/conventions/{code}/memberships"): [
        Case("CMS", PUBLIC, const("/conventions/CMS/memberships"))
    ],
    ("GET", "/api/v1/parties/{iso3}"): [Case("KEN", PUBLIC, const("/parties/KEN"))],
    ("GET", "/api/v1/cycles"): [Case("", PUBLIC, const("/cycles"))],
    ("GET", "/api/v1/cycles/{ref}"): [Case("CMS:COP15", PUBLIC, const("/cycles/CMS:COP15"))],
    ("GET", "/api/v1/templates"): [
        Case("all", PUBLIC, const("/templates?limit=500")),
        Case("drafts", PUBLIC, const("/templates?status=draft&limit=500")),
    ],
    ("GET", "/api/v1/templates/{template_id}"): reads_of(lambda i: f"/templates/{i}", DRAFTS),
    ("GET", "/api/v1/templates/{template_id}/document"): reads_of(
        lambda i: f"/templates/{i}/document", DRAFTS
    ),
    ("GET", "/api/v1/templates/{template_id}/diff"): reads_of(
        lambda i: f"/templates/{i}/diff?against={i}", DRAFTS
    ),
    ("GET", "/api/v1/templates/{template_id}/translations"): reads_of(
        lambda i: f"/templates/{i}/translations", TRANSLATE
    ),
    ("GET", "/api/v1/templates/{template_id}/translations/{lang}"): reads_of(
        lambda i: f"/templates/{i}/translations/es", TRANSLATE
    ),
    ("GET", "/api/v1/concepts"): [Case("", PUBLIC, const("/concepts?limit=500"))],
    ("GET", "/api/v1/concepts/{key}"): [Case("bundled", PUBLIC, const("/concepts/nbsap.wetlands"))],
    ("GET", "/api/v1/mappings"): [Case("", PUBLIC, const("/mappings?limit=500"))],
    ("GET", "/api/v1/mappings/{mapping_id}"): [
        Case("published", PUBLIC, get(lambda w: f"/mappings/{w.mapping}")),
        Case(
            "CMS-draft",
            allow("admin", "cms_sec", others=404, anonymous=404),
            get(lambda w: f"/mappings/{w.draft_mapping}"),
        ),
    ],
    ("GET", "/api/v1/crosswalk/coverage"): [
        Case("", PUBLIC, const("/crosswalk/coverage?from=CBD:NR7&to=CMS:COP15"))
    ],
    ("GET", "/api/v1/crosswalk/export"): [
        Case(fmt, PUBLIC, const(f"/crosswalk/export?format={fmt}"))
        for fmt in ("json", "sssom", "skos", "jsonld")
    ],
    ("GET", "/api/v1/crosswalk/suggestions"): [
        Case("published", PUBLIC, const("/crosswalk/suggestions?from=CMS:COP15&to=AEWA:MOP9")),
        Case(
            "CMS-draft",
            allow("admin", "cms_sec", others=404, anonymous=404),
            const("/crosswalk/suggestions?from=CMS:COP15&from_version=9.0.0&to=concepts"),
        ),
    ],
    ("GET", "/api/v1/crosswalk/rejections"): [Case("", PUBLIC, const("/crosswalk/rejections"))],
    ("GET", "/api/v1/crosswalk/{question_ref}"): [
        Case("published", PUBLIC, const("/crosswalk/CMS:COP15:IV.2")),
        Case(
            "CMS-draft",
            allow("admin", "cms_sec", others=404, anonymous=404),
            const("/crosswalk/CMS:COP15:I.1?version=9.0.0"),
        ),
    ],
    ("GET", "/api/v1/mail"): [Case("", ADMIN, const("/mail?limit=50"))],
    ("GET", "/api/v1/workspaces"): [Case("", SIGNED_IN, const("/workspaces?limit=500"))],
    ("GET", "/api/v1/workspaces/{workspace_id}"): reads_of(
        lambda i: f"/workspaces/{i}", CONTRIBUTED
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/form"): reads_of(
        lambda i: f"/workspaces/{i}/form", CONTRIBUTED
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/answers"): reads_of(
        lambda i: f"/workspaces/{i}/answers", CONTRIBUTED
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/preview/{cycle_ref}"): reads_of(
        lambda i: f"/workspaces/{i}/preview/CMS:COP15", WORKSPACES
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/review"): reads_of(
        lambda i: f"/workspaces/{i}/review", WORKSPACES
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/preview/{cycle_ref}/export"): reads_of(
        lambda i: f"/workspaces/{i}/preview/CMS:COP15/export?format=html", WORKSPACES
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/suggestions"): reads_of(
        lambda i: f"/workspaces/{i}/suggestions", WORKSPACES
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/contributors"): reads_of(
        lambda i: f"/workspaces/{i}/contributors", WORKSPACES
    ),
    ("GET", "/api/v1/workspaces/{workspace_id}/assignments"): reads_of(
        lambda i: f"/workspaces/{i}/assignments", CONTRIBUTED
    ),
    ("GET", "/api/v1/submissions"): [Case("", SIGNED_IN, const("/submissions?limit=500"))],
    ("GET", "/api/v1/submissions/{submission_id}"): reads_of(
        lambda i: f"/submissions/{i}", SUBMISSIONS
    ),
    ("GET", "/api/v1/submissions/{submission_id}/diff"): reads_of(
        lambda i: f"/submissions/{i}/diff?against={i}", SUBMISSIONS
    ),
    ("GET", "/api/v1/submissions/{submission_id}/export"): reads_of(
        lambda i: f"/submissions/{i}/export?format=csv", SUBMISSIONS
    ),
    ("GET", "/api/v1/submissions/{submission_id}/comments"): [
        Case(
            "KEN-CMS-submitted",
            allow("admin", "cms_sec", "ken_fp", others=404),
            get(lambda w: f"/submissions/{w.sub_ken_cms}/comments"),
        ),
        Case(
            "KEN-CBD-accepted",
            allow("admin", "cbd_sec", "ken_fp", others=404, reviewer=403),
            get(lambda w: f"/submissions/{w.sub_ken_cbd}/comments"),
        ),
    ],
    ("GET", "/api/v1/cycles/{ref}/status"): [
        Case("CMS", FOLLOW_CMS, const("/cycles/CMS:COP15/status")),
        Case("CBD", FOLLOW_CBD, const("/cycles/CBD:NR7/status")),
    ],
    # an export job reads as the cycle's export: the admin's job holds every report, which a
    # reviewer (accepted reports only) may not read
    ("GET", "/api/v1/exports/{export_id}"): [
        Case(
            "CMS-all",
            allow("admin", "cms_sec", reviewer=404),
            get(lambda w: f"/exports/{w.export_job}"),
        )
    ],
    ("GET", "/api/v1/exports/{export_id}/download"): [
        Case(
            "CMS-all",
            allow("admin", "cms_sec", reviewer=404),
            get(lambda w: f"/exports/{w.export_job}/download"),
        )
    ],
    ("GET", "/api/v1/cycles/{ref}/reminders"): [
        Case("CMS", allow("admin", "cms_sec"), const("/cycles/CMS:COP15/reminders")),
        Case("CBD", allow("admin", "cbd_sec"), const("/cycles/CBD:NR7/reminders")),
    ],
    ("GET", "/api/v1/cycles/{ref}/reminders/sent"): [
        Case("CMS", allow("admin", "cms_sec"), const("/cycles/CMS:COP15/reminders/sent")),
        Case("CBD", allow("admin", "cbd_sec"), const("/cycles/CBD:NR7/reminders/sent")),
    ],
    ("GET", "/api/v1/cycles/{ref}/export"): [
        Case("CMS", FOLLOW_CMS, const("/cycles/CMS:COP15/export?format=jsonl")),
        Case("CBD", FOLLOW_CBD, const("/cycles/CBD:NR7/export?format=jsonl")),
    ],
    ("GET", "/api/v1/me"): [Case("", SIGNED_IN, const("/me"))],
    ("GET", "/api/v1/me/sessions"): [Case("", SIGNED_IN, const("/me/sessions"))],
    ("GET", "/api/v1/me/tokens"): [Case("", SIGNED_IN, const("/me/tokens"))],
    ("GET", "/api/v1/users"): [Case("", ADMIN, const("/users?limit=500"))],
    ("GET", "/api/v1/users/{name}"): [Case("ken_fp", ADMIN, const("/users/ken_fp"))],
    ("GET", "/api/v1/users/{name}/tokens"): [Case("ken_fp", ADMIN, const("/users/ken_fp/tokens"))],
    ("GET", "/api/v1/audit"): [Case("", ADMIN, const("/audit?limit=500"))],
}


# --- writes: each case makes the objects it changes -------------------------------------------


def write(make: Callable[[Ctx], Awaitable[Request]]) -> Build:
    return make


async def _membership_put(ctx: Ctx) -> Request:
    return Request(f"{API}/parties/RWA/memberships/RAMSAR", {})


def _membership_list(convention: str, *parties: str) -> Build:
    """A convention's membership list that keeps the world's members of it."""

    async def build(ctx: Ctx) -> Request:
        return Request(
            f"{API}/conventions/{convention}/memberships",
            {
                "convention": convention,
                "source": {"url": "https://example.org/parties", "read_on": "2026-11-30"},
                "memberships": [{"party": p, "entry_into_force": "1999-05-01"} for p in parties],
            },
        )

    return build


async def _membership_delete(ctx: Ctx) -> Request:
    await ctx.http.put(f"{API}/parties/RWA/memberships/CITES", json={}, headers=ctx.auth["admin"])
    return Request(f"{API}/parties/RWA/memberships/CITES")


def _new_cycle(convention: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(
            f"{API}/cycles",
            {
                "convention": convention,
                "code": f"NEW{ctx.next()}",
                "title": "New cycle",
                "opens_on": "2031-01-01",
                "due_on": "2031-12-31",
            },
        )

    return build


def _new_template(convention: str, cycle: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(f"{API}/templates", minimal_template(convention, cycle, f"9.1.{ctx.next()}"))

    return build


async def _draft(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """A CMS draft in a cycle of its own (publishing it changes no other cycle)."""
    ref = await fresh_cycle(ctx, "CMS", publish=False)
    document = tiny_template("CMS", ref.split(":")[1])
    made = await ctx.admin("POST", f"{API}/templates", 201, json=document)
    return made["id"], document


async def _replace_draft(ctx: Ctx) -> Request:
    tid, document = await _draft(ctx)
    return Request(f"{API}/templates/{tid}", document | {"title": {"en": "Replaced"}})


async def _replace_published(ctx: Ctx) -> Request:
    tid, document = await _draft(ctx)
    await ctx.admin("POST", f"{API}/templates/{tid}/publish", 200)
    return Request(f"{API}/templates/{tid}", document | {"title": {"en": "Replaced"}})


async def _publish(ctx: Ctx) -> Request:
    tid, _ = await _draft(ctx)
    return Request(f"{API}/templates/{tid}/publish")


async def _retire(ctx: Ctx) -> Request:
    tid, _ = await _draft(ctx)
    await ctx.admin("POST", f"{API}/templates/{tid}/publish", 200)
    return Request(f"{API}/templates/{tid}/retire")


async def _delete_draft(ctx: Ctx) -> Request:
    tid, _ = await _draft(ctx)
    return Request(f"{API}/templates/{tid}")


async def _translate(ctx: Ctx) -> Request:
    tid, _ = await _draft(ctx)
    response = await ctx.http.get(
        f"{API}/templates/{tid}/translations/fr", headers=ctx.auth["admin"]
    )
    assert response.status_code == 200, response.text
    return Request(
        f"{API}/templates/{tid}/translations/fr",
        content=response.content,
        headers={"content-type": "text/x-gettext-translation"},
    )


async def _new_concept(ctx: Ctx) -> Request:
    key = f"matrix.n{ctx.next()}"
    return Request(f"{API}/concepts", {"key": key, "type": "text", "text": {"en": key}})


async def _replace_concept(ctx: Ctx) -> Request:
    key = await fresh_concept(ctx)
    return Request(f"{API}/concepts/{key}", {"key": key, "type": "text", "text": {"en": "New"}})


def _new_mapping(question: str, status: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        concept = await fresh_concept(ctx)
        return Request(f"{API}/mappings", [mapping_doc(concept, question, status)])

    return build


async def _patch_mapping(ctx: Ctx) -> Request:
    return Request(f"{API}/mappings/{await fresh_mapping(ctx)}", {"justification": "Changed"})


async def _delete_mapping(ctx: Ctx) -> Request:
    return Request(f"{API}/mappings/{await fresh_mapping(ctx)}")


async def _accept_suggestion(ctx: Ctx) -> Request:
    concept = await fresh_concept(ctx)
    return Request(
        f"{API}/crosswalk/suggestions/accept",
        {
            "from_question": "CMS:COP15:I(a).2",
            "to_question": f"concept:{concept}",
            "relation": "relatedMatch",
        },
    )


async def _reject_suggestion(ctx: Ctx) -> Request:
    concept = await fresh_concept(ctx)
    return Request(
        f"{API}/crosswalk/suggestions/reject",
        {"from_question": "CMS:COP15:I(a).2", "to_question": f"concept:{concept}"},
    )


def _new_workspace(party: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        ref = await fresh_cycle(ctx, "CMS")
        return Request(f"{API}/workspaces", {"party": party, "cycles": [ref]})

    return build


def _answer(of: Callable[[World], int]) -> Build:
    async def build(ctx: Ctx) -> Request:
        wid = of(ctx.world)
        answers = await ctx.admin("GET", f"{API}/workspaces/{wid}/answers", 200)
        slot = "CMS:COP15:I(a).2"
        revision = {a["slot"]: a["revision"] for a in answers["answers"]}.get(slot, 0)
        return Request(
            f"{API}/workspaces/{wid}/answers",
            {"answers": [{"slot": slot, "value": f"edit {ctx.next()}", "base_revision": revision}]},
        )

    return build


def _answer_in(slot: str) -> Build:
    """A write to the Kenyan workspace in one slot, at its current revision."""

    async def build(ctx: Ctx) -> Request:
        wid = ctx.world.ken_ws
        answers = await ctx.admin("GET", f"{API}/workspaces/{wid}/answers", 200)
        revision = {a["slot"]: a["revision"] for a in answers["answers"]}.get(slot, 0)
        return Request(
            f"{API}/workspaces/{wid}/answers",
            {"answers": [{"slot": slot, "value": f"edit {ctx.next()}", "base_revision": revision}]},
        )

    return build


def _new_assignment(party: str, contributor: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        wid, ref = await fresh_workspace(ctx, party, "CMS")
        return Request(
            f"{API}/workspaces/{wid}/assignments",
            {"section": f"{ref}:S", "contributor": contributor},
        )

    return build


async def _assigned(ctx: Ctx) -> str:
    """A fresh Kenyan workspace whose section is assigned to ken_contrib: the assignment's URL."""
    wid, ref = await fresh_workspace(ctx, "KEN", "CMS")
    made = await ctx.admin(
        "POST",
        f"{API}/workspaces/{wid}/assignments",
        201,
        json={"section": f"{ref}:S", "contributor": "ken_contrib"},
    )
    return f"{API}/workspaces/{wid}/assignments/{made['id']}"


def _move_assignment(status: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(await _assigned(ctx), {"status": status})

    return build


async def _delete_assignment(ctx: Ctx) -> Request:
    return Request(await _assigned(ctx))


async def _remove_contributor(ctx: Ctx) -> Request:
    """A fresh contributor of Kenya (invited by the admin), to be removed."""
    body = {"email": f"removed{ctx.next()}@example.org", "role": "contributor", "party": "KEN"}
    made = await ctx.admin("POST", f"{API}/invitations", 201, json=body)
    return Request(f"{API}/workspaces/{ctx.world.ken_ws}/contributors/{made['user']}")


def _presence(of: Callable[[World], int]) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(f"{API}/workspaces/{of(ctx.world)}/presence", {"section": None})

    return build


def _submit(party: str, convention: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        wid, ref = await fresh_workspace(ctx, party, convention)
        return Request(
            f"{API}/workspaces/{wid}/submit",
            {"cycles": [ref]},
            {"Idempotency-Key": f"matrix-{ctx.next()}"},
        )

    return build


def _decide(decision: str, convention: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        sid = await fresh_submission(ctx, "KEN", convention)
        return Request(f"{API}/submissions/{sid}/{decision}", {"comment": "Decided"})

    return build


def _comment(of: Callable[[World], int]) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(f"{API}/submissions/{of(ctx.world)}/comments", {"body": "A comment"})

    return build


async def _signin(ctx: Ctx, user: str) -> str:
    """A web session of a user, made without keeping its cookie in the matrix's client; its
    secret."""
    response = await ctx.http.post(
        f"{API}/auth/signin", json={"login": user, "password": password_of(user)}
    )
    assert response.status_code == 200, response.text
    secret = ctx.http.cookies["cmsr_session"]
    ctx.http.cookies.clear()
    return secret


async def _signin_wrong(ctx: Ctx) -> Request:
    return Request(f"{API}/auth/signin", {"login": f"nobody{ctx.next()}", "password": "wrong"})


def _invite(convention: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        email = f"invited{ctx.next()}@example.org"
        body = {"email": email, "role": "focal_point", "convention": convention, "party": "KEN"}
        return Request(f"{API}/invitations", body)

    return build


async def _invite_contributor(ctx: Ctx) -> Request:
    body = {"email": f"helper{ctx.next()}@example.org", "role": "contributor", "party": "KEN"}
    return Request(f"{API}/invitations", body)


async def _end_session(ctx: Ctx) -> Request:
    secret = await _signin(ctx, "ken_fp")
    mine = await ctx.http.get(f"{API}/me/sessions", headers={"Cookie": f"cmsr_session={secret}"})
    current = next(s for s in mine.json() if s["current"])
    return Request(f"{API}/me/sessions/{current['id']}")


async def _ken_token(ctx: Ctx) -> int:
    made = await ctx.http.post(f"{API}/me/tokens", json={}, headers=ctx.auth["ken_fp"])
    assert made.status_code == 201, made.text
    token_id: int = made.json()["id"]
    return token_id


async def _revoke_own_token(ctx: Ctx) -> Request:
    return Request(f"{API}/me/tokens/{await _ken_token(ctx)}")


async def _revoke_user_token(ctx: Ctx) -> Request:
    return Request(f"{API}/users/ken_fp/tokens/{await _ken_token(ctx)}")


async def _revoke_role(ctx: Ctx) -> Request:
    """A role grant to take: the admin's extra reviewer role (which changes no access)."""
    made = await ctx.admin("POST", f"{API}/users/admin/roles", 201, json={"role": "reviewer"})
    grant = next(r for r in made["roles"] if r["role"] == "reviewer")
    return Request(f"{API}/users/admin/roles/{grant['id']}")


def _new_export(cycle: str) -> Build:
    """Start an export of the cycle, once the jobs started before have finished: on SQLite the
    server runs them and audits their end, which must not land in a refused case's trail."""

    async def build(ctx: Ctx) -> Request:
        last, quiet = None, 0
        for _ in range(200):
            page = await ctx.admin("GET", f"{API}/audit", 200, params={"limit": 1})
            newest = page["items"][0]["id"] if page["items"] else None
            quiet = quiet + 1 if newest == last else 0
            if quiet >= 3:
                break
            last = newest
            await asyncio.sleep(0.05)
        return Request(f"{API}/cycles/{cycle}/exports", {"format": "jsonl"})

    return build


DRAFT_WRITE = allow("admin", "cms_sec", others=404)
DECIDE_CMS = allow("admin", "cms_sec", others=404, ken_fp=403)
DECIDE_CBD = allow("admin", "cbd_sec", others=404, ken_fp=403)

WRITES: dict[tuple[str, str], list[Case]] = {
    ("PUT", "/api/v1/parties/{iso3}/memberships/{code}"): [
        Case("RWA-RAMSAR", ADMIN, write(_membership_put))
    ],
    ("DELETE", "/api/v1/parties/{iso3}/memberships/{code}"): [
        Case("RWA-CITES", ADMIN, write(_membership_delete))
    ],
    ("PUT", "/api/v1/conventions/{code}/memberships"): [
        Case("CMS", allow("admin", "cms_sec"), _membership_list("CMS", "KEN", "TZA")),
        Case("CBD", allow("admin", "cbd_sec"), _membership_list("CBD", "KEN")),
    ],
    ("POST", "/api/v1/cycles"): [
        Case("CMS", allow("admin", "cms_sec"), _new_cycle("CMS")),
        Case("CBD", allow("admin", "cbd_sec"), _new_cycle("CBD")),
    ],
    ("POST", "/api/v1/cycles/{ref}/exports"): [
        Case("CMS", FOLLOW_CMS, _new_export("CMS:COP15")),
        Case("CBD", FOLLOW_CBD, _new_export("CBD:NR7")),
    ],
    ("PUT", "/api/v1/cycles/{ref}/reminders"): [
        Case("CMS", allow("admin", "cms_sec"), const("/cycles/CMS:COP15/reminders", {"days": [9]})),
        Case("CBD", allow("admin", "cbd_sec"), const("/cycles/CBD:NR7/reminders", {"days": [9]})),
    ],
    ("POST", "/api/v1/templates"): [
        Case("CMS", allow("admin", "cms_sec"), _new_template("CMS", "COP15")),
        Case("CBD", allow("admin", "cbd_sec"), _new_template("CBD", "NR7")),
    ],
    ("PUT", "/api/v1/templates/{template_id}"): [
        Case("CMS-draft", DRAFT_WRITE, write(_replace_draft)),
        Case("CMS-published", allow(others=403, admin=409, cms_sec=409), write(_replace_published)),
    ],
    ("POST", "/api/v1/templates/{template_id}/publish"): [
        Case("CMS-draft", DRAFT_WRITE, write(_publish))
    ],
    ("POST", "/api/v1/templates/{template_id}/retire"): [
        Case("CMS-published", allow("admin", "cms_sec"), write(_retire))
    ],
    ("DELETE", "/api/v1/templates/{template_id}"): [
        Case("CMS-draft", DRAFT_WRITE, write(_delete_draft))
    ],
    ("POST", "/api/v1/templates/{template_id}/translations/{lang}"): [
        Case("CMS-draft", DRAFT_WRITE, write(_translate))
    ],
    ("POST", "/api/v1/concepts"): [Case("", ADMIN, write(_new_concept))],
    ("PUT", "/api/v1/concepts/{key}"): [Case("", ADMIN, write(_replace_concept))],
    ("POST", "/api/v1/mappings"): [
        Case(
            "CMS-proposed",
            allow("admin", "cms_sec", "reviewer"),
            _new_mapping("CMS:COP15:I(a).2", "proposed"),
        ),
        Case(
            "CMS-approved", allow("admin", "cms_sec"), _new_mapping("CMS:COP15:I(a).2", "approved")
        ),
        Case(
            "CBD-proposed",
            allow("admin", "cbd_sec", "reviewer"),
            _new_mapping("CBD:NR7:sectionI.contactPerson", "proposed"),
        ),
    ],
    ("PATCH", "/api/v1/mappings/{mapping_id}"): [
        Case("CMS", allow("admin", "cms_sec"), write(_patch_mapping))
    ],
    ("DELETE", "/api/v1/mappings/{mapping_id}"): [
        Case("CMS", allow("admin", "cms_sec"), write(_delete_mapping))
    ],
    # approved for admins and the CMS secretariat, proposed for reviewers
    ("POST", "/api/v1/crosswalk/suggestions/accept"): [
        Case("CMS", allow("admin", "cms_sec", "reviewer"), _accept_suggestion)
    ],
    ("POST", "/api/v1/crosswalk/suggestions/reject"): [
        Case("CMS", allow("admin", "cms_sec", "reviewer"), _reject_suggestion)
    ],
    ("POST", "/api/v1/crosswalk/translate"): [
        Case(
            "",
            PUBLIC,
            const("/crosswalk/translate", {"from": "CMS:COP15", "to": "AEWA:MOP9", "answers": {}}),
        )
    ],
    ("POST", "/api/v1/workspaces"): [
        Case("KEN", allow("admin", "ken_fp"), _new_workspace("KEN")),
        Case("TZA", allow("admin", "tza_fp"), _new_workspace("TZA")),
    ],
    ("PATCH", "/api/v1/workspaces/{workspace_id}/answers"): [
        Case("KEN", KEN_WS, _answer(lambda w: w.ken_ws)),
        Case("TZA", TZA_WS, _answer(lambda w: w.tza_ws)),
        Case("KEN-assigned-section", KEN_WS_CONTRIB, _answer_in("CMS:COP15:II.2a")),
    ],
    ("POST", "/api/v1/workspaces/{workspace_id}/assignments"): [
        Case("KEN", KEN_WS, _new_assignment("KEN", "ken_contrib")),
        # ken_contrib contributes to Kenya only
        Case(
            "TZA", allow(others=404, admin=422, tza_fp=422), _new_assignment("TZA", "ken_contrib")
        ),
    ],
    ("PATCH", "/api/v1/workspaces/{workspace_id}/assignments/{assignment_id}"): [
        Case("KEN-ready", KEN_WS_CONTRIB, _move_assignment("ready")),
        Case("KEN-done", KEN_WS, _move_assignment("done")),
    ],
    ("DELETE", "/api/v1/workspaces/{workspace_id}/contributors/{name}"): [
        Case("KEN", KEN_WS, _remove_contributor)
    ],
    ("DELETE", "/api/v1/workspaces/{workspace_id}/assignments/{assignment_id}"): [
        Case("KEN", KEN_WS, _delete_assignment)
    ],
    ("PUT", "/api/v1/workspaces/{workspace_id}/presence"): [
        Case("KEN", KEN_WS_CONTRIB, _presence(lambda w: w.ken_ws)),
        Case("TZA", TZA_WS, _presence(lambda w: w.tza_ws)),
    ],
    ("POST", "/api/v1/workspaces/{workspace_id}/submit"): [
        Case("KEN-CMS", KEN_WS, _submit("KEN", "CMS")),
        Case("TZA-CMS", TZA_WS, _submit("TZA", "CMS")),
        # ken_fp reaches Kenya's workspace but is no AEWA focal point
        Case(
            "KEN-AEWA",
            allow("admin", others=404, ken_fp=403, ken_contrib=403),
            _submit("KEN", "AEWA"),
        ),
    ],
    ("POST", "/api/v1/submissions/{submission_id}/accept"): [
        Case("KEN-CMS", DECIDE_CMS, _decide("accept", "CMS")),
        Case("KEN-CBD", DECIDE_CBD, _decide("accept", "CBD")),
    ],
    ("POST", "/api/v1/submissions/{submission_id}/return"): [
        Case("KEN-CMS", DECIDE_CMS, _decide("return", "CMS")),
        Case("KEN-CBD", DECIDE_CBD, _decide("return", "CBD")),
    ],
    ("POST", "/api/v1/submissions/{submission_id}/comments"): [
        Case(
            "KEN-CMS-submitted",
            allow("admin", "cms_sec", "ken_fp", others=404),
            _comment(lambda w: w.sub_ken_cms),
        ),
        Case(
            "KEN-CBD-accepted",
            allow("admin", "cbd_sec", "ken_fp", others=404, reviewer=403),
            _comment(lambda w: w.sub_ken_cbd),
        ),
        Case(
            "TZA-CMS-submitted",
            allow("admin", "cms_sec", "tza_fp", others=404),
            _comment(lambda w: w.sub_tza_cms),
        ),
    ],
}

OWN_KEN = allow("ken_fp", others=404)

WRITES |= {
    ("POST", "/api/v1/auth/signin"): [
        Case(
            "right-password",
            PUBLIC,
            const("/auth/signin", {"login": "reviewer", "password": password_of("reviewer")}),
        ),
        Case("wrong-password", dict.fromkeys(ROLES, 401), write(_signin_wrong)),
    ],
    ("POST", "/api/v1/auth/signout"): [Case("", PUBLIC, const("/auth/signout"))],
    ("POST", "/api/v1/auth/signout-everywhere"): [
        Case("", SIGNED_IN, const("/auth/signout-everywhere"))
    ],
    ("POST", "/api/v1/invitations"): [
        Case("CMS focal point of Kenya", allow("admin", "cms_sec"), write(_invite("CMS"))),
        Case("CBD focal point of Kenya", allow("admin", "cbd_sec"), write(_invite("CBD"))),
        Case("contributor of Kenya", allow("admin", "ken_fp"), write(_invite_contributor)),
    ],
    ("POST", "/api/v1/invitations/accept"): [
        Case(
            "unknown link",
            dict.fromkeys(ROLES, 422),
            const("/invitations/accept", {"token": "nope", "new_password": "a fine phrase 1"}),
        )
    ],
    ("POST", "/api/v1/auth/password-reset"): [
        Case("unknown address", PUBLIC, const("/auth/password-reset", {"email": "no@one.example"}))
    ],
    ("POST", "/api/v1/auth/password-reset/confirm"): [
        Case(
            "unknown link",
            dict.fromkeys(ROLES, 422),
            const(
                "/auth/password-reset/confirm", {"token": "nope", "new_password": "a fine phrase 1"}
            ),
        )
    ],
    ("PATCH", "/api/v1/me"): [Case("", SIGNED_IN, const("/me", {"display_name": "Matrix"}))],
    ("PUT", "/api/v1/me/password"): [
        Case(
            "wrong-current",
            allow(others=422),
            const("/me/password", {"current_password": "no", "new_password": "a fine phrase 1"}),
        )
    ],
    ("DELETE", "/api/v1/me/sessions/{session_id}"): [
        Case("ken_fp's", OWN_KEN, write(_end_session))
    ],
    ("POST", "/api/v1/me/tokens"): [Case("", SIGNED_IN, const("/me/tokens", {"label": "x"}))],
    ("DELETE", "/api/v1/me/tokens/{token_id}"): [
        Case("ken_fp's", OWN_KEN, write(_revoke_own_token))
    ],
    ("PATCH", "/api/v1/users/{name}"): [
        Case("tza_fp", ADMIN, const("/users/tza_fp", {"display_name": "Matrix"}))
    ],
    ("POST", "/api/v1/users/{name}/roles"): [
        Case("admin+reviewer", ADMIN, const("/users/admin/roles", {"role": "reviewer"}))
    ],
    ("DELETE", "/api/v1/users/{name}/roles/{grant_id}"): [
        Case("admin+reviewer", ADMIN, write(_revoke_role))
    ],
    ("DELETE", "/api/v1/users/{name}/tokens/{token_id}"): [
        Case("ken_fp's", ADMIN, write(_revoke_user_token))
    ],
    ("DELETE", "/api/v1/users/{name}/sessions"): [
        Case("ken_fp", ADMIN, const("/users/ken_fp/sessions"))
    ],
}

KEN_DOCUMENTS = allow("admin", "ken_fp", "ken_contrib")
KEN_DOCUMENT = allow("admin", "ken_fp", "ken_contrib", others=404)


def _upload(party: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        return Request(
            f"{API}/parties/{party}/documents?title=Upload&language=en&type=map",
            headers={"Content-Type": "application/pdf"},
            content=b"%PDF-1.7 upload",
        )

    return build


async def _new_version(ctx: Ctx) -> Request:
    did = await fresh_document(ctx)
    return Request(
        f"{API}/documents/{did}/versions?title=Newer&language=en&type=report",
        headers={"Content-Type": "application/pdf"},
        content=f"%PDF-1.7 version {did}".encode(),
    )


async def _withdraw(ctx: Ctx) -> Request:
    return Request(f"{API}/documents/{await fresh_document(ctx)}/withdraw")


TUS_UPLOAD = {"Tus-Resumable": "1.0.0"}


def _upload_start(party: str) -> Build:
    async def build(ctx: Ctx) -> Request:
        fields = {"title": "Matrix upload", "language": "en", "type": "map", "filename": "m.pdf"}
        metadata = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items()
        )
        return Request(
            f"{API}/parties/{party}/uploads",
            headers=TUS_UPLOAD | {"Upload-Length": "100", "Upload-Metadata": metadata},
        )

    return build


async def fresh_upload(ctx: Ctx) -> str:
    """A resumable upload to Kenya's library, started by Kenya's focal point (its creator, the
    only one who may use it)."""
    request = await _upload_start("KEN")(ctx)
    made = await ctx.http.post(request.url, headers=ctx.auth["ken_fp"] | request.headers)
    assert made.status_code == 201, made.text
    location: str = made.headers["location"]
    return location


async def _upload_read(ctx: Ctx) -> Request:
    return Request(await fresh_upload(ctx), headers=TUS_UPLOAD)


async def _upload_patch(ctx: Ctx) -> Request:
    return Request(
        await fresh_upload(ctx),
        headers=TUS_UPLOAD
        | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
        content=b"%PDF-1.7 part of an upload",
    )


def _cited_in(submission: Callable[[World], int]) -> Callable[[World], str]:
    """The path of the document Kenya's reports cite, through one of its submissions."""
    return lambda w: f"/submissions/{submission(w)}/documents/{w.ken_cited}"


READS |= {
    ("GET", "/api/v1/uploads/{upload_id}"): [Case("ken_fp's", OWN_KEN, write(_upload_read))],
    ("GET", "/api/v1/parties/{iso3}/documents"): [
        Case("KEN", KEN_DOCUMENTS, const("/parties/KEN/documents?withdrawn=true")),
        Case("TZA", allow("admin", "tza_fp"), const("/parties/TZA/documents")),
    ],
    ("GET", "/api/v1/documents/{document_id}"): [
        Case("KEN", KEN_DOCUMENT, get(lambda w: f"/documents/{w.ken_document}"))
    ],
    ("GET", "/api/v1/documents/{document_id}/versions/{version}/download"): [
        Case("KEN", KEN_DOCUMENT, get(lambda w: f"/documents/{w.ken_document}/versions/1/download"))
    ],
    # the documents a submission cites, and its package: whoever reads the submission
    ("GET", "/api/v1/submissions/{submission_id}/documents/{document_id}"): [
        Case(name, expect, get(_cited_in(of)))
        for name, (of, expect) in SUBMISSIONS.items()
        if name.startswith("KEN")
    ],
    ("GET", "/api/v1/submissions/{submission_id}/package"): reads_of(
        lambda i: f"/submissions/{i}/package",
        {k: v for k, v in SUBMISSIONS.items() if k.startswith("KEN")},
    ),
}
WRITES |= {
    ("POST", "/api/v1/parties/{iso3}/documents"): [
        Case("KEN", KEN_DOCUMENTS, write(_upload("KEN"))),
        Case("TZA", allow("admin", "tza_fp"), write(_upload("TZA"))),
    ],
    ("POST", "/api/v1/documents/{document_id}/versions"): [
        Case("KEN", KEN_DOCUMENT, write(_new_version))
    ],
    ("POST", "/api/v1/documents/{document_id}/withdraw"): [
        Case("KEN", KEN_DOCUMENT, write(_withdraw))
    ],
    ("POST", "/api/v1/parties/{iso3}/uploads"): [
        Case("KEN", KEN_DOCUMENTS, write(_upload_start("KEN"))),
        Case("TZA", allow("admin", "tza_fp"), write(_upload_start("TZA"))),
    ],
    ("PATCH", "/api/v1/uploads/{upload_id}"): [Case("ken_fp's", OWN_KEN, write(_upload_patch))],
    ("DELETE", "/api/v1/uploads/{upload_id}"): [Case("ken_fp's", OWN_KEN, write(_upload_read))],
}

MATRIX = READS | WRITES


def _operations() -> list[tuple[str, str]]:
    document = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    ]


OPERATIONS = _operations()


def _params() -> list[Any]:
    """(operation, case, role) for every operation of the schema, reads first."""
    params = []
    ordered = sorted(OPERATIONS, key=lambda op: op[0] != "GET")
    for method, path in ordered:
        cases = MATRIX.get((method, path))
        if not cases:
            params.append(pytest.param(method, path, None, "", id=f"{method} {path} NO ROW"))
            continue
        for case in cases:
            for role in ROLES:
                marks = []
                if role in case.bug:
                    marks.append(pytest.mark.xfail(strict=True, reason=case.bug[role]))
                label = f"{method} {path} {case.variant}".replace("  ", " ").strip()
                params.append(
                    pytest.param(method, path, case, role, id=f"{label} {role}", marks=marks)
                )
    return params


def test_every_operation_has_a_row() -> None:
    assert sorted(set(MATRIX) - set(OPERATIONS)) == [], "rows of operations that do not exist"
    assert sorted(set(OPERATIONS) - set(MATRIX)) == [], "operations without a row"
    assert len(OPERATIONS) >= 51


async def test_the_secrets_are_where_the_matrix_looks(matrix: Ctx) -> None:
    """The markers are in the data: their absence from a response means something."""
    w = matrix.world

    async def text(role: str, url: str) -> str:
        response = await matrix.http.get(API + url, headers=matrix.auth[role])
        assert response.status_code == 200, (role, url, response.text[:300])
        return response.text

    places = [
        ("ken_fp", f"/workspaces/{w.ken_ws}/answers", ["SECRET-KEN-CMS", "SECRET-KEN-CBD"]),
        ("tza_fp", f"/workspaces/{w.tza_ws}/answers", ["SECRET-TZA-CMS"]),
        ("cms_sec", f"/submissions/{w.sub_ken_cms}", ["SECRET-KEN-CMS"]),
        ("cms_sec", f"/submissions/{w.sub_tza_cms}", ["SECRET-TZA-CMS"]),
        ("reviewer", f"/submissions/{w.sub_ken_cbd}", ["SECRET-KEN-CBD"]),
        ("ken_fp", f"/submissions/{w.sub_ken_cms}/comments", ["SECRET-KEN-CMS"]),
        ("cms_sec", "/cycles/CMS:COP15/export?format=jsonl", ["SECRET-KEN-CMS", "SECRET-TZA-CMS"]),
        ("cms_sec", f"/templates/{w.draft_cms}", ["SECRET-DRAFT-CMS"]),
        ("cbd_sec", "/templates?status=draft", ["SECRET-DRAFT-CBD"]),
        ("cms_sec", "/mappings?limit=500", ["SECRET-DRAFT-CMS"]),
        ("ken_contrib", f"/documents/{w.ken_document}", ["SECRET-KEN-DOC"]),
    ]
    for role, url, markers in places:
        body = await text(role, url)
        assert [m for m in markers if m not in body] == [], (role, url)


async def _newest_event(ctx: Ctx) -> int:
    events = await ctx.admin("GET", f"{API}/audit", 200, params={"limit": 1})
    return int(events["items"][0]["id"]) if events["items"] else 0


@pytest.mark.parametrize(("method", "path", "case", "role"), _params())
async def test_access_of_role(
    matrix: Ctx, method: str, path: str, case: Case | None, role: str
) -> None:
    assert case is not None, f"{method} {path} has no row in the authorization matrix"
    request = await case.build(matrix)
    writes = method != "GET"
    before = await _newest_event(matrix) if writes else 0
    headers = ({} if role == "anonymous" else matrix.auth[role]) | request.headers
    response = await matrix.http.request(
        method, request.url, json=request.json, content=request.content, headers=headers
    )
    matrix.http.cookies.clear()  # a sign-in's cookie would sign the next role's requests in
    expected = case.expect[role]
    seen = (role, method, request.url, response.status_code, response.text[:400])
    if expected == 200:
        assert 200 <= response.status_code < 300, seen
    else:
        assert response.status_code == expected, seen
        assert response.headers["content-type"].startswith(PROBLEM), seen
        if expected == 401:
            assert response.headers["www-authenticate"].lower().startswith("bearer"), seen
        if writes:  # refused: nothing was written
            assert await _newest_event(matrix) == before, seen
    leaked = [marker for marker in HIDDEN[role] if marker in response.text]
    assert leaked == [], (leaked, *seen)
