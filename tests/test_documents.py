"""A Party's document library through the HTTP API: streamed uploads stored once by SHA-256
(in a folder here, on SQLite and PostgreSQL), metadata checked before a byte is stored, new
versions with the history kept, withdrawal, downloads, and the sweep of stored files no
version refers to."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.documents import service as documents_service
from cmsreporting.jobs import service as jobs_service
from tests.factories.databases import IS_POSTGRES, app_client
from tests.helpers import PROBLEM, Headers
from tests.test_cli import cli

API = "/api/v1"
LIMIT = 64 * 1024
META = {"title": "National Biodiversity Strategy", "language": "en", "type": "policy_plan"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
async def docs(db_url: str, folder: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in app_client(db_url, document_storage=str(folder), document_max_bytes=LIMIT):
        yield http


async def chunked(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    party: str = "KEN",
    **params: Any,
) -> httpx.Response:
    return await http.post(
        f"{API}/parties/{party}/documents",
        params=META | {"file_name": "nbsap.pdf"} | params,
        content=chunked(data),
        headers=dict(headers) | {"Content-Type": "application/pdf"},
    )


def stored(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def audit_actions(http: httpx.AsyncClient, auth: Headers) -> list[str]:
    events = await http.get(f"{API}/audit?limit=500", headers=auth["admin"])
    assert events.status_code == 200, events.text
    return [e["action"] for e in events.json()["items"] if e["action"].startswith("document.")]


async def test_upload_list_replace_withdraw_download(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    data = b"%PDF-1.7 " + bytes(range(256)) * 100  # several chunks
    digest = hashlib.sha256(data).hexdigest()
    made = await upload(
        docs,
        auth["ken_fp"],
        data,
        description="The NBSAP adopted in 2025",
        document_date="2025-06-30",
        targets=["GBF:T3", "SPMS:T10"],
        concepts=["nbsap.wetlands"],
        questions=["CMS:COP15:I(a).2"],
    )
    assert made.status_code == 201, made.text
    doc = made.json()
    assert made.headers["location"] == f"{API}/documents/{doc['id']}"
    assert doc["party"] == "KEN"
    assert doc["version"] == 1
    assert doc["status"] == "active"
    assert doc["current"]["sha256"] == digest
    assert doc["current"]["size"] == len(data)
    assert doc["current"]["media_type"] == "application/pdf"
    assert doc["links"] == {
        "concepts": ["nbsap.wetlands"],
        "targets": ["GBF:T3", "SPMS:T10"],
        "questions": ["CMS:COP15:I(a).2"],
    }
    assert doc["document_date"] == "2025-06-30"
    assert stored(folder) == [digest]

    # the same file again, by a contributor, as another document: stored once
    again = await upload(docs, auth["ken_contrib"], data, title="Annex", type="report")
    assert again.status_code == 201, again.text
    assert stored(folder) == [digest]

    listed = await docs.get(f"{API}/parties/KEN/documents", headers=auth["ken_fp"])
    assert [d["id"] for d in listed.json()["items"]] == [again.json()["id"], doc["id"]]
    found = await docs.get(
        f"{API}/parties/KEN/documents", params={"q": "2025 ADOPTED"}, headers=auth["ken_fp"]
    )
    assert [d["id"] for d in found.json()["items"]] == [doc["id"]]
    typed = await docs.get(
        f"{API}/parties/KEN/documents", params={"type": "report"}, headers=auth["ken_fp"]
    )
    assert [d["id"] for d in typed.json()["items"]] == [again.json()["id"]]
    paged = await docs.get(f"{API}/parties/KEN/documents?limit=1", headers=auth["ken_fp"])
    rest = await docs.get(
        f"{API}/parties/KEN/documents?limit=1&cursor={paged.json()['next_cursor']}",
        headers=auth["ken_fp"],
    )
    assert [d["id"] for d in rest.json()["items"]] == [doc["id"]]
    assert rest.json()["next_cursor"] is None

    # a new version: the history is kept and the old file still downloads
    newer = b"%PDF-1.7 revised " * 500
    replaced = await docs.post(
        f"{API}/documents/{doc['id']}/versions",
        params=META | {"title": "NBSAP (revised)", "file_name": "nbsap-2.pdf"},
        content=chunked(newer),
        headers=auth["ken_fp"] | {"Content-Type": "application/pdf"},
    )
    assert replaced.status_code == 201, replaced.text
    body = replaced.json()
    assert body["version"] == 2
    assert body["title"] == "NBSAP (revised)"
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["current"]["sha256"] == hashlib.sha256(newer).hexdigest()

    first = await docs.get(body["versions"][0]["download"], headers=auth["ken_fp"])
    assert first.status_code == 200
    assert first.content == data
    assert first.headers["content-disposition"].startswith('attachment; filename="nbsap.pdf"')
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["content-type"] == "application/pdf"
    second = await docs.get(body["current"]["download"], headers=auth["ken_contrib"])
    assert second.content == newer

    withdrawn = await docs.post(f"{API}/documents/{doc['id']}/withdraw", headers=auth["ken_fp"])
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    listed = await docs.get(f"{API}/parties/KEN/documents", headers=auth["ken_fp"])
    assert [d["id"] for d in listed.json()["items"]] == [again.json()["id"]]
    every = await docs.get(f"{API}/parties/KEN/documents?withdrawn=true", headers=auth["ken_fp"])
    assert len(every.json()["items"]) == 2
    late = await docs.post(
        f"{API}/documents/{doc['id']}/versions",
        params=META,
        content=b"more",
        headers=auth["ken_fp"],
    )
    assert late.status_code == 409, late.text

    assert await audit_actions(docs, auth) == [
        "document.withdraw",
        "document.replace",
        "document.create",
        "document.create",
    ]


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"title": ""}, "/title"),
        ({"type": "novel"}, "/type"),
        ({"language": "xx"}, "/language"),
        ({"language": "english"}, "/language"),
        ({"document_date": "2025-13-01"}, "/document_date"),
        ({"file_name": "../etc/passwd"}, "/file_name"),
        ({"concepts": ["no.such.concept"]}, "/concepts/0"),
    ],
)
async def test_bad_metadata_is_refused_and_nothing_is_stored(
    docs: httpx.AsyncClient,
    auth: Headers,
    folder: Path,
    params: dict[str, Any],
    pointer: str,
) -> None:
    refused = await upload(docs, auth["ken_fp"], b"%PDF-1.7 content", **params)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert pointer in [e["pointer"] for e in refused.json()["errors"]]
    assert stored(folder) == []
    listed = await docs.get(f"{API}/parties/KEN/documents?withdrawn=true", headers=auth["ken_fp"])
    assert listed.json()["items"] == []
    assert await audit_actions(docs, auth) == []


async def test_empty_and_too_large_files_are_refused_and_nothing_is_stored(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    empty = await upload(docs, auth["ken_fp"], b"")
    assert empty.status_code == 422, empty.text
    assert empty.headers["content-type"] == PROBLEM
    # streamed without a length: refused once the limit is passed
    big = await upload(docs, auth["ken_fp"], b"%PDF-1.7 " + b"x" * LIMIT)
    assert big.status_code == 413, big.text
    assert big.json()["max_bytes"] == LIMIT
    # with a declared length: refused before the body is read
    declared = await docs.post(
        f"{API}/parties/KEN/documents",
        params=META,
        content=b"x" * (LIMIT + 1),
        headers=auth["ken_fp"] | {"Content-Type": "application/pdf"},
    )
    assert declared.status_code == 413, declared.text
    assert stored(folder) == []
    listed = await docs.get(f"{API}/parties/KEN/documents?withdrawn=true", headers=auth["ken_fp"])
    assert listed.json()["items"] == []
    # at the limit exactly: taken
    exact = await upload(docs, auth["ken_fp"], b"%PDF-1.7 " + b"y" * (LIMIT - 9))
    assert exact.status_code == 201, exact.text


async def test_who_reads_and_writes_a_partys_library(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    for role in ("tza_fp", "cms_sec", "reviewer"):
        refused = await upload(docs, auth[role], b"%PDF-1.7 x")
        assert refused.status_code == 403, (role, refused.text)
    assert stored(folder) == []
    anonymous = await upload(docs, {}, b"%PDF-1.7 x")
    assert anonymous.status_code == 401
    made = await upload(docs, auth["ken_fp"], b"%PDF-1.7 kenya")
    doc = made.json()
    for role in ("tza_fp", "cms_sec", "cbd_sec", "reviewer"):
        for url in (f"{API}/documents/{doc['id']}", doc["current"]["download"]):
            hidden = await docs.get(url, headers=auth[role])
            assert hidden.status_code == 404, (role, url)
            assert "kenya" not in hidden.text
        listed = await docs.get(f"{API}/parties/KEN/documents", headers=auth[role])
        assert listed.status_code == 403
    admin = await docs.get(doc["current"]["download"], headers=auth["admin"])
    assert admin.content == b"%PDF-1.7 kenya"
    missing = await docs.get(f"{API}/documents/99999999999", headers=auth["admin"])
    assert missing.status_code == 404


async def test_html_is_never_stored_nor_served_as_html(
    docs: httpx.AsyncClient, auth: Headers, folder: Path
) -> None:
    for content, claimed, name in [
        (b"<script>alert(1)</script>", "text/html", "page.html"),
        (b"<html><script>alert(1)</script></html>", "text/csv", "page.csv"),
        (b"\xef\xbb\xbf  <!DOCTYPE html>", "application/octet-stream", "page.csv"),
    ]:
        made = await docs.post(
            f"{API}/parties/KEN/documents",
            params=META | {"file_name": name},
            content=content,
            headers=auth["ken_fp"] | {"Content-Type": claimed},
        )
        assert made.status_code == 415, made.text
        assert made.headers["content-type"] == PROBLEM
    assert stored(folder) == []
    assert documents_service.served_type("text/html; charset=utf-8") == "application/octet-stream"
    made = await upload(docs, auth["ken_fp"], b"%PDF-1.7 a document")
    got = await docs.get(made.json()["current"]["download"], headers=auth["ken_fp"])
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]


async def test_the_sweep_removes_files_no_version_refers_to(
    docs: httpx.AsyncClient, auth: Headers, folder: Path, db_url: str
) -> None:
    made = await upload(docs, auth["ken_fp"], b"%PDF-1.7 kept")
    kept = made.json()["current"]["sha256"]
    orphan = hashlib.sha256(b"left by a failed request").hexdigest()
    (folder / orphan).write_bytes(b"left by a failed request")
    engine = create_engine(db_url)
    try:
        settings = Settings(database_url=db_url, document_storage=str(folder))
        rt = jobs_service.Runtime(create_session_factory(engine), settings, None)  # type: ignore[arg-type]
        # within the grace period nothing goes (an upload may not have committed its row yet)
        assert await jobs_service.sweep_documents(rt) == 0
        assert stored(folder) == sorted([kept, orphan])
        rt = jobs_service.Runtime(
            rt.factory,
            settings.model_copy(update={"document_sweep_grace_seconds": 0}),
            None,  # type: ignore[arg-type]
        )
        assert await jobs_service.sweep_documents(rt) == 1
        assert stored(folder) == [kept]
    finally:
        await engine.dispose()
    got = await docs.get(made.json()["current"]["download"], headers=auth["ken_fp"])
    assert got.content == b"%PDF-1.7 kept"
    assert documents_service.SHA256.fullmatch(kept)


@pytest.mark.skipif(IS_POSTGRES, reason="on PostgreSQL the sweep is a periodic job of the queue")
async def test_the_worker_loop_sweeps_unreferenced_files(
    docs: httpx.AsyncClient,
    auth: Headers,
    folder: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = await upload(docs, auth["ken_fp"], b"%PDF-1.7 in use")
    kept = made.json()["current"]["sha256"]
    orphan = hashlib.sha256(b"orphan").hexdigest()
    (folder / orphan).write_bytes(b"orphan")
    monkeypatch.setenv("CMSREPORTING_DOCUMENT_STORAGE", str(folder))
    monkeypatch.setenv("CMSREPORTING_DOCUMENT_SWEEP_GRACE_SECONDS", "0")
    monkeypatch.setenv("CMSREPORTING_MAIL_BACKEND", "folder")
    monkeypatch.setenv("CMSREPORTING_MAIL_FOLDER", str(folder.parent / "mail"))
    done = await asyncio.to_thread(cli, db_url, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert stored(folder) == [kept]
