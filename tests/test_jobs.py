"""Cycle exports as background jobs, through the API: queued with 202 and a Location, followed
to `done` with progress, downloaded while the link lives (the same file as the synchronous
export), refused to those who may not read the cycle's export, expired and swept.

On SQLite the job runs in the server's own process; on PostgreSQL it goes through
procrastinate's queue and a worker run here until the queue is empty.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cmsreporting.config import Settings
from cmsreporting.db import utcnow
from cmsreporting.jobs import service as jobs_service
from cmsreporting.jobs.queue import run_worker
from cmsreporting.main import create_app
from tests.factories.databases import IS_POSTGRES
from tests.factories.exports import (
    PARTIES,
    Reporter,
    decide,
    export_template,
    party_values,
    publish,
)
from tests.helpers import Headers

CYCLE = "CMS:EXP1"


@dataclass
class Service:
    """An app on a fresh database with its export folder, and an HTTP client on it."""

    app: FastAPI
    http: httpx.AsyncClient
    folder: Path

    async def work(self) -> None:
        """PostgreSQL: run the queued jobs in a worker here, until the queue is empty."""
        if IS_POSTGRES:
            state = self.app.state
            rt = jobs_service.Runtime(state.session_factory, state.settings, state.storage)
            await run_worker(rt, wait=False)

    async def follow(self, location: str, headers: dict[str, str]) -> dict[str, Any]:
        """The job once it has finished (done or failed)."""
        for _ in range(300):
            await self.work()
            got = await self.http.get(location, headers=headers)
            assert got.status_code == 200, got.text
            body: dict[str, Any] = got.json()
            if body["status"] in ("done", "failed"):
                return body
            await asyncio.sleep(0.05)
        raise AssertionError(f"{location} did not finish: {body}")

    async def sql(self, statement: str, **params: Any) -> Any:
        async with self.app.state.session_factory() as session, session.begin():
            result = await session.execute(text(statement), params)
            return result.all() if result.returns_rows else None


@pytest.fixture
async def svc(db_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    folder = tmp_path / "exports"
    app = create_app(Settings(database_url=db_url, export_folder=str(folder)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Service(app, http, folder)


async def reports(http: httpx.AsyncClient, auth: Headers) -> dict[str, int]:
    """Five Parties submit; the first is accepted."""
    await publish(http, auth, export_template())
    reporter = Reporter(http, auth["admin"])
    subs = {p: await reporter.submit(p, party_values(i)) for i, p in enumerate(PARTIES[:5])}
    await decide(http, auth, subs[PARTIES[0]], "accept")
    return subs


async def test_an_export_job_runs_to_a_download_that_expires(svc: Service, auth: Headers) -> None:
    await reports(svc.http, auth)
    sec = auth["cms_sec"]
    started = await svc.http.post(
        f"/api/v1/cycles/{CYCLE}/exports",
        json={"format": "csv", "layout": "wide"},
        headers=sec | {"X-Request-ID": "export-job-test-1"},
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"/api/v1/exports/{job['id']}"
    assert job["status"] in ("queued", "running", "done")
    assert job["cycle"] == CYCLE
    assert job["options"]["layout"] == "wide"
    assert job["progress"]["total"] == 5

    done = await svc.follow(started.headers["location"], sec)
    assert done["status"] == "done", done
    assert done["progress"] == {"done": 5, "total": 5}
    assert done["runs"] == 1
    link = done["download"]
    assert link["href"] == f"/api/v1/exports/{job['id']}/download"
    assert link["filename"].startswith("CMS_EXP1_wide_")
    assert link["filename"].endswith(".csv")
    got = await svc.http.get(link["href"], headers=sec)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert f'filename="{link["filename"]}"' in got.headers["content-disposition"]
    assert len(got.content) == link["size"]
    # the same file as the synchronous export
    same = await svc.http.get(
        f"/api/v1/cycles/{CYCLE}/export", params={"format": "csv", "layout": "wide"}, headers=sec
    )
    assert got.content == same.content
    assert {row[0] for row in list(csv.reader(io.StringIO(got.text)))[1:]} == set(PARTIES[:5])

    # the job's log lines carry the id of the request that queued it (in its row)
    rows = await svc.sql("SELECT request_id FROM export_jobs WHERE id = :id", id=job["id"])
    assert rows == [("export-job-test-1",)]

    # the link expires: the status says so, the download is gone, the sweep deletes the file
    assert (svc.folder / f"export-{job['id']}.csv").is_file()
    await svc.sql(
        "UPDATE export_jobs SET expires_at = :at WHERE id = :id",
        at=(utcnow() - timedelta(seconds=1)).replace(tzinfo=None)
        if not IS_POSTGRES
        else utcnow() - timedelta(seconds=1),
        id=job["id"],
    )
    later = (await svc.http.get(started.headers["location"], headers=sec)).json()
    assert later["status"] == "expired"
    assert later["download"] is None
    gone = await svc.http.get(link["href"], headers=sec)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    state = svc.app.state
    rt = jobs_service.Runtime(state.session_factory, state.settings, state.storage)
    assert await jobs_service.sweep_exports(rt) == 1
    assert not (svc.folder / f"export-{job['id']}.csv").exists()


async def test_an_xlsx_job_and_a_reviewers_job_hold_what_they_may_read(
    svc: Service, auth: Headers
) -> None:
    subs = await reports(svc.http, auth)
    started = await svc.http.post(
        f"/api/v1/cycles/{CYCLE}/exports", json={"format": "xlsx"}, headers=auth["admin"]
    )
    assert started.status_code == 202, started.text
    done = await svc.follow(started.headers["location"], auth["admin"])
    assert done["status"] == "done", done
    book = await svc.http.get(done["download"]["href"], headers=auth["admin"])
    sheet = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True).worksheets[0]
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(
        PARTIES[:5]
    )

    # a reviewer's job holds the accepted reports only, and the reviewer cannot read the
    # admin's job (404: it holds more than a reviewer may read)
    mine = await svc.http.post(
        f"/api/v1/cycles/{CYCLE}/exports", json={"format": "jsonl"}, headers=auth["reviewer"]
    )
    assert mine.status_code == 202, mine.text
    finished = await svc.follow(mine.headers["location"], auth["reviewer"])
    assert finished["progress"] == {"done": 1, "total": 1}
    lines = (await svc.http.get(finished["download"]["href"], headers=auth["reviewer"])).text
    assert [re.search(r'"party": "(\w+)"', line)[1] for line in lines.splitlines()] == [  # type: ignore[index]
        PARTIES[0]
    ]
    assert subs[PARTIES[0]]
    hidden = await svc.http.get(started.headers["location"], headers=auth["reviewer"])
    assert hidden.status_code == 404
    hidden = await svc.http.get(done["download"]["href"], headers=auth["reviewer"])
    assert hidden.status_code == 404
    # the secretariat of the convention reads both
    for location in (started.headers["location"], mine.headers["location"]):
        assert (await svc.http.get(location, headers=auth["cms_sec"])).status_code == 200


async def test_export_jobs_refused_as_the_synchronous_export_is(
    svc: Service, auth: Headers
) -> None:
    await reports(svc.http, auth)
    base = f"/api/v1/cycles/{CYCLE}/exports"
    # a focal point, another convention's secretariat: 403, nothing queued
    for who in ("ken_fp", "cbd_sec"):
        refused = await svc.http.post(base, json={}, headers=auth[who])
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await svc.http.post(base, json={})).status_code == 401
    # an unknown cycle: 404; bad options: 422 naming the field
    assert (
        await svc.http.post("/api/v1/cycles/CMS:NOPE/exports", headers=auth["admin"])
    ).status_code == 404
    bad = await svc.http.post(base, json={"format": "pdf"}, headers=auth["admin"])
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/format"
    bad = await svc.http.post(base, json={"formats": "csv"}, headers=auth["admin"])
    assert bad.status_code == 422
    assert await svc.sql("SELECT count(*) FROM export_jobs") == [(0,)]

    # a job of the CMS secretariat: not readable by a focal point or the CBD secretariat (403)
    started = await svc.http.post(base, headers=auth["cms_sec"])
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    for who in ("ken_fp", "cbd_sec"):
        assert (await svc.http.get(location, headers=auth[who])).status_code == 403
        assert (await svc.http.get(location + "/download", headers=auth[who])).status_code == 403
    # ids that name no job, however large
    for missing in ("999999", str(2**31), str(2**63)):
        got = await svc.http.get(f"/api/v1/exports/{missing}", headers=auth["admin"])
        assert got.status_code == 404, got.text
    done = await svc.follow(location, auth["cms_sec"])
    assert done["status"] == "done"
    assert done["options"]["format"] == "xlsx"  # the default


async def test_queue_depth_in_metrics(svc: Service, auth: Headers) -> None:
    metrics = await svc.http.get("/metrics")
    assert metrics.status_code == 200
    assert 'cmsreporting_jobs_queued{queue="exports"} 0.0' in metrics.text
    assert "cmsreporting_jobs_oldest_queued_seconds" in metrics.text


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's in-process jobs; PostgreSQL: test_worker.py")
async def test_a_server_that_starts_runs_the_exports_a_stopped_one_left(
    svc: Service, auth: Headers, db_url: str, tmp_path: Path
) -> None:
    await reports(svc.http, auth)
    # what a server stopped in the middle of an export leaves: a job running, not moving
    await svc.sql(
        "INSERT INTO export_jobs (cycle_ref, convention_code, params, only_accepted, status, "
        "attempts, done_parties, total_parties, created_at, updated_at, started_at) VALUES "
        "(:cycle, 'CMS', :params, 0, 'running', 1, 2, 5, :at, :at, :at)",
        cycle=CYCLE,
        params='{"format": "jsonl", "layout": "long", "values": "codes", "guard": true}',
        at=(utcnow() - timedelta(minutes=5)).replace(tzinfo=None),
    )
    [(export_id,)] = await svc.sql("SELECT max(id) FROM export_jobs")
    app = create_app(Settings(database_url=db_url, export_folder=str(svc.folder)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            restarted = Service(app, http, svc.folder)
            done = await restarted.follow(f"/api/v1/exports/{export_id}", auth["admin"])
    assert done["status"] == "done", done
    assert done["runs"] == 2
    assert done["progress"] == {"done": 5, "total": 5}
    assert len((svc.folder / f"export-{export_id}.jsonl").read_text().splitlines()) == 5
