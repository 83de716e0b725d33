"""Hostile input on the reporting and crosswalk endpoints: each request is refused with a clear
4xx problem, nothing is stored, and the service answers /health afterwards.

tests/test_http_errors.py and tests/test_template_validation.py cover the template and registry
endpoints (oversized bodies, deep JSON, invalid UTF-8, content types, huge numbers, 10,000
options, circular conditions, NaN). This file adds:

- path traversal in names: cycle references, template ids, concept keys, question references,
  convention codes, Party codes, mapping and submission ids, in the path (percent-encoded,
  double-encoded, and dot segments written %2e%2e, which reach the app as `../`: an HTTP client
  resolves literal ones before sending) and in request bodies and query parameters;
- the same hostile bodies on PATCH /workspaces/{id}/answers, POST /mappings (JSON), POST
  /concepts and POST /workspaces/{id}/submit; circular conditions do not apply to them (only
  template documents have conditions);
- hostile SSSOM TSV files on POST /mappings;
- integers too large for a double (the body guard checks decimal numbers, not integers).

Each hostile body is the valid request of a control test with one part replaced, so the refusal
is due to that part. Cases that found a bug name it (B-…); all are fixed and run as ordinary
tests.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import Headers, assert_problem, fill_required, minimal_template

API = "/api/v1"
MIB = 1024 * 1024
JSON_TYPE = {"content-type": "application/json"}
TSV_TYPE = {"content-type": "text/tab-separated-values"}
# what a leaked system file would show
LEAKS = ("root:x:0:0", "root:*:0:0", "[extensions]", "for 16-bit app support", "/bin/bash")


# --- the objects the requests aim at ----------------------------------------------------------


@dataclass
class World:
    """A KEN workspace on CMS COP15 (answered so that it could be submitted, if asked) and
    CITES COP21 (which has number questions), and a number concept of the shared question bank."""

    wid: int


async def _world(client: httpx.AsyncClient, auth: Headers, *, submittable: bool = False) -> World:
    admin = auth["admin"]
    for convention in ("CMS", "CITES"):
        put = await client.put(
            f"{API}/parties/KEN/memberships/{convention}", json={}, headers=admin
        )
        assert put.status_code in (200, 201), put.text
    made = await client.post(
        f"{API}/workspaces",
        json={"party": "KEN", "cycles": ["CMS:COP15", "CITES:COP21"], "carry_forward": False},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    wid: int = made.json()["id"]
    if submittable:
        await fill_required(client, admin, wid, "CMS:COP15")
    concept = {"key": "hostile.count", "type": "number", "text": {"en": "How many?"}}
    created = await client.post(f"{API}/concepts", json=concept, headers=admin)
    assert created.status_code == 201, created.text
    return World(wid=wid)


@dataclass
class State:
    """What the service holds that a refused request must leave unchanged."""

    audit: list[int]
    answers: list[Any]
    submissions: list[Any]
    concepts: int
    mappings: int


async def _count(client: httpx.AsyncClient, path: str) -> int:
    total, cursor = 0, None
    for _ in range(100):
        params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(path, params=params)).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total
    raise AssertionError(f"{path} never ended")


async def _state(client: httpx.AsyncClient, auth: Headers, world: World) -> State:
    admin = auth["admin"]
    audit = (await client.get(f"{API}/audit", params={"limit": 500}, headers=admin)).json()
    answers = await client.get(f"{API}/workspaces/{world.wid}/answers", headers=admin)
    submissions = await client.get(f"{API}/submissions", headers=admin)
    return State(
        audit=[e["id"] for e in audit["items"]],
        answers=answers.json()["answers"],
        submissions=submissions.json()["items"],
        concepts=await _count(client, f"{API}/concepts"),
        mappings=await _count(client, f"{API}/mappings"),
    )


def _refused(response: httpx.Response, *statuses: int, what: str = "") -> dict[str, Any]:
    """A 4xx problem (of one of `statuses` when given) that leaks no system file."""
    seen = (what, response.request.method, str(response.request.url)[:200], response.status_code)
    assert 400 <= response.status_code < 500, (*seen, response.text[:500])
    if statuses:
        assert response.status_code in statuses, (*seen, response.text[:500])
    body = assert_problem(response, response.status_code)
    assert body.get("detail"), (*seen, body)
    assert not any(leak in response.text for leak in LEAKS), response.text[:500]
    assert len(response.content) < 100_000, "a refusal must not echo a large body"
    return body


async def _healthy(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["database"] == "ok"


# --- path traversal in names ------------------------------------------------------------------

# percent-encoded in the path as sent; starlette decodes them before routing, so the app sees
# "../../etc/passwd" (an HTTP client would resolve literal dot segments before sending: %2e%2e
# is how they reach a server)
TRAVERSALS = [
    "%2e%2e",
    "%2e%2e/%2e%2e/etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5C..%5Cwindows%5Cwin.ini",
    "..\\..\\windows\\win.ini",
    "..;",
    "....%2F%2F....%2F%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    "file:%2F%2F%2Fetc%2Fpasswd",
    "%c0%ae%c0%ae%c0%af",
    "CMS:..%2F..%2Fetc%2Fpasswd",
    "CMS:%2e%2e/COP15",
    "CMS:COP15:..%2F..%2Fx",
    "CMS:COP15:%2e%2e/%2e%2e/x",
    "CMS%3ACOP15%3A..%2F..%2Fx",
    "CMS:COP15:I(a).1%2F..%2F..%2Fx",
]


@dataclass(frozen=True)
class Named:
    """An endpoint with a name in its path ({} marks it)."""

    method: str
    path: str
    user: str | None
    body: Any = None


NAMED = [
    Named("GET", "/cycles/{}", None),
    Named("GET", "/cycles/{}/status", "admin"),
    Named("GET", "/cycles/{}/export", "admin"),
    Named("GET", "/templates/{}", None),
    Named("GET", "/templates/{}/document", "admin"),
    Named("PUT", "/templates/{}", "admin", minimal_template(version="9.9.9")),
    Named("POST", "/templates/{}/publish", "admin"),
    Named("DELETE", "/templates/{}", "admin"),
    Named("GET", "/concepts/{}", None),
    Named("PUT", "/concepts/{}", "admin", {"key": "x", "type": "text", "text": {"en": "x"}}),
    Named("GET", "/crosswalk/{}", None),
    Named("GET", "/conventions/{}", None),
    Named("GET", "/parties/{}", None),
    Named("PUT", "/parties/KEN/memberships/{}", "admin", {}),
    Named("PUT", "/parties/{}/memberships/CMS", "admin", {}),
    Named("DELETE", "/parties/{}/memberships/CMS", "admin"),
    Named("GET", "/mappings/{}", None),
    Named("GET", "/workspaces/WID/preview/{}", "ken_fp"),
    Named("GET", "/submissions/{}/export", "admin"),
]


async def test_path_traversal_in_names_is_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    world = await _world(client, auth)
    before = await _state(client, auth, world)
    for target in NAMED:
        headers = auth[target.user] if target.user else {}
        path = API + target.path.replace("WID", str(world.wid))
        for name in TRAVERSALS:
            response = await client.request(
                target.method, path.format(name), headers=headers, json=target.body
            )
            _refused(response, what=f"{target.method} {target.path} {name}")
    assert await _state(client, auth, world) == before
    await _healthy(client)


HOSTILE_NAMES = ["../../etc/passwd", "..\\..\\x", "CMS:COP15:../../x", "/etc/passwd", "%2e%2e"]


async def test_path_traversal_in_bodies_is_refused(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    world = await _world(client, auth)
    admin = auth["admin"]
    before = await _state(client, auth, world)
    answers = f"{API}/workspaces/{world.wid}/answers"
    for name in HOSTILE_NAMES:
        cases: list[tuple[str, str, Any, dict[str, str]]] = [
            ("POST", f"{API}/concepts", {"key": name, "type": "text", "text": {"en": "x"}}, {}),
            (
                "POST",
                f"{API}/mappings",
                [
                    {
                        "concept": "hostile.count",
                        "question": f"CITES:COP21:{name}",
                        "template_version": "1.0.0",
                        "relation": "exactMatch",
                    }
                ],
                {},
            ),
            (
                "POST",
                f"{API}/mappings",
                [
                    {
                        "concept": name,
                        "question": "CITES:COP21:2.2",
                        "template_version": name,
                        "relation": "exactMatch",
                    }
                ],
                {},
            ),
            ("PATCH", answers, {"answers": [{"slot": name, "value": 1, "base_revision": 0}]}, {}),
            (
                "PATCH",
                answers,
                {"answers": [{"slot": f"concept:{name}", "value": 1, "base_revision": 0}]},
                {},
            ),
            (
                "PATCH",
                answers,
                {"answers": [{"slot": f"CMS:COP15:{name}", "value": "x", "base_revision": 0}]},
                {},
            ),
            (
                "POST",
                f"{API}/workspaces/{world.wid}/submit",
                {"cycles": [name]},
                {"Idempotency-Key": f"traversal {name}"},
            ),
            (
                "POST",
                f"{API}/workspaces/{world.wid}/submit",
                {"cycles": [f"CMS:COP15/{name}"]},
                {"Idempotency-Key": f"traversal 2 {name}"},
            ),
            ("POST", f"{API}/workspaces", {"party": "KEN", "cycles": [f"CMS:{name}"]}, {}),
            (
                "POST",
                f"{API}/cycles",
                {
                    "convention": "CMS",
                    "code": name,
                    "title": "x",
                    "opens_on": "2030-01-01",
                    "due_on": "2030-12-31",
                },
                {},
            ),
            (
                "POST",
                f"{API}/crosswalk/translate",
                {"from": name, "to": "CMS:COP15", "answers": {}},
                {},
            ),
        ]
        template = minimal_template(version="9.9.9")
        template["sections"][0]["questions"][0]["id"] = name
        cases.append(("POST", f"{API}/templates", template, {}))
        for method, url, body, extra in cases:
            response = await client.request(method, url, json=body, headers=admin | extra)
            _refused(response)
    # hostile names in query parameters: never a 5xx, never a leak, nothing written
    for path, params in (
        (f"{API}/templates/1", {"lang": "../../etc/passwd"}),
        (f"{API}/workspaces/{world.wid}/form", {"lang": "..%2F..%2Fetc%2Fpasswd"}),
        (f"{API}/cycles/CMS:COP15/export", {"lang": "../../../etc/passwd"}),
        (f"{API}/templates", {"cycle": "../../etc/passwd"}),
        (f"{API}/mappings", {"question": "CMS:COP15:../../x", "concept": "../x"}),
        (f"{API}/crosswalk/coverage", {"from": "../../x", "to": "CMS:COP15"}),
        (f"{API}/submissions", {"cycle": "../..", "party": "../"}),
    ):
        response = await client.get(path, params=params, headers=admin)
        assert response.status_code < 500, (path, response.text)
        assert not any(leak in response.text for leak in LEAKS)
        if response.status_code >= 400:
            _refused(response)
    assert await _state(client, auth, world) == before
    await _healthy(client)


# --- hostile JSON bodies on the reporting and crosswalk writes ---------------------------------

SLOT = '"@@"'  # where a request's hostile part goes


@dataclass(frozen=True)
class Target:
    """A write with a body that is valid once SLOT is replaced by `good`."""

    name: str
    method: str
    path: str  # WID stands for the workspace id
    body: str
    good: str
    created: int  # status of the valid request
    extra: tuple[tuple[str, str], ...] = ()


TARGETS = [
    Target(
        "answers",
        "PATCH",
        "/workspaces/WID/answers",
        '{"answers": [{"slot": "CMS:COP15:I(a).2", "value": "@@", "base_revision": 0}]}',
        '"Ministry of Environment"',
        200,
    ),
    Target(
        "mappings",
        "POST",
        "/mappings",
        '[{"concept": "hostile.count", "question": "CITES:COP21:2.2", "template_version": '
        '"1.0.0", "relation": "exactMatch", "transform": {}, "justification": "@@"}]',
        '"Same count"',
        201,
    ),
    Target(
        "concepts",
        "POST",
        "/concepts",
        '{"key": "hostile.text", "type": "text", "text": {"en": "@@"}}',
        '"A shared question"',
        201,
    ),
    Target(
        "submit",
        "POST",
        "/workspaces/WID/submit",
        '{"cycles": ["@@"]}',
        '"CMS:COP15"',
        201,
        (("Idempotency-Key", "hostile"),),
    ),
]
TARGET_PARAMS = [pytest.param(t, id=t.name) for t in TARGETS]


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# hostile replacement of SLOT -> the statuses that may refuse it
HOSTILE: dict[str, tuple[bytes, tuple[int, ...]]] = {
    "oversized": (b'"' + b"x" * (3 * MIB) + b'"', (413,)),
    "deep-arrays": (_deep(100_000), (400,)),
    "deep-objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, (400,)),
    "unclosed": (b"[" * 100_000, (400,)),
    "invalid-utf8": (b'"\xff\xfe"', (400,)),
    "overlong-utf8": (b'"\xc0\xaf"', (400,)),
    "encoded-surrogate": (b'"\xed\xa0\x80"', (400,)),
    "lone-surrogate-escape": (b'"\\ud800"', (400,)),
    "nul": (b'"a\\u0000b"', (400,)),
    "NaN": (b"NaN", (400,)),
    "Infinity": (b"Infinity", (400,)),
    "-Infinity": (b"-Infinity", (400,)),
    "1e400": (b"1e400", (400,)),
    "digits-5000": (b"9" * 5000, (400,)),
    "not-json": (b"{", (400,)),
}


def _body(target: Target, part: bytes) -> bytes:
    return target.body.encode().replace(SLOT.encode(), part)


def _url(target: Target, world: World) -> str:
    return API + target.path.replace("WID", str(world.wid))


@pytest.mark.parametrize("target", TARGET_PARAMS)
async def test_the_valid_request_is_accepted(
    client: httpx.AsyncClient, auth: Headers, target: Target
) -> None:
    """Control: the body the hostile ones are made from is accepted."""
    world = await _world(client, auth, submittable=True)
    response = await client.request(
        target.method,
        _url(target, world),
        content=_body(target, target.good.encode()),
        headers=auth["admin"] | JSON_TYPE | dict(target.extra),
    )
    assert response.status_code == target.created, response.text


@pytest.mark.parametrize("target", TARGET_PARAMS)
async def test_hostile_bodies_are_refused(
    client: httpx.AsyncClient, auth: Headers, target: Target
) -> None:
    world = await _world(client, auth, submittable=True)
    before = await _state(client, auth, world)
    url = _url(target, world)
    headers = auth["admin"] | dict(target.extra)
    for name, (part, statuses) in HOSTILE.items():
        response = await client.request(
            target.method, url, content=_body(target, part), headers=headers | JSON_TYPE
        )
        problem = _refused(response, *statuses, what=name)
        assert problem["instance"] == url, name
    good = _body(target, target.good.encode())
    for content_type in (
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        None,
    ):
        typed = headers | ({"content-type": content_type} if content_type else {})
        response = await client.request(target.method, url, content=good, headers=typed)
        _refused(response, 415)
    assert await _state(client, auth, world) == before
    await _healthy(client)


async def test_ten_thousand_items_are_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    """10,000 options, answers, option codes, cycles, concepts or mappings: refused without
    echoing them (10,000 choices in one answer: test_ten_thousand_unknown_choices_are_not_echoed).
    """
    world = await _world(client, auth)
    admin = auth["admin"]
    before = await _state(client, auth, world)
    many = [f"o{i}" for i in range(10_000)]
    cases: list[tuple[str, str, Any, dict[str, str]]] = [
        (
            "POST",
            f"{API}/concepts",
            {
                "key": "hostile.choice",
                "type": "multi_choice",
                "text": {"en": "x"},
                "options": [{"code": c} for c in many],
            },
            {},
        ),
        (
            "PATCH",
            f"{API}/workspaces/{world.wid}/answers",
            {
                "answers": [
                    {"slot": f"CMS:COP15:I(a).{i}", "value": "x", "base_revision": 0}
                    for i in range(10_000)
                ]
            },
            {},
        ),
        (
            "POST",
            f"{API}/mappings",
            [
                {
                    "concept": "hostile.count",
                    "question": "CITES:COP21:2.2",
                    "template_version": "1.0.0",
                    "relation": "exactMatch",
                    "transform": {"options": {c: c for c in many}},
                }
            ],
            {},
        ),
        (
            "POST",
            f"{API}/workspaces/{world.wid}/submit",
            {"cycles": ["CMS:COP15"] * 10_000},
            {"Idempotency-Key": "many"},
        ),
        (
            "POST",
            f"{API}/concepts",
            [{"key": f"hostile.{i}", "type": "text", "text": {"en": "x"}} for i in range(10_000)],
            {},
        ),
        (
            "POST",
            f"{API}/mappings",
            [
                {
                    "concept": "hostile.count",
                    "question": "CITES:COP21:2.2",
                    "template_version": "1.0.0",
                    "relation": "relatedMatch",
                }
            ]
            * 10_000,
            {},
        ),
    ]
    for method, url, body, extra in cases:
        response = await client.request(method, url, json=body, headers=admin | extra)
        _refused(response)
        assert len(response.content) < 20_000, (url, "the refusal echoes the body")
    assert await _state(client, auth, world) == before
    await _healthy(client)


# --- integers beyond a double -----------------------------------------------------------------

BIG = "1" + "0" * 400  # valid JSON; no double holds it


async def test_a_huge_integer_answer_is_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    world = await _world(client, auth)
    body = (
        '{"answers": [{"slot": "CITES:COP21:2.2", "value": ' + BIG + ', "base_revision": 0}]}'
    ).encode()
    response = await client.patch(
        f"{API}/workspaces/{world.wid}/answers", content=body, headers=auth["admin"] | JSON_TYPE
    )
    _refused(response, 400, 422)


@pytest.mark.parametrize("where", ["concept-min", "mapping-scale"])
async def test_a_huge_integer_is_not_stored(
    client: httpx.AsyncClient, auth: Headers, where: str
) -> None:
    await _world(client, auth)
    if where == "concept-min":
        url = f"{API}/concepts"
        body = '{"key": "hostile.big", "type": "number", "text": {"en": "x"}, "min": ' + BIG + "}"
    else:
        url = f"{API}/mappings"
        body = (
            '[{"concept": "hostile.count", "question": "CITES:COP21:2.2", '
            '"template_version": "1.0.0", "relation": "exactMatch", '
            '"transform": {"scale": ' + BIG + "}}]"
        )
    response = await client.post(url, content=body.encode(), headers=auth["admin"] | JSON_TYPE)
    _refused(response, 400, 422)


# --- hostile SSSOM TSV ------------------------------------------------------------------------

SSSOM_HEAD = (
    "# curie_map:\n"
    "#   qbank: https://cmsreporting.org/id/concept/\n"
    "#   rq: https://cmsreporting.org/id/question/\n"
    "subject_id\tpredicate_id\tobject_id\tobject_source_version\tcomment\tauthor_label"
    "\tconfidence\tother\n"
)


def _row(
    *,
    subject: str = "qbank:hostile.count",
    obj: str = "rq:CITES:COP21:2.2",
    comment: str = "Same count",
    confidence: str = "0.9",
    other: str = '{"status": "proposed", "transform": {}}',
) -> str:
    return f"{subject}\tskos:exactMatch\t{obj}\t1.0.0\t{comment}\ttester\t{confidence}\t{other}\n"


def _alias_bomb(levels: int) -> str:
    """A YAML metadata block whose aliases expand to 9**levels strings."""
    names = [f"l{i}" for i in range(levels)]
    lines = SSSOM_HEAD.split("\n")[:3]
    lines.append(f"#   {names[0]}: &{names[0]} [" + ", ".join(['"lol"'] * 9) + "]")
    for previous, name in itertools.pairwise(names):
        lines.append(f"#   {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    table = SSSOM_HEAD.split("\n")[3]
    return "\n".join(lines) + "\n" + table + "\n" + _row(subject="qbank:hostile.count")


async def test_a_valid_sssom_file_is_accepted(client: httpx.AsyncClient, auth: Headers) -> None:
    """Control: the row the hostile files are made from is a valid mapping."""
    await _world(client, auth)
    response = await client.post(
        f"{API}/mappings", content=(SSSOM_HEAD + _row()).encode(), headers=auth["admin"] | TSV_TYPE
    )
    assert response.status_code == 201, response.text
    assert [m["question"] for m in response.json()] == ["CITES:COP21:2.2"]


SSSOM_REFUSED: dict[str, bytes] = {
    "invalid-utf8": (SSSOM_HEAD + _row(comment="@@")).encode().replace(b"@@", b"\xff\xfe"),
    "yaml-not-a-mapping": ("# - a\n# - b\n" + SSSOM_HEAD.split("\n", 3)[3] + _row()).encode(),
    "yaml-broken": ("# curie_map: [\n" + SSSOM_HEAD.split("\n", 3)[3] + _row()).encode(),
    "curie-map-a-list": ("# curie_map: [a, b]\n" + SSSOM_HEAD.split("\n", 3)[3] + _row()).encode(),
    "no-columns": b"just text, no table",
    "traversal-subject": (SSSOM_HEAD + _row(subject="qbank:..%2F..%2Fetc%2Fpasswd")).encode(),
    "traversal-object": (SSSOM_HEAD + _row(obj="rq:CITES:COP21:..%2F..%2Fetc%2Fpasswd")).encode(),
    "traversal-object-raw": (SSSOM_HEAD + _row(obj="rq:CITES:COP21:../../etc/passwd")).encode(),
    "file-iri": (SSSOM_HEAD + _row(obj="file:///etc/passwd")).encode(),
    "other-not-json": (SSSOM_HEAD + _row(other="{not json")).encode(),
    "other-a-list": (SSSOM_HEAD + _row(other="[1, 2]")).encode(),
    "confidence-text": (SSSOM_HEAD + _row(confidence="very")).encode(),
    "confidence-out-of-range": (SSSOM_HEAD + _row(confidence="1e400")).encode(),
    "ten-thousand-bad-rows": (SSSOM_HEAD + _row(subject="qbank:") * 10_000).encode(),
}


async def test_hostile_sssom_files_are_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    world = await _world(client, auth)
    before = await _state(client, auth, world)
    for name, body in SSSOM_REFUSED.items():
        response = await client.post(
            f"{API}/mappings", content=body, headers=auth["admin"] | TSV_TYPE
        )
        _refused(response, 400, 422, what=name)
    for content_type in ("text/csv", "text/plain", "application/xml"):
        response = await client.post(
            f"{API}/mappings",
            content=(SSSOM_HEAD + _row()).encode(),
            headers=auth["admin"] | {"content-type": content_type},
        )
        _refused(response, 415)
    oversized = (SSSOM_HEAD + _row(comment="x" * (3 * MIB))).encode()
    response = await client.post(
        f"{API}/mappings", content=oversized, headers=auth["admin"] | TSV_TYPE
    )
    _refused(response, 413)
    assert await _state(client, auth, world) == before
    await _healthy(client)


def _bug(name: str, reason: str) -> Any:
    """The bug a case once showed, now fixed: the case runs as an ordinary test."""
    return ()


SSSOM_BUGS = [
    pytest.param(
        (SSSOM_HEAD + "qbank:hostile.count\rx\t" + _row()[20:]).encode(),
        id="bare-carriage-return",
        marks=_bug(
            "B-SSSOM-CR",
            "crosswalk/exchange.py read_sssom(): a CR not followed by LF makes csv.DictReader "
            "raise csv.Error ('new-line character seen in unquoted field'), uncaught: 500",
        ),
    ),
    pytest.param(
        (SSSOM_HEAD + _row(comment="x" * 140_000)).encode(),
        id="field-over-128-KiB",
        marks=_bug(
            "B-SSSOM-FIELD",
            "read_sssom(): a field longer than csv.field_size_limit() (131072) makes csv raise "
            "'field larger than field limit', uncaught: 500",
        ),
    ),
    pytest.param(
        (SSSOM_HEAD + _row(other='{"transform": ' + "[" * 50_000 + "]" * 50_000 + "}")).encode(),
        id="deep-other",
        marks=_bug(
            "B-SSSOM-DEEP",
            "read_sssom(): json.loads of the 'other' column raises RecursionError, which "
            "'except ValueError' does not catch: 500 (the JSON body guard never sees TSV)",
        ),
    ),
    pytest.param(
        (SSSOM_HEAD + _row(other='{"status": "proposed", "transform": {"scale": NaN}}')).encode(),
        id="NaN-in-other",
        marks=_bug(
            "B-SSSOM-NONFINITE",
            "read_sssom(): json.loads accepts NaN/Infinity/1e400 in 'other': SQLite stores the "
            "mapping with transform {'scale': null} (201), PostgreSQL fails the JSONB insert "
            "('invalid input syntax for type json'): 500",
        ),
    ),
    pytest.param(
        (SSSOM_HEAD + _row(other='{"status": "proposed", "transform": {"scale": 1e400}}')).encode(),
        id="1e400-in-other",
        marks=_bug("B-SSSOM-NONFINITE", "as NaN: 1e400 is read as inf"),
    ),
    pytest.param(
        (SSSOM_HEAD + _row(comment="bad\x00nul")).encode(),
        id="NUL-in-a-field",
        marks=_bug(
            "B-SSSOM-NUL",
            "read_sssom() passes a NUL character through to the justification: SQLite stores it "
            "(201) although JSON bodies with NUL are refused; PostgreSQL refuses the text "
            "('invalid byte sequence for encoding UTF8: 0x00'): 500",
        ),
    ),
    pytest.param(
        (SSSOM_HEAD + _row(confidence="nan")).encode(),
        id="confidence-nan",
        marks=_bug(
            "B-SSSOM-NANCONF",
            "read_sssom(): float('nan') passes the 0..1 check (NaN compares false): SQLite stores "
            "confidence null (201), PostgreSQL's check constraint fails and the service answers "
            "a misleading 409 'conflicts with the current state' instead of naming the field",
        ),
    ),
    pytest.param(
        (
            SSSOM_HEAD
            + _row(
                subject="qbank:hostile.choice",
                obj="rq:CMS:COP15:IV.3",
                other='{"status": "proposed", "transform": {"options": {"\\ud800": true}}}',
            )
        ).encode(),
        id="lone-surrogate-in-other",
        marks=_bug(
            "B-SSSOM-SURROGATE",
            "read_sssom(): a \\ud800 escape in the 'other' JSON becomes a lone surrogate in a "
            "transform option code; the 422 that names the unknown code quotes it, and encoding "
            "that problem document to UTF-8 fails (UnicodeEncodeError): 500",
        ),
    ),
]


@pytest.mark.parametrize("body", SSSOM_BUGS)
async def test_a_hostile_sssom_file_is_refused(
    client: httpx.AsyncClient, auth: Headers, body: bytes
) -> None:
    world = await _world(client, auth)
    choice = {
        "key": "hostile.choice",
        "type": "single_choice",
        "text": {"en": "x"},
        "options": [{"code": "yes"}, {"code": "no"}],
    }
    assert (await client.post(f"{API}/concepts", json=choice, headers=auth["admin"])).is_success
    before = await _state(client, auth, world)
    response = await client.post(f"{API}/mappings", content=body, headers=auth["admin"] | TSV_TYPE)
    problem = _refused(response, 400, 422)
    assert problem["errors"], problem
    assert await _state(client, auth, world) == before
    await _healthy(client)


async def test_a_yaml_alias_bomb_is_refused_at_once(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    world = await _world(client, auth)
    before = await _state(client, auth, world)
    started = time.monotonic()
    response = await client.post(
        f"{API}/mappings", content=_alias_bomb(7).encode(), headers=auth["admin"] | TSV_TYPE
    )
    elapsed = time.monotonic() - started
    _refused(response, 400, 422)
    assert elapsed < 0.25, elapsed
    assert await _state(client, auth, world) == before


async def test_ten_thousand_unknown_choices_are_not_echoed(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    world = await _world(client, auth)
    many = [f"o{i}" for i in range(10_000)]
    response = await client.patch(
        f"{API}/workspaces/{world.wid}/answers",
        json={"answers": [{"slot": "CMS:COP15:II.2", "value": many, "base_revision": 0}]},
        headers=auth["admin"],
    )
    _refused(response, 422)
    assert len(response.content) < 20_000, len(response.content)
