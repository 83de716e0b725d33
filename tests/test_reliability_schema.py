"""Property-based tests of the whole HTTP API against its own OpenAPI schema (schemathesis).

Every operation of GET /openapi.json is exercised with generated requests, each sent twice:
as the admin and as a focal point (ken_fp, Kenya for CMS and CBD). A response must never be
a server error (an exception escaping the app counts as one: schemathesis' ASGI client
re-raises it), a documented response must match its documented schema, and a response must
have a documented media type.

The app runs in process on one seeded copy of the test database for the whole module, with
real objects for the generated requests to reach: memberships, a Kenyan workspace with answers
and submissions to CMS (with a comment) and CBD (accepted), a Tanzanian workspace, a draft
template. Half of the generated path and query parameters, and some bodies,
are swapped for the names of those objects (hooks below), so that the requests get past
"not found" into the handlers; the other half stay as generated.

Bounds: schemathesis' coverage phase (boundary and negative values of every parameter) plus
MAX_EXAMPLES generated requests per operation, deterministic (derandomize: the same requests
on every run), no shrinking, no example database.

Bugs found: B-SSSOM-CR (an SSSOM body with a bare carriage return gave a 500; fixed, and
replayed below as an ordinary test) and B-422-DOC (every operation documented its 422 as
FastAPI's application/json HTTPValidationError while the service sends a problem document; the
OpenAPI document now lists each operation's errors as application/problem+json `Problem`, and
a 422 of each kind is checked against it below).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
import schemathesis.python.asgi
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from cmsreporting.config import Settings
from cmsreporting.main import create_app
from tests.factories.databases import Seed, app_client, clone_database
from tests.helpers import Headers, fill_required, minimal_template

MAX_EXAMPLES = 10  # generated requests per operation, on top of the coverage phase
ROLES = ("admin", "ken_fp")
REFS = ["CMS:COP15", "CBD:NR7", "AEWA:MOP9"]

# The schema comes from an app whose database is never opened: GET /openapi.json does not
# touch it. The requests of the tests go to the app of the `live_app` fixture.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
)
# Requests with methods the schema does not list (OPTIONS, TRACE, PUT on a GET path…) all
# answer 405 before any handler runs; tests/test_http_errors.py covers 405. Leaving them out
# saves about 800 requests.
schema.config.phases.coverage.unexpected_methods = set()

# names of objects of the test database, by parameter name; filled by `live_app`
KNOWN: dict[str, list[Any]] = {}


def _swap(values: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """The generated values, or (as often) the same with known names put in."""
    if not values:
        return st.just(values)
    swapped = {
        name: st.sampled_from(KNOWN[name]) if KNOWN.get(name) else st.just(value)
        for name, value in values.items()
    }
    return st.one_of(st.just(values), st.fixed_dictionaries(swapped))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    return _swap(path_parameters)


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    return _swap(query)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Known slots and cycles in the bodies of the reporting writes (values stay generated)."""
    operation = context.operation
    label = f"{operation.method.upper()} {operation.path}" if operation is not None else ""
    if not isinstance(body, dict):
        return st.just(body)
    if label == "PATCH /api/v1/workspaces/{workspace_id}/answers" and isinstance(
        body.get("answers"), list
    ):
        items = [
            st.fixed_dictionaries(
                {
                    "slot": st.sampled_from(KNOWN["slots"]),
                    "value": st.just(item.get("value")),
                    "base_revision": st.sampled_from([0, 1, item.get("base_revision", 0)]),
                }
            )
            for item in body["answers"]
            if isinstance(item, dict)
        ]
        return st.one_of(st.just(body), st.tuples(*items).map(lambda a: {"answers": list(a)}))
    if label == "POST /api/v1/workspaces/{workspace_id}/submit":
        cycles = st.lists(st.sampled_from(REFS), min_size=1, max_size=3)
        return st.one_of(st.just(body), cycles.map(lambda c: body | {"cycles": c}))
    if label == "POST /api/v1/workspaces":
        party_cycles = st.tuples(
            st.sampled_from(["KEN", "TZA", "ken"]), st.lists(st.sampled_from(REFS), max_size=3)
        )
        return st.one_of(
            st.just(body), party_cycles.map(lambda pc: body | {"party": pc[0], "cycles": pc[1]})
        )
    if label == "POST /api/v1/crosswalk/translate":
        pair = st.tuples(st.sampled_from(REFS), st.sampled_from(REFS))
        return st.one_of(st.just(body), pair.map(lambda ft: body | {"from": ft[0], "to": ft[1]}))
    return st.just(body)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _prepare(http: httpx.AsyncClient, auth: Headers) -> None:
    """The objects the generated requests should reach; their names go to KNOWN."""
    admin, ken = auth["admin"], auth["ken_fp"]
    for party, conventions in (("KEN", ("CMS", "CBD", "AEWA")), ("TZA", ("CMS",))):
        for convention in conventions:
            put = await http.put(
                f"/api/v1/parties/{party}/memberships/{convention}", json={}, headers=admin
            )
            assert put.status_code in (200, 201), put.text
    ken_ws = (
        await _ok(
            await http.post(
                "/api/v1/workspaces",
                json={"party": "KEN", "cycles": ["CMS:COP15", "CBD:NR7"]},
                headers=ken,
            ),
            201,
        )
    )["id"]
    await fill_required(http, ken, ken_ws, "CMS:COP15")
    await fill_required(http, ken, ken_ws, "CBD:NR7")
    submitted = await _ok(
        await http.post(
            f"/api/v1/workspaces/{ken_ws}/submit",
            json={"cycles": ["CMS:COP15", "CBD:NR7"]},
            headers=ken | {"Idempotency-Key": "schema-test"},
        ),
        201,
    )
    cms_sub, cbd_sub = (s["id"] for s in submitted["submissions"])
    await _ok(
        await http.post(
            f"/api/v1/submissions/{cms_sub}/comments", json={"body": "Looks good"}, headers=admin
        ),
        201,
    )
    await _ok(await http.post(f"/api/v1/submissions/{cbd_sub}/accept", json={}, headers=admin))
    tza_ws = (
        await _ok(
            await http.post(
                "/api/v1/workspaces",
                json={"party": "TZA", "cycles": ["CMS:COP15"]},
                headers=auth["tza_fp"],
            ),
            201,
        )
    )["id"]
    draft = (
        await _ok(await http.post("/api/v1/templates", json=minimal_template(), headers=admin), 201)
    )["id"]
    templates = await _ok(await http.get("/api/v1/templates", params={"limit": 500}))
    mappings = await _ok(await http.get("/api/v1/mappings", params={"limit": 5}))
    concepts = await _ok(await http.get("/api/v1/concepts", params={"limit": 5}))
    form = await _ok(await http.get(f"/api/v1/workspaces/{ken_ws}/form", headers=ken))
    KNOWN.clear()
    KNOWN.update(
        {
            "workspace_id": [ken_ws, tza_ws],
            "submission_id": [cms_sub, cbd_sub],
            "against": [cms_sub, cbd_sub],
            "template_id": [t["id"] for t in templates["items"]] + [draft],
            "mapping_id": [m["id"] for m in mappings["items"]],
            "key": [c["key"] for c in concepts["items"]],
            "concept": [c["key"] for c in concepts["items"]],
            "ref": REFS,
            "cycle_ref": REFS,
            "cycle": REFS[:2],
            "from": ["CBD:NR7", "CMS:COP15"],
            "to": ["CMS:COP15", "AEWA:MOP9"],
            "code": ["CMS", "CBD", "AEWA"],
            "convention": ["CMS", "CBD"],
            "iso3": ["KEN", "TZA"],
            "party": ["KEN", "TZA"],
            "question_ref": ["CMS:COP15:I(a).3", "CBD:NR7:sectionII.hasRevisedNbsap"],
            "question": ["CMS:COP15:I(a).3"],
            "slots": [item["slot"] for item in form["items"]],
        }
    )


@pytest.fixture(scope="module")
async def live_app(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    """The app under test, on one prepared copy of the seeded database."""
    auth = {name: {"Authorization": f"Bearer {token}"} for name, token in seed.tokens.items()}
    async for url in clone_database(seed, tmp_path_factory.mktemp("schema")):
        async for http in app_client(url):
            await _prepare(http, auth)
        # schemathesis runs this app (and its lifespan) on its own event loop thread
        app = create_app(Settings(database_url=url, max_body_bytes=2 * 1024 * 1024))
        try:
            yield app
        finally:
            schemathesis.python.asgi.shutdown_lifespans()


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # coverage and generated cases; no shrinking
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_to_its_schema(case: Any, live_app: Any, auth: Headers) -> None:
    for role in ROLES:
        # a copy: schemathesis adds its own headers to the dict it is given
        case.call_and_validate(app=live_app, headers=dict(auth[role]), checks=CHECKS)


# --- bugs found, pinned -----------------------------------------------------------------------


async def test_sssom_with_a_bare_carriage_return_is_refused(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    """The request schemathesis found (its curl reproduction), replayed exactly."""
    response = await client.post(
        "/api/v1/mappings",
        content="\r,Öf\x19ü\x81òS".encode(),
        headers=auth["admin"] | {"content-type": "text/tab-separated-values"},
    )
    assert 400 <= response.status_code < 500, response.text


def _a_422_per_operation() -> list[Any]:
    """(method, path, kwargs) of a request that each kind of operation refuses with 422."""
    return [
        pytest.param("GET", "/api/v1/templates/abc", {}, id="path-parameter"),
        pytest.param("GET", "/api/v1/templates", {"params": {"limit": "0"}}, id="query"),
        pytest.param(
            "POST", "/api/v1/cycles", {"json": {"convention": "CMS"}, "auth": True}, id="body"
        ),
    ]


@pytest.mark.parametrize(("method", "path", "kwargs"), _a_422_per_operation())
async def test_a_422_is_what_the_schema_documents(
    client: httpx.AsyncClient, auth: Headers, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    kwargs = dict(kwargs)
    headers = auth["admin"] if kwargs.pop("auth", False) else {}
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 422, response.text
    document = (await client.get("/openapi.json")).json()
    template = next(
        p for p in document["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path)
    )
    documented = document["paths"][template][method.lower()]["responses"]["422"]["content"]
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in documented, (media_type, sorted(documented))
    resolver_schema = documented[media_type]["schema"] | {"components": document["components"]}
    jsonschema.validate(response.json(), resolver_schema)
