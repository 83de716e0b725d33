"""The document library on S3-compatible object storage.

A local S3-protocol server started by the test (moto's server mode, in a thread) stands in
for the real object storage (MinIO, Ceph, AWS S3…): uploads go through the S3 API with
aiobotocore, are stored once by SHA-256, stream back, and the sweep removes objects no
document version refers to."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session

from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.jobs import service as jobs_service
from cmsreporting.storage import PART, S3Storage
from tests.factories.databases import app_client
from tests.helpers import Headers

API = "/api/v1"
BUCKET = "cmsreporting-documents"
PREFIX = "docs/"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port, for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_endpoint


async def objects(endpoint: str) -> list[str]:
    async with get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1"
    ) as s3:
        found = await s3.list_objects_v2(Bucket=BUCKET)
        return sorted(item["Key"] for item in found.get("Contents", []))


@pytest.fixture
async def docs(db_url: str, s3_env: str) -> AsyncIterator[httpx.AsyncClient]:
    async with get_session().create_client(
        "s3", endpoint_url=s3_env, region_name="us-east-1"
    ) as s3:
        existing = await s3.list_buckets()
        if BUCKET not in [b["Name"] for b in existing.get("Buckets", [])]:
            await s3.create_bucket(Bucket=BUCKET)
        for key in await objects(s3_env):
            await s3.delete_object(Bucket=BUCKET, Key=key)
    settings: dict[str, Any] = {
        "document_storage": f"s3://{BUCKET}/{PREFIX.rstrip('/')}",
        "document_s3_endpoint_url": s3_env,
        "document_s3_region": "us-east-1",
    }
    async for http in app_client(db_url, **settings):
        yield http


async def test_documents_on_object_storage(
    docs: httpx.AsyncClient, auth: Headers, s3_env: str, db_url: str
) -> None:
    small = b"%PDF-1.7 small document"
    # over one part: a multipart upload
    large = b"%PDF-1.7 " + bytes(range(256)) * (PART // 256 + 4096)
    made = []
    for data in (small, large, small):
        response = await docs.post(
            f"{API}/parties/KEN/documents",
            params={"title": "On S3", "language": "fr", "type": "data"},
            content=data,
            headers=auth["ken_fp"] | {"Content-Type": "application/pdf"},
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    digests = sorted({hashlib.sha256(small).hexdigest(), hashlib.sha256(large).hexdigest()})
    assert await objects(s3_env) == [PREFIX + d for d in digests]  # the same file stored once

    for doc, data in zip(made, (small, large, small), strict=True):
        got = await docs.get(doc["current"]["download"], headers=auth["ken_fp"])
        assert got.status_code == 200
        assert got.content == data
    # a byte range of an object, read as a range of it
    part = await docs.get(
        made[1]["current"]["download"],
        headers=auth["ken_fp"] | {"Range": f"bytes={PART - 10}-{PART + 9}"},
    )
    assert part.status_code == 206, part.text
    assert part.content == large[PART - 10 : PART + 10]
    assert part.headers["content-range"] == f"bytes {PART - 10}-{PART + 9}/{len(large)}"

    # a resumable upload completes into the bucket too
    chunks = [b"%PDF-1.7 resumable ", b"on object storage"]
    fields = {"title": "Resumed", "language": "en", "type": "data", "filename": "r.pdf"}
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())
    tus = {"Tus-Resumable": "1.0.0"}
    started = await docs.post(
        f"{API}/parties/KEN/uploads",
        headers=auth["ken_fp"]
        | tus
        | {"Upload-Length": str(sum(map(len, chunks))), "Upload-Metadata": metadata},
    )
    assert started.status_code == 201, started.text
    offset = 0
    for chunk in chunks:
        sent = await docs.patch(
            started.headers["location"],
            content=chunk,
            headers=auth["ken_fp"]
            | tus
            | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)},
        )
        assert sent.status_code == 204, sent.text
        offset += len(chunk)
    resumed = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert PREFIX + resumed in await objects(s3_env)
    digests = sorted([*digests, resumed])

    # an object left by a request that failed after storing its file
    orphan = "0" * 64
    store = S3Storage(BUCKET, prefix=PREFIX, endpoint_url=s3_env, region="us-east-1")
    async with store._client() as s3:
        await s3.put_object(Bucket=BUCKET, Key=PREFIX + orphan, Body=b"orphan")
    assert await store.has(orphan)
    engine = create_engine(db_url)
    try:
        settings = Settings(
            database_url=db_url,
            document_storage=f"s3://{BUCKET}/docs",
            document_s3_endpoint_url=s3_env,
            document_s3_region="us-east-1",
        )
        factory = create_session_factory(engine)
        rt = jobs_service.Runtime(factory, settings, None)  # type: ignore[arg-type]
        assert await jobs_service.sweep_documents(rt) == 0  # within the grace period
        young = settings.model_copy(update={"document_sweep_grace_seconds": 0})
        rt = jobs_service.Runtime(factory, young, None)  # type: ignore[arg-type]
        assert await jobs_service.sweep_documents(rt) == 1
    finally:
        await engine.dispose()
    assert await objects(s3_env) == [PREFIX + d for d in digests]
