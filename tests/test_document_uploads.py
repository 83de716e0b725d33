"""Limits and safety of the document library, through the HTTP API on SQLite and PostgreSQL:
types sniffed from the bytes and held to an allow-list (a claimed type or a file name the bytes
contradict refused), zip bombs refused, file names sanitised, the per-file and per-Party
limits, resumable uploads (tus 1.0.0: creation, offsets, resumption, termination, the sweep of
expired ones), and byte ranges on downloads. Every refusal is a 4xx problem naming the field,
with nothing stored."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import socket
import sqlite3
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory, utcnow
from cmsreporting.documents.models import DocumentUpload
from cmsreporting.jobs import service as jobs_service
from tests.factories.databases import app_client
from tests.factories.processes import Server
from tests.factories.workspaces import set_members
from tests.helpers import PROBLEM, Headers, fill_required, questions_of

API = "/api/v1"
LIMIT = 256 * 1024
PARTY_LIMIT = 600 * 1024
META = {"title": "National Biodiversity Strategy", "language": "en", "type": "policy_plan"}
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = "application/offset+octet-stream"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
async def docs(db_url: str, folder: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in app_client(
        db_url,
        document_storage=str(folder),
        document_max_bytes=LIMIT,
        document_party_max_bytes=PARTY_LIMIT,
        document_zip_max_bytes=8 * 1024 * 1024,
    ):
        yield http


def stored(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def partials(folder: Path) -> list[str]:
    parts = Path(str(folder) + "-uploads")
    return sorted(p.name for p in parts.iterdir()) if parts.is_dir() else []


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    content_type: str = "application/pdf",
    **params: Any,
) -> httpx.Response:
    return await http.post(
        f"{API}/parties/KEN/documents",
        params=META | {"file_name": "nbsap.pdf"} | params,
        content=data,
        headers=dict(headers) | {"Content-Type": content_type},
    )


async def library(http: httpx.AsyncClient, auth: Headers) -> list[Any]:
    listed = await http.get(f"{API}/parties/KEN/documents?withdrawn=true", headers=auth["ken_fp"])
    assert listed.status_code == 200, listed.text
    items: list[Any] = listed.json()["items"]
    return items


def refused(response: httpx.Response, status: int, parameter: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert parameter is None or parameter in [e.get("parameter") for e in body.get("errors", [])], (
        body
    )
    return body


# --- files of every allowed kind --------------------------------------------------------------


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def opendocument() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return out.getvalue()


def geopackage(tmp_path: Path) -> bytes:
    path = tmp_path / "layer.gpkg"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
        db.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY)")
    return path.read_bytes()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x01" * 2 + b"\x08\x06" * 40


DOCX = zipped(
    {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document/>",
    }
)
SHAPEFILE = zipped({"rivers.shp": b"\x00\x00'\n" * 40, "rivers.shx": b"x" * 40, "rivers.dbf": b"d"})


@pytest.mark.parametrize(
    ("name", "content_type", "make", "media_type"),
    [
        ("nbsap.pdf", "application/pdf", lambda t: PDF, "application/pdf"),
        ("map.png", "image/png", lambda t: png(), "image/png"),
        (
            "photo.jpg",
            "image/jpeg",
            lambda t: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"1" * 99,
            "image/jpeg",
        ),
        (
            "plan.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            lambda t: DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "plan.odt",
            "application/octet-stream",
            lambda t: opendocument(),
            "application/vnd.oasis.opendocument.text",
        ),
        ("rivers.zip", "application/zip", lambda t: SHAPEFILE, "application/zip"),
        ("annex.zip", "application/zip", lambda t: zipped({"a.txt": b"annex"}), "application/zip"),
        ("sites.csv", "text/csv", lambda t: b"site,area\nLake Nakuru,188\n", "text/csv"),
        ("sites.csv", "application/vnd.ms-excel", lambda t: b"site;area\n", "text/csv"),
        (
            "sites.geojson",
            "application/geo+json",
            lambda t: b'{"type": "FeatureCollection", "features": []}',
            "application/geo+json",
        ),
        ("layer.gpkg", "application/octet-stream", geopackage, "application/geopackage+sqlite3"),
        (
            "old.doc",
            "application/msword",
            lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "application/msword",
        ),
    ],
)
async def test_allowed_kinds_are_stored_with_their_sniffed_type(
    docs: httpx.AsyncClient,
    auth: Headers,
    tmp_path: Path,
    name: str,
    content_type: str,
    make: Any,
    media_type: str,
) -> None:
    data = make(tmp_path)
    made = await upload(docs, auth["ken_fp"], data, content_type=content_type, file_name=name)
    assert made.status_code == 201, made.text
    assert made.json()["current"]["media_type"] == media_type
    assert made.json()["current"]["file_name"] == name


# --- bad input of every kind ------------------------------------------------------------------


def bomb() -> bytes:
    return zipped({"zeros.bin": b"\x00" * (12 * 1024 * 1024)})


def lying_bomb() -> bytes:
    """A bomb whose headers declare its member 1000 bytes long (it unpacks to 12 MiB)."""
    data = bytearray(bomb())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "content_type", "params", "status", "parameter"),
    [
        (b"", "application/pdf", {}, 422, "file"),
        (
            b"<!doctype html><script>alert(1)</script>",
            "text/html",
            {"file_name": "a.html"},
            415,
            "file",
        ),
        (b"<svg onload=alert(1)/>", "image/svg+xml", {"file_name": "a.svg"}, 415, "file"),
        (
            b"MZ\x90\x00\x03" + b"\x00" * 200,
            "application/octet-stream",
            {"file_name": "a.exe"},
            415,
            "file",
        ),
        (b"plain words", "text/plain", {"file_name": "notes.txt"}, 415, "file_name"),
        (png(), "application/pdf", {}, 415, "Content-Type"),  # bytes contradict the claim
        (PDF, "image/png", {"file_name": "map.png"}, 415, "Content-Type"),
        (PDF, "application/octet-stream", {"file_name": "map.png"}, 415, "file_name"),
        (b"[1, 2]", "application/geo+json", {"file_name": "a.geojson"}, 415, "file"),
        (
            b"SQLite format 3\x00" + b"\x00" * 100,
            "application/octet-stream",
            {"file_name": "a.db"},
            415,
            "file",
        ),
        (b"PK\x03\x04 not really a zip", "application/zip", {"file_name": "a.zip"}, 415, "file"),
        (bomb(), "application/zip", {"file_name": "a.zip"}, 422, "file"),
        (lying_bomb(), "application/zip", {"file_name": "a.zip"}, 415, "file"),
        (PDF, "application/pdf", {"file_name": "../a.pdf"}, 422, "file_name"),
        (PDF, "application/pdf", {"file_name": "a\\b.pdf"}, 422, "file_name"),
        (PDF, "application/pdf", {"file_name": "bell\x07.pdf"}, 422, "file_name"),
        (PDF, "application/pdf", {"file_name": "fdp\u202egpj.pdf"}, 422, "file_name"),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_stored(
    docs: httpx.AsyncClient,
    auth: Headers,
    folder: Path,
    data: bytes,
    content_type: str,
    params: dict[str, str],
    status: int,
    parameter: str,
) -> None:
    response = await upload(docs, auth["ken_fp"], data, content_type=content_type, **params)
    refused(response, status, parameter)
    assert stored(folder) == []
    assert await library(docs, auth) == []


async def test_file_names_are_cleaned(docs: httpx.AsyncClient, auth: Headers) -> None:
    made = await upload(docs, auth["ken_fp"], PDF, file_name='..plan: "draft" <v2>?.pdf. ')
    assert made.status_code == 201, made.text
    name = made.json()["current"]["file_name"]
    assert name == "plan_ _draft_ _v2__.pdf"
    got = await docs.get(made.json()["current"]["download"], headers=auth["ken_fp"])
    assert got.headers["content-disposition"].startswith(f'attachment; filename="{name}"')


async def test_a_zip_bomb_is_refused_by_its_declared_size_too(
    db_url: str, folder: Path, auth: Headers
) -> None:
    """A small archive whose members unpack past the total allowed is refused, whatever its
    ratio."""
    data = zipped({f"part{i}.csv": b"a,b\n" * 40_000 for i in range(4)})
    async for http in app_client(
        db_url, document_storage=str(folder), document_zip_max_bytes=500_000
    ):
        body = refused(
            await upload(
                http, auth["ken_fp"], data, file_name="a.zip", content_type="application/zip"
            ),
            422,
            "file",
        )
        assert "zip bomb" in body["detail"]
    assert stored(folder) == []


async def test_the_per_file_and_per_party_limits(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    # refused by its declared length before a byte is read
    big = refused(await upload(docs, auth["ken_fp"], PDF + b"0" * LIMIT), 413, None)
    assert big["max_bytes"] == LIMIT
    # the Party's library fills up: two files of 250 KiB fit in 600 KiB, a third does not
    for i in range(2):
        made = await upload(docs, auth["ken_fp"], PDF + bytes([i]) * (250 * 1024 - len(PDF)))
        assert made.status_code == 201, made.text
    third = refused(await upload(docs, auth["ken_fp"], PDF + b"2" * 200_000), 413, "file")
    assert third["party_max_bytes"] == PARTY_LIMIT
    assert third["party_bytes"] == 2 * 250 * 1024
    assert str(PARTY_LIMIT) in third["detail"]
    assert len(stored(folder)) == 2
    # a new version counts too
    doc = (await library(docs, auth))[0]
    again = await docs.post(
        f"{API}/documents/{doc['id']}/versions",
        params=META | {"file_name": "v2.pdf"},
        content=PDF + b"3" * 200_000,
        headers=auth["ken_fp"] | {"Content-Type": "application/pdf"},
    )
    refused(again, 413, "file")
    # another Party's library is its own
    tza = await docs.post(
        f"{API}/parties/TZA/documents",
        params=META,
        content=PDF + b"4" * 200_000,
        headers=auth["tza_fp"] | {"Content-Type": "application/pdf"},
    )
    assert tza.status_code == 201, tza.text


# --- downloads: ranges ------------------------------------------------------------------------


async def test_downloads_take_byte_ranges(docs: httpx.AsyncClient, auth: Headers) -> None:
    made = await upload(docs, auth["ken_fp"], PDF)
    url = made.json()["current"]["download"]
    etag = made.json()["current"]["sha256"]
    whole = await docs.get(url, headers=auth["ken_fp"])
    assert whole.status_code == 200
    assert whole.headers["accept-ranges"] == "bytes"
    size = len(PDF)
    for header, start, end in [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, size),
        ("bytes=-10", size - 10, size),
        (f"bytes=10-{size + 500}", 10, size),
    ]:
        part = await docs.get(url, headers=auth["ken_fp"] | {"Range": header})
        assert part.status_code == 206, (header, part.text)
        assert part.content == PDF[start:end], header
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert part.headers["content-length"] == str(end - start)
        assert part.headers["content-disposition"].startswith("attachment")
        assert part.headers["x-content-type-options"] == "nosniff"
    past = await docs.get(url, headers=auth["ken_fp"] | {"Range": f"bytes={size}-"})
    assert past.status_code == 416, past.text
    assert past.headers["content-type"].startswith(PROBLEM)
    assert past.headers["content-range"] == f"bytes */{size}"
    # several ranges, or an If-Range that no longer matches: the whole file
    several = await docs.get(url, headers=auth["ken_fp"] | {"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200
    assert several.content == PDF
    stale = await docs.get(
        url, headers=auth["ken_fp"] | {"Range": "bytes=0-1", "If-Range": '"other"'}
    )
    assert stale.status_code == 200
    assert stale.content == PDF
    fresh = await docs.get(
        url, headers=auth["ken_fp"] | {"Range": "bytes=0-1", "If-Range": f'"{etag}"'}
    )
    assert fresh.status_code == 206
    assert fresh.content == PDF[:2]
    # nobody else reads it, by range or not
    hidden = await docs.get(url, headers=auth["cms_sec"] | {"Range": "bytes=0-9"})
    assert hidden.status_code == 404


# --- resumable uploads ------------------------------------------------------------------------


def tus_metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


FIELDS = {
    "title": "Wetlands map",
    "language": "en",
    "type": "map",
    "filename": "wetlands.pdf",
    "filetype": "application/pdf",
}


async def create(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    length: int,
    *,
    party: str = "KEN",
    **fields: str,
) -> httpx.Response:
    return await http.post(
        f"{API}/parties/{party}/uploads",
        headers=headers
        | TUS
        | {"Upload-Length": str(length), "Upload-Metadata": tus_metadata(**(FIELDS | fields))},
    )


async def patch(
    http: httpx.AsyncClient, headers: dict[str, str], location: str, offset: int, data: bytes
) -> httpx.Response:
    return await http.patch(
        location,
        content=data,
        headers=headers | TUS | {"Content-Type": OFFSET, "Upload-Offset": str(offset)},
    )


async def test_options_tell_what_the_server_supports(docs: httpx.AsyncClient) -> None:
    told = await docs.options(f"{API}/uploads")
    assert told.status_code == 204
    assert told.headers["tus-resumable"] == "1.0.0"
    assert told.headers["tus-version"] == "1.0.0"
    assert told.headers["tus-extension"] == "creation,termination"
    assert told.headers["tus-max-size"] == str(LIMIT)


async def test_a_resumable_upload_from_creation_to_document(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    fp = auth["ken_fp"]
    made = await create(
        docs, fp, len(PDF), description="By the ministry", document_date="2025-02-02"
    )
    assert made.status_code == 201, made.text
    location = made.headers["location"]
    assert location.startswith(f"{API}/uploads/")
    assert made.headers["tus-resumable"] == "1.0.0"
    assert made.json() == {
        "id": location.rsplit("/", 1)[1],
        "offset": 0,
        "length": len(PDF),
        "party": "KEN",
        "document": None,
    }

    head = await docs.head(location, headers=fp | TUS)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(PDF))
    assert head.headers["cache-control"] == "no-store"

    first = await patch(docs, fp, location, 0, PDF[:5000])
    assert first.status_code == 204, first.text
    assert first.headers["upload-offset"] == "5000"
    # a wrong offset: 409, nothing taken
    for wrong in (0, 4000, 6000):
        stale = await patch(docs, fp, location, wrong, PDF[wrong : wrong + 100])
        body = refused(stale, 409, "Upload-Offset")
        assert body["upload_offset"] == 5000
    # past Upload-Length: 413, nothing taken
    over = await patch(docs, fp, location, 5000, PDF[5000:] + b"extra")
    refused(over, 413, "Upload-Length")
    # bytes of another kind, or no tus version
    typed = await docs.patch(
        location,
        content=PDF[5000:],
        headers=fp | TUS | {"Content-Type": "application/pdf", "Upload-Offset": "5000"},
    )
    refused(typed, 415, "Content-Type")
    untus = await docs.patch(
        location, content=b"x", headers=fp | {"Content-Type": OFFSET, "Upload-Offset": "5000"}
    )
    refused(untus, 412, "Tus-Resumable")
    head = await docs.head(location, headers=fp | TUS)
    assert head.headers["upload-offset"] == "5000"
    got = await docs.get(location, headers=fp)
    assert got.json() == {
        "id": location.rsplit("/", 1)[1],
        "offset": 5000,
        "length": len(PDF),
        "party": "KEN",
        "document": None,
    }
    assert stored(folder) == []

    last = await patch(docs, fp, location, 5000, PDF[5000:])
    assert last.status_code == 204, last.text
    assert last.headers["upload-offset"] == str(len(PDF))
    done = (await docs.get(location, headers=fp)).json()
    assert done["offset"] == len(PDF)
    assert isinstance(done["document"], int)
    doc = (await docs.get(f"{API}/documents/{done['document']}", headers=fp)).json()
    assert doc["title"] == "Wetlands map"
    assert doc["type"] == "map"
    assert doc["description"] == "By the ministry"
    assert doc["document_date"] == "2025-02-02"
    assert doc["current"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert doc["current"]["media_type"] == "application/pdf"
    assert doc["current"]["file_name"] == "wetlands.pdf"
    assert stored(folder) == [hashlib.sha256(PDF).hexdigest()]
    assert partials(folder) == []
    download = await docs.get(doc["current"]["download"], headers=fp)
    assert download.content == PDF
    # a complete upload takes no more bytes
    again = await patch(docs, fp, location, len(PDF), b"x")
    assert again.status_code == 409, again.text

    # a new version through an upload that names the document
    newer = PDF + b"% revised\n"
    version = await create(docs, fp, len(newer), document=str(doc["id"]), title="Wetlands (2)")
    assert version.status_code == 201, version.text
    finished = await patch(docs, fp, version.headers["location"], 0, newer)
    assert finished.status_code == 204, finished.text
    doc = (await docs.get(f"{API}/documents/{doc['id']}", headers=fp)).json()
    assert doc["version"] == 2
    assert doc["title"] == "Wetlands (2)"
    assert doc["current"]["sha256"] == hashlib.sha256(newer).hexdigest()


async def test_uploads_belong_to_their_creator(docs: httpx.AsyncClient, auth: Headers) -> None:
    made = await create(docs, auth["ken_fp"], len(PDF))
    location = made.headers["location"]
    for role in ("ken_contrib", "admin", "tza_fp", "cms_sec"):
        headers = auth[role] | TUS
        assert (await docs.head(location, headers=headers)).status_code == 404, role
        got = await docs.get(location, headers=headers)
        assert got.status_code == 404
        assert got.headers["content-type"].startswith(PROBLEM)
        assert (await patch(docs, auth[role], location, 0, PDF)).status_code == 404, role
        assert (await docs.delete(location, headers=headers)).status_code == 404, role
    assert (await docs.head(location, headers=TUS)).status_code == 401
    unknown = f"{API}/uploads/{'A' * 43}"
    assert (await docs.get(unknown, headers=auth["ken_fp"])).status_code == 404
    assert (await docs.get(f"{API}/uploads/..%2F..", headers=auth["ken_fp"])).status_code == 404
    head = await docs.head(location, headers=auth["ken_fp"] | TUS)
    assert head.headers["upload-offset"] == "0"


@pytest.mark.parametrize(
    ("headers", "fields", "status", "parameter"),
    [
        ({"Tus-Resumable": "0.2.2"}, {}, 412, "Tus-Resumable"),
        ({"Upload-Length": "-1"}, {}, 400, "Upload-Length"),
        ({"Upload-Length": str(LIMIT + 1)}, {}, 413, "file"),
        ({"Upload-Length": "0"}, {}, 422, "file"),
        ({"Upload-Metadata": "title !!!"}, {}, 400, "Upload-Metadata"),
        ({"Upload-Metadata": "colour cmVk"}, {}, 400, "Upload-Metadata"),
        ({}, {"title": ""}, 422, "title"),
        ({}, {"type": "novel"}, 422, "type"),
        ({}, {"language": "xx"}, 422, "language"),
        ({}, {"filename": "a/b.pdf"}, 422, "file_name"),
        ({}, {"document": "99999"}, 404, ""),
    ],
)
async def test_bad_uploads_are_refused_at_creation(
    docs: httpx.AsyncClient,
    auth: Headers,
    folder: Path,
    headers: dict[str, str],
    fields: dict[str, str],
    status: int,
    parameter: str,
) -> None:
    sent = TUS | {
        "Upload-Length": str(len(PDF)),
        "Upload-Metadata": tus_metadata(**(FIELDS | fields)),
    }
    response = await docs.post(
        f"{API}/parties/KEN/uploads", headers=auth["ken_fp"] | sent | headers
    )
    if parameter:
        refused(response, status, parameter)
    else:
        assert response.status_code == status, response.text
    assert partials(folder) == []


async def test_a_party_full_refuses_an_upload_at_creation(
    docs: httpx.AsyncClient, auth: Headers
) -> None:
    for i in range(2):
        made = await upload(docs, auth["ken_fp"], PDF + bytes([i]) * (250 * 1024 - len(PDF)))
        assert made.status_code == 201, made.text
    full = refused(await create(docs, auth["ken_fp"], 200_000), 413, "file")
    assert full["party_max_bytes"] == PARTY_LIMIT


async def test_another_partys_document_cannot_be_replaced_by_upload(
    docs: httpx.AsyncClient, auth: Headers
) -> None:
    made = await upload(docs, auth["ken_fp"], PDF)
    ken_doc = str(made.json()["id"])
    assert (
        await create(docs, auth["tza_fp"], 10, party="TZA", document=ken_doc)
    ).status_code == 404
    assert (await create(docs, auth["ken_fp"], 10, party="TZA")).status_code == 403


@pytest.mark.parametrize(
    ("data", "fields", "status", "parameter"),
    [
        (
            b"<html><body>hi</body></html>",
            {"filename": "a.html", "filetype": "text/html"},
            415,
            "file",
        ),
        (png(), {}, 415, "filetype"),  # claimed a PDF
        (bomb(), {"filename": "a.zip", "filetype": "application/zip"}, 422, "file"),
    ],
)
async def test_a_refused_file_discards_its_upload(
    db_url: str,
    auth: Headers,
    folder: Path,
    data: bytes,
    fields: dict[str, str],
    status: int,
    parameter: str,
) -> None:
    async for http in app_client(
        db_url,
        document_storage=str(folder),
        document_max_bytes=32 * 1024 * 1024,
        document_zip_max_bytes=8 * 1024 * 1024,
    ):
        made = await create(http, auth["ken_fp"], len(data), **fields)
        assert made.status_code == 201, made.text
        location = made.headers["location"]
        half = len(data) // 2
        assert (await patch(http, auth["ken_fp"], location, 0, data[:half])).status_code == 204
        refused(await patch(http, auth["ken_fp"], location, half, data[half:]), status, parameter)
        assert (await http.head(location, headers=auth["ken_fp"] | TUS)).status_code == 404
        assert await library(http, auth) == []
    assert stored(folder) == []
    assert partials(folder) == []


async def test_termination_removes_the_upload(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    made = await create(docs, auth["ken_fp"], len(PDF))
    location = made.headers["location"]
    assert (await patch(docs, auth["ken_fp"], location, 0, PDF[:100])).status_code == 204
    assert len(partials(folder)) == 1
    ended = await docs.delete(location, headers=auth["ken_fp"] | TUS)
    assert ended.status_code == 204
    assert partials(folder) == []
    assert (await docs.head(location, headers=auth["ken_fp"] | TUS)).status_code == 404
    assert (await patch(docs, auth["ken_fp"], location, 100, PDF[100:])).status_code == 404


async def test_the_sweep_removes_expired_uploads(
    docs: httpx.AsyncClient, auth: Headers, folder: Path, db_url: str
) -> None:
    old = (await create(docs, auth["ken_fp"], len(PDF))).headers["location"]
    young = (await create(docs, auth["ken_fp"], len(PDF))).headers["location"]
    for location in (old, young):
        assert (await patch(docs, auth["ken_fp"], location, 0, PDF[:10])).status_code == 204
    stray = Path(str(folder) + "-uploads") / f"{'B' * 43}.part"
    stray.write_bytes(b"left by a crash")
    engine = create_engine(db_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(
                update(DocumentUpload)
                .where(DocumentUpload.id == old.rsplit("/", 1)[1])  # type: ignore[arg-type]
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert (await docs.head(old, headers=auth["ken_fp"] | TUS)).status_code == 404
        settings = Settings(
            database_url=db_url, document_storage=str(folder), document_sweep_grace_seconds=0
        )
        rt = jobs_service.Runtime(create_session_factory(engine), settings, None)  # type: ignore[arg-type]
        await jobs_service.sweep_documents(rt)
    finally:
        await engine.dispose()
    assert partials(folder) == [young.rsplit("/", 1)[1] + ".part"]
    assert (await docs.head(young, headers=auth["ken_fp"] | TUS)).headers["upload-offset"] == "10"


# --- the issue's journey in flat memory: a 200 MB upload cut midway and resumed, downloaded,
# cited in two reports and packaged for each secretariat -----------------------------------

BLOCK = 1024 * 1024
BLOCKS = 200
BASE = hashlib.sha256(b"base").digest() * (BLOCK // 32)


def block(i: int) -> bytes:
    head = b"%PDF-1.7\n" if i == 0 else i.to_bytes(9, "big")
    return head + BASE[len(head) :]


def blocks_from(offset: int) -> Iterator[bytes]:
    first, skip = divmod(offset, BLOCK)
    for i in range(first, BLOCKS):
        yield block(i)[skip:] if i == first else block(i)


def rss_of(pid: int) -> int:
    """Resident bytes of a process and its children."""
    total = 0
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += rss_of(int(child))
    return total


class Sampler(threading.Thread):
    """The largest resident size of a process, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_of(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join()


def cut_patch(server: Server, path: str, headers: dict[str, str], length: int, send: int) -> None:
    """A PATCH announcing `length` bytes whose connection is cut after `send` of them."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        lines = [f"PATCH {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sent = 0
        for chunk in blocks_from(0):
            sock.sendall(chunk[: send - sent])
            sent += min(len(chunk), send - sent)
            if sent >= send:
                break
        sock.shutdown(socket.SHUT_RDWR)


CYCLES = ["CMS:COP15", "CBD:NR7"]


async def cite_in_two_reports(base: str, auth: Headers, document: int) -> dict[str, int]:
    """A workspace of Kenya's with a CMS and a CBD report, filled, one question of each report
    citing the document, both submitted: the submission id of each cycle."""
    fp = auth["ken_fp"]
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await set_members(http, auth, "KEN", "CMS", "CBD")
        made = await http.post(
            f"{API}/workspaces", json={"party": "KEN", "cycles": CYCLES}, headers=fp
        )
        assert made.status_code == 201, made.text
        wid = made.json()["id"]
        for cycle in CYCLES:
            await fill_required(http, fp, wid, cycle)
        answers = (await http.get(f"{API}/workspaces/{wid}/answers", headers=fp)).json()
        revisions = {a["slot"]: a["revision"] for a in answers["answers"]}
        citing = []
        for cycle in CYCLES:
            preview = (await http.get(f"{API}/workspaces/{wid}/preview/{cycle}", headers=fp)).json()
            template = await http.get(f"{API}/templates/{preview['template_id']}/document")
            qid = next(
                q["id"]
                for q in questions_of(template.json()).values()
                if q["type"] == "text" and "visible_if" not in q
            )
            slot = f"{cycle}:{qid}"
            citing.append(
                {
                    "slot": slot,
                    "value": "See the national strategy attached",
                    "base_revision": revisions.get(slot, 0),
                    "documents": [document],
                }
            )
        saved = await http.patch(
            f"{API}/workspaces/{wid}/answers", json={"answers": citing}, headers=fp
        )
        assert saved.status_code == 200, saved.text
        submitted = await http.post(
            f"{API}/workspaces/{wid}/submit",
            json={"cycles": CYCLES},
            headers=fp | {"Idempotency-Key": "two-reports-one-document"},
        )
        assert submitted.status_code == 201, submitted.text
        return {s["cycle"]: s["id"] for s in submitted.json()["submissions"]}


def member_sha256(archive: Path, prefix: str) -> str:
    """The SHA-256 of the one member of a ZIP file whose name starts with `prefix`, read in
    blocks."""
    with zipfile.ZipFile(archive) as package:
        [name] = [n for n in package.namelist() if n.startswith(prefix)]
        digest = hashlib.sha256()
        with package.open(name) as member:
            while chunk := member.read(BLOCK):
                digest.update(chunk)
    return digest.hexdigest()


def test_a_200_mb_document_cut_resumed_cited_in_two_reports_and_packaged_in_flat_memory(
    db_url: str, tmp_path: Path, auth: Headers
) -> None:
    total = BLOCK * BLOCKS
    env = {
        "CMSREPORTING_DOCUMENT_STORAGE": str(tmp_path / "documents"),
        "CMSREPORTING_DOCUMENT_MAX_BYTES": str(total),
        "CMSREPORTING_AUTH_CACHE_SECONDS": "60",
    }
    server = Server(db_url, tmp_path / "server.log", "--no-migrate", "--no-load", env=env)
    try:
        server.wait_live()
        fp = auth["ken_fp"] | TUS
        with httpx.Client(base_url=server.base, timeout=120) as http:

            def start(length: int) -> str:
                made = http.post(
                    f"{API}/parties/KEN/uploads",
                    headers=fp
                    | {"Upload-Length": str(length), "Upload-Metadata": tus_metadata(**FIELDS)},
                )
                assert made.status_code == 201, made.text
                return made.headers["location"]

            # warm up (imports, caches, pools) with a small upload and download
            warm = start(len(PDF))
            sent = http.patch(
                warm, content=PDF, headers=fp | {"Content-Type": OFFSET, "Upload-Offset": "0"}
            )
            assert sent.status_code == 204, sent.text
            assert http.get(warm, headers=fp).json()["document"] is not None
            baseline = rss_of(server.proc.pid)

            with Sampler(server.proc.pid) as upload_memory:
                location = start(total)
                cut_patch(
                    server,
                    location,
                    fp | {"Content-Type": OFFSET, "Upload-Offset": "0"},
                    total,
                    send=total // 2 + 12345,
                )
                offset, deadline = 0, time.monotonic() + 60
                while True:  # the server records what arrived once it sees the cut
                    time.sleep(0.3)
                    head = http.head(location, headers=fp)
                    assert head.status_code == 200, head.text
                    now = int(head.headers["upload-offset"])
                    if now == offset and now > 0:
                        break
                    offset = now
                    assert time.monotonic() < deadline
                assert 0 < offset <= total // 2 + 12345
                rest = http.patch(
                    location,
                    content=blocks_from(offset),
                    headers=fp | {"Content-Type": OFFSET, "Upload-Offset": str(offset)},
                )
                assert rest.status_code == 204, rest.text
                assert rest.headers["upload-offset"] == str(total)
            document = http.get(location, headers=fp).json()["document"]
            doc = http.get(f"{API}/documents/{document}", headers=fp).json()
            expected = hashlib.sha256()
            for chunk in blocks_from(0):
                expected.update(chunk)
            assert doc["current"]["sha256"] == expected.hexdigest()
            assert doc["current"]["size"] == total

            with Sampler(server.proc.pid) as download_memory:
                got, size = hashlib.sha256(), 0
                with http.stream("GET", doc["current"]["download"], headers=fp) as response:
                    assert response.status_code == 200
                    for chunk in response.iter_bytes():
                        got.update(chunk)
                        size += len(chunk)
            assert (size, got.hexdigest()) == (total, expected.hexdigest())

            # cited in a CMS and a CBD report of one workspace, both submitted: each
            # secretariat downloads its report's package, which holds the whole file
            submissions = asyncio.run(cite_in_two_reports(server.base, auth, document))
            # a package holds the report's PDF: the first PDF a process renders loads its
            # layout engine and fonts for good, which is not the document's doing
            for cycle in CYCLES:
                printed = http.get(
                    f"{API}/submissions/{submissions[cycle]}/export",
                    params={"format": "pdf"},
                    headers=fp,
                )
                assert printed.status_code == 200, printed.text
            rendered = rss_of(server.proc.pid)
            with Sampler(server.proc.pid) as package_memory:
                for cycle, who in (("CMS:COP15", "cms_sec"), ("CBD:NR7", "cbd_sec")):
                    target = tmp_path / f"{who}.zip"
                    url = f"{API}/submissions/{submissions[cycle]}/package"
                    with http.stream("GET", url, headers=auth[who]) as response:
                        assert response.status_code == 200
                        with target.open("wb") as out:
                            for chunk in response.iter_bytes():
                                out.write(chunk)
                    assert member_sha256(target, f"documents/{document}-v1") == expected.hexdigest()
            # the secretariat of the other convention reads neither the package nor the file
            for cycle, who in (("CMS:COP15", "cbd_sec"), ("CBD:NR7", "cms_sec")):
                sid = submissions[cycle]
                for path in (
                    f"/submissions/{sid}/package",
                    f"/submissions/{sid}/documents/{document}",
                ):
                    refused = http.get(API + path, headers=auth[who])
                    assert refused.status_code == 404, refused.text
            refused = http.get(doc["current"]["download"], headers=auth["cms_sec"])
            assert refused.status_code == 404, refused.text
    finally:
        server.stop()
    peaks = (upload_memory.peak, download_memory.peak)
    assert max(peaks) - baseline < 60 * 1024 * 1024, (baseline, peaks)
    assert package_memory.peak - rendered < 60 * 1024 * 1024, (rendered, package_memory.peak)
