"""Responses travel compressed when the client accepts it: JSON, CSV, HTML and the web
interface's files; XLSX and PDF (compressed files already) and small bodies as they are."""

from __future__ import annotations

import gzip
import json

import httpx

from tests.factories.workspaces import open_workspace, set_members
from tests.helpers import Headers


async def raw_get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], encoding: str | None
) -> tuple[httpx.Response, bytes]:
    """A GET and the bytes as they travelled (not decoded by the client)."""
    sent = headers | (
        {"Accept-Encoding": encoding} if encoding else {"Accept-Encoding": "identity"}
    )
    async with client.stream("GET", url, headers=sent) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


async def test_the_merged_form_travels_gzipped(client: httpx.AsyncClient, auth: Headers) -> None:
    await set_members(client, auth, "KEN", "CMS", "CBD", "AEWA")
    wid = await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15", "CBD:NR7", "AEWA:MOP9")
    url = f"/api/v1/workspaces/{wid}/form"
    plain, plain_body = await raw_get(client, url, auth["ken_fp"], None)
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    packed, packed_body = await raw_get(client, url, auth["ken_fp"], "gzip")
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.headers["content-type"].startswith("application/json")
    # the same document, in a fraction of the bytes
    assert json.loads(gzip.decompress(packed_body)) == json.loads(plain_body)
    assert len(packed_body) < len(plain_body) / 4, (len(packed_body), len(plain_body))


async def test_small_bodies_and_compressed_files_travel_as_they_are(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    small, _ = await raw_get(client, "/health/live", {}, "gzip")
    assert small.status_code == 200
    assert "content-encoding" not in small.headers
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15")
    url = f"/api/v1/workspaces/{wid}/preview/CMS:COP15/export?format=pdf"
    pdf, body = await raw_get(client, url, auth["ken_fp"], "gzip")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "content-encoding" not in pdf.headers
    assert body.startswith(b"%PDF-")
    page, _ = await raw_get(client, "/ui/app.js", {}, "gzip")
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
