"""Two server processes and a worker on one PostgreSQL database, as README's "Deployment"
describes: saves, submissions and an export job driven through both servers, each change made
through one server relied on through the other only after the caches' documented delays.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories.databases import IS_POSTGRES
from tests.factories.exports import export_template, party_values, publish
from tests.factories.processes import Process, Server, Worker
from tests.helpers import Headers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not IS_POSTGRES, reason="several servers share a PostgreSQL database"),
]

CYCLE = "CMS:EXP1"
CACHE_SECONDS = 1.0  # CMSREPORTING_AUTH_CACHE_SECONDS and _TEMPLATE_CACHE_SECONDS below


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes to stop at the end of the test, whatever happens."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


async def _until_done(
    http: httpx.AsyncClient, location: str, headers: dict[str, str]
) -> dict[str, object]:
    deadline = time.monotonic() + 90
    while True:
        got = await http.get(location, headers=headers)
        assert got.status_code == 200, got.text
        body: dict[str, object] = got.json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)


async def test_two_servers_and_a_worker_on_one_database(
    db_url: str, tmp_path: Path, auth: Headers, processes: list[Process]
) -> None:
    env = {
        "CMSREPORTING_EXPORT_FOLDER": str(tmp_path / "exports"),  # the shared volume
        "CMSREPORTING_AUTH_CACHE_SECONDS": str(CACHE_SECONDS),
        "CMSREPORTING_TEMPLATE_CACHE_SECONDS": str(CACHE_SECONDS),
    }
    one = Server(db_url, tmp_path / "serve-1.log", "--no-migrate", env=env)
    two = Server(db_url, tmp_path / "serve-2.log", "--no-migrate", env=env)
    worker = Worker(db_url, tmp_path / "worker.log", env=env)
    processes.extend([one, two, worker])
    for server in (one, two):
        server.wait_live()
    worker.wait_for("worker.started")
    admin, sec = auth["admin"], auth["cms_sec"]
    async with (
        httpx.AsyncClient(base_url=one.base, timeout=30) as a,
        httpx.AsyncClient(base_url=two.base, timeout=30) as b,
    ):
        for http in (a, b):
            ready = await http.get("/health/ready")
            assert ready.status_code == 200, ready.text

        # a template published through one server is there through the other
        await publish(a, auth, export_template())
        await asyncio.sleep(CACHE_SECONDS + 0.5)
        assert (await b.get(f"/api/v1/cycles/{CYCLE}")).status_code == 200

        # workspaces made through either server; saves alternate between them, and a save
        # based on a revision the other server has moved on from is refused: no lost write
        workspaces = {}
        for party, http in (("KEN", a), ("TZA", b)):
            member = await http.put(
                f"/api/v1/parties/{party}/memberships/CMS", json={}, headers=admin
            )
            assert member.status_code in (200, 201), member.text
            made = await http.post(
                "/api/v1/workspaces", json={"party": party, "cycles": [CYCLE]}, headers=admin
            )
            assert made.status_code == 201, made.text
            workspaces[party] = made.json()["id"]
        slot = f"{CYCLE}:A.2"
        path = f"/api/v1/workspaces/{workspaces['KEN']}/answers"
        first = await a.patch(
            path, json={"answers": [{"slot": slot, "value": 1, "base_revision": 0}]}, headers=admin
        )
        assert first.status_code == 200, first.text
        stale = await b.patch(
            path, json={"answers": [{"slot": slot, "value": 2, "base_revision": 0}]}, headers=admin
        )
        assert stale.status_code == 409, stale.text
        current = {
            x["slot"]: x["revision"] for x in (await b.get(path, headers=admin)).json()["answers"]
        }
        second = await b.patch(
            path,
            json={"answers": [{"slot": slot, "value": 2, "base_revision": current[slot]}]},
            headers=admin,
        )
        assert second.status_code == 200, second.text

        # each Party answers everything through one server and submits through the other
        for i, (party, save, submit) in enumerate((("KEN", a, b), ("TZA", b, a))):
            answers_path = f"/api/v1/workspaces/{workspaces[party]}/answers"
            stored = {
                x["slot"]: x["revision"]
                for x in (await save.get(answers_path, headers=admin)).json()["answers"]
            }
            batch = [
                {"slot": f"{CYCLE}:{q}", "value": v, "base_revision": stored.get(f"{CYCLE}:{q}", 0)}
                for q, v in party_values(i).items()
            ]
            saved = await save.patch(answers_path, json={"answers": batch}, headers=admin)
            assert saved.status_code == 200, saved.text
            submitted = await submit.post(
                f"/api/v1/workspaces/{workspaces[party]}/submit",
                json={"cycles": [CYCLE]},
                headers=admin | {"Idempotency-Key": uuid.uuid4().hex},
            )
            assert submitted.status_code == 201, submitted.text

        # a token revoked through one server is refused by the other within the auth delay
        made = await a.post("/api/v1/me/tokens", json={"label": "short"}, headers=sec)
        assert made.status_code == 201, made.text
        temporary = {"Authorization": f"Bearer {made.json()['token']}"}
        assert (await b.get(f"/api/v1/cycles/{CYCLE}/status", headers=temporary)).status_code == 200
        revoked = await a.delete(f"/api/v1/me/tokens/{made.json()['id']}", headers=sec)
        assert revoked.status_code in (200, 204), revoked.text
        await asyncio.sleep(CACHE_SECONDS + 0.5)
        assert (await b.get(f"/api/v1/cycles/{CYCLE}/status", headers=temporary)).status_code == 401

        # an export job queued through one server, run by the worker, followed and downloaded
        # through the other: the same file as the synchronous export
        started = await a.post(
            f"/api/v1/cycles/{CYCLE}/exports", json={"format": "csv"}, headers=sec
        )
        assert started.status_code == 202, started.text
        done = await _until_done(b, started.headers["location"], sec)
        assert done["status"] == "done", done
        assert done["progress"] == {"done": 2, "total": 2}
        link = done["download"]
        assert isinstance(link, dict)
        file = await b.get(link["href"], headers=sec)
        assert file.status_code == 200
        same = await a.get(f"/api/v1/cycles/{CYCLE}/export", params={"format": "csv"}, headers=sec)
        assert file.content == same.content
        assert {"KEN", "TZA"} <= {line.split(",")[0] for line in file.text.splitlines()[1:]}

        metrics = await a.get("/metrics")
        assert 'cmsreporting_jobs_queued{queue="exports"} 0.0' in metrics.text
    assert any(r.get("event") == "export.done" for r in worker.records())
    for process in (one, two, worker):
        errors = [r for r in process.records() if r.get("level") == "error"]
        assert errors == [], errors
