"""Generic HTTP behaviour: every error is application/problem+json, and no input makes a 500.

The test app accepts bodies up to 2 MiB (tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cmsreporting.pagination import encode_cursor
from tests.helpers import Headers, assert_problem, minimal_template, pointers

TEMPLATES = "/api/v1/templates"
JSON = {"content-type": "application/json"}
MIB = 1024 * 1024


async def send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A request; an exception the app let escape (a 500) fails the test briefly."""
    try:
        return await client.request(method, url, **kwargs)
    except Exception as exc:  # ASGITransport re-raises what the app left unhandled (a 500)
        message = f"{method} {url}: unhandled {type(exc).__name__} (500): {str(exc)[:200]}"
    pytest.fail(message, pytrace=False)


def assert_client_error(response: httpx.Response) -> dict[str, Any]:
    """A 4xx problem document."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    return assert_problem(response, response.status_code)


async def assert_nothing_stored(client: httpx.AsyncClient, auth: Headers) -> None:
    """No draft template and no write by a user in the audit trail."""
    drafts = await client.get(TEMPLATES, params={"status": "draft"}, headers=auth["admin"])
    assert drafts.json()["items"] == []
    events = await client.get("/api/v1/audit", params={"limit": 500}, headers=auth["admin"])
    assert events.status_code == 200
    assert [e for e in events.json()["items"] if e["actor"].startswith("user:")] == []


def padded_template(size: int, version: str = "9.0.0") -> bytes:
    """A valid template document of about `size` bytes (the padding is in metadata)."""
    doc = minimal_template(version=version)
    doc["metadata"] = {"notes": "x" * size}
    return json.dumps(doc).encode()


# --- routing ---------------------------------------------------------------------------------


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient, auth: Headers) -> None:
    for path in ("/nope", "/api/v1/nope", "/api/v2/templates", "/api/v1/templates/1/nope"):
        for headers in ({}, auth["admin"]):
            response = await send(client, "GET", path, headers=headers)
            problem = assert_problem(response, 404)
            assert problem["instance"] == path
    response = await send(client, "POST", "/api/v1/nope", json={}, headers=auth["admin"])
    assert_problem(response, 404)


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient, auth: Headers) -> None:
    cases = [
        ("DELETE", "/health", "GET"),
        ("PATCH", TEMPLATES, "POST"),
        ("PUT", "/api/v1/conventions", "GET"),
        ("POST", "/api/v1/me", "GET"),
        ("DELETE", "/api/v1/audit", "GET"),
        ("POST", "/api/v1/parties/KEN", "GET"),
    ]
    for method, path, allowed in cases:
        response = await send(client, method, path, json={}, headers=auth["admin"])
        problem = assert_problem(response, 405)
        assert problem["instance"] == path
        assert allowed in response.headers["allow"], (method, path)
        assert method not in response.headers["allow"].split(", ")
    await assert_nothing_stored(client, auth)


async def test_path_parameter_of_the_wrong_type(client: httpx.AsyncClient) -> None:
    for path in (f"{TEMPLATES}/abc", f"{TEMPLATES}/1.5", f"{TEMPLATES}/abc/document"):
        problem = assert_problem(await send(client, "GET", path), 422)
        assert pointers(problem) == ["/template_id"]
        assert problem["errors"][0]["in"] == "path"
    assert_problem(await send(client, "GET", f"{TEMPLATES}/0"), 404)
    assert_problem(await send(client, "GET", f"{TEMPLATES}/-1"), 404)


async def test_id_out_of_range_is_not_found(client: httpx.AsyncClient, auth: Headers) -> None:
    for tid in (2**31, 2**63, 10**30):
        for suffix in ("", "/document"):
            response = await send(client, "GET", f"{TEMPLATES}/{tid}{suffix}")
            assert response.status_code in (404, 422), response.text
            assert_client_error(response)
        response = await send(client, "POST", f"{TEMPLATES}/{tid}/publish", headers=auth["admin"])
        assert response.status_code in (404, 422), response.text


# --- request bodies --------------------------------------------------------------------------


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_body_over_the_limit_is_a_413_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: Headers, framing: str
) -> None:
    body = padded_template(3 * MIB)
    assert len(body) > 3 * MIB

    def content() -> bytes | AsyncIterator[bytes]:
        return body if framing == "content-length" else _chunks(body)

    headers = auth["cms_sec"] | JSON
    problem = assert_problem(
        await send(client, "POST", TEMPLATES, content=content(), headers=headers), 413
    )
    assert problem["instance"] == TEMPLATES
    # refused before authentication: an anonymous upload is not read either
    assert_problem(await send(client, "POST", TEMPLATES, content=content(), headers=JSON), 413)
    await assert_nothing_stored(client, auth)
    # a draft is not replaced by an oversized document
    small = padded_template(1000)
    created = await send(client, "POST", TEMPLATES, content=small, headers=headers)
    assert created.status_code == 201, created.text
    url = f"{TEMPLATES}/{created.json()['id']}"
    before = (await client.get(f"{url}/document", headers=auth["cms_sec"])).json()
    assert_problem(await send(client, "PUT", url, content=content(), headers=headers), 413)
    assert (await client.get(f"{url}/document", headers=auth["cms_sec"])).json() == before
    # just under the limit is read and stored
    near = padded_template(2 * MIB - 4096, version="9.0.1")
    assert len(near) < 2 * MIB
    stored = await send(client, "POST", TEMPLATES, content=near, headers=headers)
    assert stored.status_code == 201, stored.text[:300]


async def test_unsupported_content_type_is_a_415(client: httpx.AsyncClient, auth: Headers) -> None:
    body = json.dumps(minimal_template()).encode()
    for content_type in (
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        None,
    ):
        headers = auth["cms_sec"] | ({"content-type": content_type} if content_type else {})
        response = await send(client, "POST", TEMPLATES, content=body, headers=headers)
        problem = assert_problem(response, 415)
        assert problem["instance"] == TEMPLATES, content_type
    membership = {"since": "2000-01-01"}
    response = await send(
        client,
        "PUT",
        "/api/v1/parties/KEN/memberships/CMS",
        content=json.dumps(membership).encode(),
        headers=auth["admin"] | {"content-type": "text/plain"},
    )
    assert_problem(response, 415)
    await assert_nothing_stored(client, auth)
    # the JSON types are accepted, with a charset or as +json
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        headers = auth["cms_sec"] | {"content-type": content_type}
        created = await send(client, "POST", TEMPLATES, content=body, headers=headers)
        assert created.status_code in (201, 409), (content_type, created.text)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xff", id="byte-ff"),
        pytest.param(b"\xc0\xaf", id="overlong"),
        pytest.param(b"\xed\xa0\x80", id="encoded-surrogate"),
        pytest.param(b"\xe2\x82", id="truncated-sequence"),
        pytest.param(b"\xe9t\xe9", id="latin-1"),
    ],
)
async def test_invalid_utf8_is_a_client_error(
    client: httpx.AsyncClient, auth: Headers, raw: bytes
) -> None:
    doc = minimal_template()
    doc["title"]["en"] = "@@"
    body = json.dumps(doc).encode().replace(b"@@", raw)
    response = await send(client, "POST", TEMPLATES, content=body, headers=auth["cms_sec"] | JSON)
    assert_client_error(response)
    membership = b'{"since": "2000-01-01", "source": "' + raw + b'"}'
    response = await send(
        client,
        "PUT",
        "/api/v1/parties/KEN/memberships/CMS",
        content=membership,
        headers=auth["admin"] | JSON,
    )
    assert_client_error(response)
    await assert_nothing_stored(client, auth)


async def test_lone_surrogate_escape_is_a_client_error(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    doc = minimal_template()
    doc["title"]["en"] = "Rapport \ud800"
    body = json.dumps(doc).encode()  # ASCII: the surrogate travels as the escape \ud800
    assert b"\\ud800" in body
    response = await send(client, "POST", TEMPLATES, content=body, headers=auth["cms_sec"] | JSON)
    assert_client_error(response)
    await assert_nothing_stored(client, auth)


async def test_nul_character_in_a_body(client: httpx.AsyncClient, auth: Headers) -> None:
    doc = minimal_template()
    doc["title"]["en"] = "Rapport \x00 nul"
    response = await send(client, "POST", TEMPLATES, json=doc, headers=auth["cms_sec"])
    if response.status_code == 201:
        url = f"{TEMPLATES}/{response.json()['id']}/document"
        assert (await client.get(url, headers=auth["cms_sec"])).json() == doc
    else:
        assert_client_error(response)
        await assert_nothing_stored(client, auth)


async def test_deeply_nested_json_is_refused_and_the_service_lives_on(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    depth = 100_000
    bodies = {
        "arrays": b"[" * depth + b"]" * depth,
        "objects": b'{"a":' * depth + b"1" + b"}" * depth,
        "in-a-template": json.dumps(minimal_template()).encode()[:-1]
        + b', "metadata": {"x": '
        + b"[" * depth
        + b"]" * depth
        + b"}}",
        "unclosed": b"[" * depth,
    }
    for name, body in bodies.items():
        for method, url, user in (
            ("POST", TEMPLATES, "cms_sec"),
            ("POST", "/api/v1/cycles", "admin"),
            ("PUT", "/api/v1/parties/KEN/memberships/CMS", "admin"),
        ):
            response = await send(client, method, url, content=body, headers=auth[user] | JSON)
            assert 400 <= response.status_code < 500, (name, url, response.status_code)
            assert_client_error(response)
    health = await send(client, "GET", "/health")
    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    await assert_nothing_stored(client, auth)


async def test_non_finite_numbers_are_refused(client: httpx.AsyncClient, auth: Headers) -> None:
    """NaN and Infinity are not JSON; 1e400 is JSON but no finite number."""
    doc = minimal_template()
    doc["sections"][0]["questions"].append(
        {"id": "I.3", "type": "number", "text": {"en": "How many?"}, "min": 12345}
    )
    template = json.dumps(doc)
    membership = '{"since": "2000-01-01", "demo": 12345}'
    for token in ("NaN", "Infinity", "-Infinity", "1e400", "-1e400"):
        for url, body, user in (
            (TEMPLATES, template, "cms_sec"),
            ("/api/v1/parties/KEN/memberships/CMS", membership, "admin"),
        ):
            content = body.replace("12345", token).encode()
            method = "POST" if url == TEMPLATES else "PUT"
            response = await send(client, method, url, content=content, headers=auth[user] | JSON)
            assert_client_error(response)
    await assert_nothing_stored(client, auth)


# --- query parameters ------------------------------------------------------------------------

LISTS = [
    (TEMPLATES, None),
    ("/api/v1/parties", None),
    ("/api/v1/cycles", None),
    ("/api/v1/audit", "admin"),
]


async def test_bad_limit_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    for value in ("0", "-1", "abc", "1.5", "", "501", "99999999999999999999"):
        for path, user in LISTS:
            headers = auth[user] if user else {}
            response = await send(client, "GET", path, params={"limit": value}, headers=headers)
            problem = assert_problem(response, 422)
            assert pointers(problem) == ["/limit"], (path, value, problem)
            assert problem["errors"][0]["in"] == "query"
    for path, user in LISTS:
        headers = auth[user] if user else {}
        for value in ("1", "500"):
            response = await send(client, "GET", path, params={"limit": value}, headers=headers)
            assert response.status_code == 200, (path, value)
            assert len(response.json()["items"]) <= int(value)


async def test_bad_cursor_is_a_400_naming_the_parameter(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    garbage = [
        "garbage!",
        "!!!",
        "",
        "%%%",
        "bm90IGpzb24",  # base64 of "not json"
        "e30",  # base64 of {}
        "W10",  # base64 of []
        encode_cursor(None),
        encode_cursor([1, 2]),
        encode_cursor({"k": 1}),
    ]
    for path, user in LISTS:
        headers = auth[user] if user else {}
        for cursor in garbage:
            response = await send(client, "GET", path, params={"cursor": cursor}, headers=headers)
            problem = assert_problem(response, 400)
            assert pointers(problem) == ["/cursor"], (path, cursor, problem)
    # a cursor of another list: an integer key where a string is expected, and back
    for path, cursor in (
        ("/api/v1/parties", encode_cursor(5)),
        (TEMPLATES, encode_cursor("KEN")),
        (TEMPLATES, encode_cursor(1.5)),
        (TEMPLATES, encode_cursor(True)),
    ):
        assert_problem(await send(client, "GET", path, params={"cursor": cursor}), 400)
    too_long = "A" * 501
    problem = assert_problem(await send(client, "GET", TEMPLATES, params={"cursor": too_long}), 422)
    assert pointers(problem) == ["/cursor"]
    # the cursor a list hands out works
    first = await send(client, "GET", "/api/v1/parties", params={"limit": 2})
    cursor = first.json()["next_cursor"]
    second = await send(client, "GET", "/api/v1/parties", params={"limit": 2, "cursor": cursor})
    assert second.status_code == 200
    assert second.json()["items"][0]["iso3"] > first.json()["items"][-1]["iso3"]


async def test_cursor_out_of_range_is_a_400(client: httpx.AsyncClient, auth: Headers) -> None:
    for path, user in ((TEMPLATES, None), ("/api/v1/audit", "admin")):
        headers = auth[user] if user else {}
        for key in (2**31, 2**63, 10**30, -(10**30)):
            response = await send(
                client, "GET", path, params={"cursor": encode_cursor(key)}, headers=headers
            )
            if key == 2**31:
                assert response.status_code in (200, 400), response.text
            else:
                problem = assert_problem(response, 400)
                assert pointers(problem) == ["/cursor"]


async def test_nul_character_in_a_query(client: httpx.AsyncClient) -> None:
    for path, params in (
        (TEMPLATES, {"convention": "\x00"}),
        ("/api/v1/parties", {"convention": "CMS\x00"}),
        ("/api/v1/cycles", {"convention": "\x00"}),
        ("/api/v1/parties", {"cursor": encode_cursor("\x00")}),
    ):
        response = await send(client, "GET", path, params=params)
        assert response.status_code < 500, (path, params)
        if response.status_code == 200:
            assert response.json()["items"] == [] or "cursor" in params
        else:
            assert_client_error(response)
