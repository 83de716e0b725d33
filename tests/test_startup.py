"""Server processes as an operator starts them: JSON logs, metrics over several workers, several
servers starting together on one database, and a release job that migrates.

Servers listen on 127.0.0.1 only, on free ports; their output goes to files (not a terminal,
so their logs are JSON lines).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cmsreporting.bootstrap import bundled_template_files
from cmsreporting.migrate import head_revision
from tests.factories.databases import IS_POSTGRES, admin_sql, pg_url
from tests.factories.processes import START_TIMEOUT, Server


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers to stop at the end of the test, whatever happens."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture
async def empty_db(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: never migrated."""
    if IS_POSTGRES:
        name = f"cmsr_empty_{uuid.uuid4().hex[:12]}"
        await admin_sql(f'CREATE DATABASE "{name}"')
        yield pg_url(name)
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


def _counter(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_two_workers_log_json_and_share_metrics(
    db_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = Server(db_url, tmp_path / "serve.log", "--workers", "2", "--no-load")
    servers.append(server)
    server.wait_live()
    sent = 0

    def answering() -> set[int]:
        return {r["pid"] for r in server.records() if r.get("logger") == "cmsreporting.access"}

    deadline = time.monotonic() + START_TIMEOUT
    while sum("startup complete" in r["message"] for r in server.records()) < 2:
        assert time.monotonic() < deadline, server.log.read_text()[-3000:]
        time.sleep(0.2)

    def one(n: int) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as single:
            reply = single.get("/api/v1/cycles/CMS:COP15", headers={"X-Request-ID": f"ops-{n}"})
        assert reply.status_code == 200
        assert reply.headers["x-request-id"] == f"ops-{n}"

    with httpx.Client(base_url=server.base, timeout=30) as http, ThreadPoolExecutor(8) as pool:
        # batches of 8 at once until both workers have answered some (at most 400 requests)
        while sent < 16 or (len(answering()) < 2 and sent < 400):
            list(pool.map(one, range(sent, sent + 8)))
            sent += 8
        assert len(answering()) >= 2
        # a request is counted once its response is sent: the last may lag the client a little
        deadline = time.monotonic() + 10
        while True:
            served = _counter(
                http.get("/metrics").text,
                "cmsreporting_http_requests_total",
                method="GET",
                route="/api/v1/cycles/{ref}",
                status="200",
            )
            if served >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert served == sent  # whichever worker answered, every request is counted once
    server.stop()
    lines = [r for r in server.records() if r.get("logger") == "cmsreporting.access"]
    by_id = {r["request_id"]: r for r in lines}
    assert {f"ops-{i}" for i in range(sent)} <= by_id.keys()
    line = by_id["ops-0"]
    assert line["route"] == "/api/v1/cycles/{ref}"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["level"] == "info"


async def _ready(base: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        return await http.get("/health/ready")


def test_no_migrate_then_release_job(empty_db: str, tmp_path: Path, servers: list[Server]) -> None:
    server = Server(empty_db, tmp_path / "serve.log", "--no-migrate")
    servers.append(server)
    server.wait_live()
    behind = asyncio.run(_ready(server.base))
    assert behind.status_code == 503
    assert behind.json()["database"] == "behind"
    events = [r.get("event") for r in server.records()]
    assert "behind" in events
    assert "migrated" not in events

    env = os.environ | {"CMSREPORTING_DATABASE_URL": empty_db}
    env.pop("CMSREPORTING_TEST_DATABASE_URL", None)
    job = subprocess.run(
        [sys.executable, "-m", "cmsreporting.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert job.returncode == 0, job.stderr
    ready = asyncio.run(_ready(server.base))
    assert ready.status_code == 200, ready.text
    assert ready.json()["revision"] == head_revision()


@pytest.mark.skipif(not IS_POSTGRES, reason="the startup lock is PostgreSQL's advisory lock")
def test_three_servers_start_together_on_one_database(
    empty_db: str, tmp_path: Path, servers: list[Server]
) -> None:
    for n in range(3):
        servers.append(Server(empty_db, tmp_path / f"serve-{n}.log"))
    for server in servers:
        server.wait_live()
    for server in servers:
        ready = asyncio.run(_ready(server.base))
        assert ready.status_code == 200, ready.text
    events = [r.get("event") for server in servers for r in server.records()]
    assert events.count("migrated") == 1
    assert events.count("loaded") == 1
    errors = [r for server in servers for r in server.records() if r["level"] == "error"]
    assert errors == []

    async def count_templates() -> int:
        from sqlalchemy import text

        from cmsreporting.db import create_engine

        engine = create_engine(empty_db)
        try:
            async with engine.connect() as conn:
                return int(
                    (await conn.execute(text("SELECT count(*) FROM templates"))).scalar_one()
                )
        finally:
            await engine.dispose()

    assert asyncio.run(count_templates()) == len(bundled_template_files())
