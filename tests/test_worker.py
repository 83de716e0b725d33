"""`cmsreporting worker` processes: a worker killed in the middle of an export leaves it to the
next one, which completes it once; workers deliver the outbox's e-mail.

The export is held in the middle by a lock the test takes on the submissions table: the first
worker has claimed the job and marked it running, and waits for the lock to read the reports.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.mail import outbox
from cmsreporting.main import create_app
from tests.factories.databases import IS_POSTGRES
from tests.factories.exports import PARTIES, Reporter, export_template, party_values, publish
from tests.factories.processes import Worker
from tests.helpers import Headers

CYCLE = "CMS:EXP1"
FAST_BEATS = {
    "CMSREPORTING_WORKER_HEARTBEAT_SECONDS": "0.5",
    "CMSREPORTING_WORKER_STALLED_SECONDS": "3",
}


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Workers to stop at the end of the test, whatever happens."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API in the test's process (its jobs go to the queue in the database)."""
    settings = Settings(database_url=db_url, export_folder=str(tmp_path / "exports"))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def _status(http: httpx.AsyncClient, location: str, headers: dict[str, str]) -> Any:
    got = await http.get(location, headers=headers)
    assert got.status_code == 200, got.text
    return got.json()


async def _until(
    http: httpx.AsyncClient, location: str, headers: dict[str, str], *statuses: str
) -> Any:
    deadline = time.monotonic() + 60
    while True:
        body = await _status(http, location, headers)
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)


@pytest.mark.skipif(not IS_POSTGRES, reason="the job queue of several processes is PostgreSQL's")
async def test_a_worker_killed_mid_export_leaves_it_to_another_that_completes_it_once(
    api: httpx.AsyncClient,
    auth: Headers,
    db_url: str,
    tmp_path: Path,
    workers: list[Worker],
) -> None:
    await publish(api, auth, export_template())
    reporter = Reporter(api, auth["admin"])
    for i, party in enumerate(PARTIES[:4]):
        await reporter.submit(party, party_values(i))
    sec = auth["cms_sec"]
    folder = tmp_path / "exports"
    env = FAST_BEATS | {"CMSREPORTING_EXPORT_FOLDER": str(folder)}

    started = await api.post(f"/api/v1/cycles/{CYCLE}/exports", json={"format": "csv"}, headers=sec)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    engine = create_engine(db_url)
    try:
        async with engine.connect() as blocker:
            # the first worker will claim the job, then wait here to read the reports
            await blocker.execute(text("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE"))
            first = Worker(db_url, tmp_path / "worker-1.log", "--name", "first", env=env)
            workers.append(first)
            running = await _until(api, location, sec, "running", "done", "failed")
            assert running["status"] == "running"
            assert running["runs"] == 1
            first.kill()
            await blocker.rollback()
    finally:
        await engine.dispose()
    # the job stays running: nobody finishes it until a worker sees the first one is dead
    await asyncio.sleep(3.5)
    assert (await _status(api, location, sec))["status"] == "running"

    second = Worker(db_url, tmp_path / "worker-2.log", "--name", "second", env=env)
    workers.append(second)
    done = await _until(api, location, sec, "done", "failed")
    assert done["status"] == "done", done
    assert done["runs"] == 2
    assert done["progress"] == {"done": 4, "total": 4}
    retried = second.wait_for("job.retried")
    assert retried["task"] == "cmsreporting:export"

    got = await api.get(done["download"]["href"], headers=sec)
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert {row["party"] for row in rows} == set(PARTIES[:4])
    same = await api.get(f"/api/v1/cycles/{CYCLE}/export", params={"format": "csv"}, headers=sec)
    assert got.content == same.content
    # one file, nothing partial left; done once in the audit log
    assert sorted(p.name for p in folder.iterdir()) == [f"export-{done['id']}.csv"]
    audit = await api.get(
        "/api/v1/audit", params={"target_type": "export", "limit": 100}, headers=auth["admin"]
    )
    assert audit.status_code == 200, audit.text
    actions = [e["action"] for e in audit.json()["items"] if e["target_id"] == str(done["id"])]
    assert sorted(actions) == ["export.done", "export.queue"]
    # the queue holds no job of it any more (succeeded jobs are deleted)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            left = (
                await conn.execute(
                    text("SELECT status FROM procrastinate_jobs WHERE task_name = :t"),
                    {"t": "cmsreporting:export"},
                )
            ).all()
    finally:
        await engine.dispose()
    assert left == []


async def test_a_worker_delivers_the_outbox(
    db_url: str, tmp_path: Path, workers: list[Worker]
) -> None:
    engine = create_engine(db_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            queued = await outbox.enqueue(
                session,
                actor="test",
                key="worker-test:1",
                kind="deadline.reminder",
                recipient="fp@example.org",
                language="fr",
                fields={
                    "name": "Focal point",
                    "convention": "CMS",
                    "party": "Kenya",
                    "cycle": "COP15",
                    "days": 7,
                    "due_on": "2026-12-10",
                    "link": "http://127.0.0.1:8000/ui/",
                },
            )
            assert queued
    finally:
        await engine.dispose()
    mail = tmp_path / "mail"
    env = {"CMSREPORTING_MAIL_BACKEND": "folder", "CMSREPORTING_MAIL_FOLDER": str(mail)}
    args = () if IS_POSTGRES else ("--once",)
    worker = Worker(db_url, tmp_path / "worker.log", *args, env=env)
    workers.append(worker)
    deadline = time.monotonic() + 60
    while not list(mail.glob("*.eml")):
        assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
        if not IS_POSTGRES and worker.proc.poll() is not None:
            break
        await asyncio.sleep(0.2)
    [message] = mail.glob("*.eml")
    assert "To: fp@example.org" in message.read_text()
