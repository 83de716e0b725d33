"""The warm read of a published template: the bytes and headers an anonymous client gets from
the kept copy (answered before the router) are those the route gives a signed-in caller; gzip
is served from the kept encoding; checks of the caller, the parameters and draft visibility
still hold."""

from __future__ import annotations

import gzip

import httpx

from tests.helpers import Headers, assert_problem, minimal_template

# headers that describe the representation (the request id and the date differ per response)
SAME = ("content-type", "content-encoding", "content-language", "etag", "cache-control", "vary")


async def raw_get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], encoding: str
) -> tuple[httpx.Response, bytes]:
    """A GET and the bytes as they travelled (not decoded by the client)."""
    async with client.stream("GET", url, headers=headers | {"Accept-Encoding": encoding}) as r:
        body = b"".join([chunk async for chunk in r.aiter_raw()])
    return r, body


def described(response: httpx.Response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in SAME}


async def test_the_kept_copy_is_what_the_route_answers(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    url = "/api/v1/templates/1"
    for encoding in ("identity", "gzip", "gzip, deflate, br"):
        for params in ("", "?lang=fr", "?lang=es"):
            # twice anonymous (the second from the kept copy), then as a signed-in caller
            # (always through the router): the same bytes and the same headers
            first, first_body = await raw_get(client, url + params, {}, encoding)
            warm, warm_body = await raw_get(client, url + params, {}, encoding)
            routed, routed_body = await raw_get(client, url + params, auth["ken_fp"], encoding)
            assert first.status_code == warm.status_code == routed.status_code == 200
            assert first_body == warm_body == routed_body, (encoding, params)
            assert described(first) == described(warm) == described(routed), (encoding, params)
            assert warm.headers["x-request-id"] != routed.headers["x-request-id"]
    # the language from ?lang= or Accept-Language, the same way on both paths
    imported = await client.post(
        "/api/v1/templates", json=minimal_template(), headers=auth["cms_sec"]
    )
    tid = imported.json()["id"]
    await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["cms_sec"])
    for accept, lang in (("fr", "fr"), ("es;q=0.9, fr-CA;q=0.8", "fr"), ("de", "en")):
        for query in ("", f"?lang={lang}"):
            wanted = {"Accept-Language": accept}
            where = f"/api/v1/templates/{tid}{query}"
            await raw_get(client, where, wanted, "identity")
            warm, warm_body = await raw_get(client, where, wanted, "identity")
            routed, routed_body = await raw_get(client, where, wanted | auth["ken_fp"], "identity")
            assert warm_body == routed_body, accept
            assert described(warm) == described(routed), accept
            assert warm.headers["content-language"] == lang, (accept, query)


async def test_gzip_is_negotiated_and_served_from_the_kept_encoding(
    client: httpx.AsyncClient,
) -> None:
    url = "/api/v1/templates/1"
    plain, plain_body = await raw_get(client, url, {}, "identity")
    assert "content-encoding" not in plain.headers
    packed, packed_body = await raw_get(client, url, {}, "gzip")
    again, again_body = await raw_get(client, url, {}, "deflate, gzip;q=0.5")
    assert packed.headers["content-encoding"] == again.headers["content-encoding"] == "gzip"
    assert packed_body == again_body  # the kept bytes, not a new compression
    assert gzip.decompress(packed_body) == plain_body
    assert len(packed_body) < len(plain_body) / 3
    assert int(packed.headers["content-length"]) == len(packed_body)
    for reply in (packed, plain):
        vary = [v.strip().lower() for v in reply.headers["vary"].split(",")]
        assert sorted(vary) == ["accept-encoding", "accept-language"]  # each name once
    assert packed.headers["etag"] == plain.headers["etag"]  # the same JSON
    for refused in ("gzip;q=0", "br", "*;q=0", "identity, gzip;q=0"):
        reply, body = await raw_get(client, url, {}, refused)
        assert "content-encoding" not in reply.headers, refused
        assert body == plain_body
    star, star_body = await raw_get(client, url, {}, "*")
    assert star.headers["content-encoding"] == "gzip"
    assert star_body == packed_body
    # the client's copy is current, whatever the encoding it travelled in
    for encoding in ("gzip", "identity"):
        same, body = await raw_get(
            client, url, {"If-None-Match": f"W/{plain.headers['etag']}"}, encoding
        )
        assert same.status_code == 304
        assert body == b""
        assert same.headers["etag"] == plain.headers["etag"]


async def test_a_warm_read_still_checks_the_caller_and_the_parameters(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    url = "/api/v1/templates/1"
    for _ in range(2):
        assert (await client.get(url)).status_code == 200
    bad = await client.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert_problem(bad, 401)
    too_long = await client.get(url, params={"lang": "x" * 36})
    assert "lang" in str(assert_problem(too_long, 422)["errors"])
    assert_problem(await client.get(url, headers={"Accept-Language": "en," * 200}), 422)
    other = await client.get(url, params={"lang": "fr", "extra": "1"})
    assert other.status_code == 200
    assert other.json() == (await client.get(url, params={"lang": "fr"})).json()
    assert_problem(await client.get("/api/v1/templates/999999"), 404)
    assert_problem(await client.get("/api/v1/templates/0"), 404)


async def test_a_draft_is_never_answered_from_a_kept_copy(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    doc = minimal_template()
    imported = await client.post("/api/v1/templates", json=doc, headers=auth["cms_sec"])
    tid = imported.json()["id"]
    for _ in range(2):
        seen = await client.get(f"/api/v1/templates/{tid}", headers=auth["cms_sec"])
        assert seen.status_code == 200
        assert seen.headers["cache-control"] == "private, no-cache"
    for _ in range(2):
        assert_problem(await client.get(f"/api/v1/templates/{tid}"), 404)
    published = await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["cms_sec"])
    assert published.status_code == 200, published.text
    for _ in range(2):
        public = await client.get(f"/api/v1/templates/{tid}")
        assert public.status_code == 200
        assert public.json()["status"] == "published"


async def test_liveness_answers_a_constant_with_the_request_context(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(2):
        live = await client.get("/health/live", headers={"X-Request-ID": "probe-1"})
        assert live.status_code == 200
        assert live.headers["content-type"] == "application/json"
        assert live.headers["x-request-id"] == "probe-1"
        assert live.json()["status"] == "ok"
        assert set(live.json()) == {"status", "version"}
    assert (await client.post("/health/live")).status_code == 405


async def test_the_compression_layer_reads_q_values(client: httpx.AsyncClient) -> None:
    # any compressible response, not only templates: gzip;q=0 refuses gzip
    packed, packed_body = await raw_get(client, "/ui/app.js", {}, "gzip")
    assert packed.headers["content-encoding"] == "gzip"
    for refused in ("gzip;q=0", "deflate", "*;q=0"):
        plain, plain_body = await raw_get(client, "/ui/app.js", {}, refused)
        assert plain.status_code == 200
        assert "content-encoding" not in plain.headers, refused
        assert gzip.decompress(packed_body) == plain_body
