"""Reliability of the real server process (uvicorn started by `cmsreporting serve`).

- No lost updates: 50 concurrent writers of one answer slot, all based on the same revision;
  then each loser retries with the revision its 409 names until it wins.
- Crash safety: the server is killed with SIGKILL while submissions to several cycles and
  answer saves are in flight, and restarted on the same database: every submission is complete
  or absent (all cycles of a request or none), no acknowledged save is lost, /health answers.

The server listens on 127.0.0.1 only, on a free port, and is talked to over real HTTP. Its
database is the test's own copy (`db_url`): a SQLite file, or a PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

Headers = dict[str, dict[str, str]]

API = "/api/v1"
START_TIMEOUT = 45.0  # seconds for the server to answer /health
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A `cmsreporting serve --no-load` process on 127.0.0.1."""

    db_url: str
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until /health answers 200."""
        assert self.proc is None
        self.port = _free_port()
        self.starts += 1
        env = os.environ | {"CMSREPORTING_DATABASE_URL": self.db_url, "COLUMNS": "200"}
        env.pop("CMSREPORTING_TEST_DATABASE_URL", None)
        with self.log.open("a") as out:
            out.write(f"\n--- start {self.starts} on port {self.port}\n")
            out.flush()
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [
                    sys.executable,
                    "-m",
                    "cmsreporting.cli",
                    "serve",
                    "--no-load",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                health = httpx.get(f"{self.base_url}/health", timeout=2)
                if health.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, open transactions are cut."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)
        self.proc = None

    def stop(self) -> None:
        """Terminate the process if it runs (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.proc = None

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTP client of this server with enough connections for the tests' concurrency."""
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=REQUEST_TIMEOUT, limits=limits, **kwargs
        )


@contextmanager
def running(db_url: str, tmp_path: Path) -> Iterator[Server]:
    """A started server, stopped at the end whatever happens."""
    server = Server(db_url=db_url, log=tmp_path / "serve.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


async def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200,)), (
        response.request.method,
        response.request.url,
        response.status_code,
        response.text[:1000],
    )
    if response.status_code == 204:
        return {}
    body: dict[str, Any] = response.json()
    return body


async def _members(http: httpx.AsyncClient, admin: dict[str, str], party: str, *conv: str) -> None:
    for convention in conv:
        await _ok(
            await http.put(
                f"{API}/parties/{party}/memberships/{convention}", json={}, headers=admin
            ),
            200,
            201,
        )


async def _audit(http: httpx.AsyncClient, admin: dict[str, str], **params: str) -> list[Any]:
    """Every audit event matching the filters (all pages)."""
    events: list[Any] = []
    cursor: str | None = None
    for _ in range(1000):
        query = params | {"limit": "500"} | ({"cursor": cursor} if cursor else {})
        page = await _ok(await http.get(f"{API}/audit", params=query, headers=admin))
        events.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return events
    raise AssertionError("audit pages never ended")


# --- b. lost updates ------------------------------------------------------------------------

WRITERS = 50
SLOT = "CMS:COP15:I(a).1"  # a free-text question of the bundled CMS template
MAX_TRIES = 400  # per writer in the retry phase; 50 writers need at most 50 rounds in theory


def _conflict(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    assert error["slot"] == SLOT, body
    return dict(error)


async def test_concurrent_writers_of_one_slot_lose_nothing(
    db_url: str, auth: Headers, tmp_path: Path
) -> None:
    with running(db_url, tmp_path) as server:
        async with server.client() as http:
            await asyncio.wait_for(_lost_updates(http, auth), timeout=120)


async def _write(
    http: httpx.AsyncClient, headers: dict[str, str], wid: int, value: str, base: int
) -> httpx.Response:
    return await http.patch(
        f"{API}/workspaces/{wid}/answers",
        json={"answers": [{"slot": SLOT, "value": value, "base_revision": base}]},
        headers=headers,
    )


async def _lost_updates(http: httpx.AsyncClient, auth: Headers) -> None:
    admin, fp = auth["admin"], auth["ken_fp"]
    await _members(http, admin, "KEN", "CMS")
    made = await _ok(
        await http.post(
            f"{API}/workspaces", json={"party": "KEN", "cycles": ["CMS:COP15"]}, headers=fp
        ),
        201,
    )
    wid: int = made["id"]
    values = [f"writer {i:02d}" for i in range(WRITERS)]

    # phase 1: every writer bases its write on revision 0 (the slot was never written)
    first = await asyncio.gather(*(_write(http, fp, wid, v, 0) for v in values))
    statuses = [r.status_code for r in first]
    assert sorted(set(statuses)) == [200, 409], statuses
    assert statuses.count(200) == 1, statuses
    winner = statuses.index(200)
    (saved,) = (await _ok(first[winner]))["answers"]
    assert (saved["slot"], saved["value"], saved["revision"]) == (SLOT, values[winner], 1)
    for response in first:
        if response.status_code == 409:
            conflict = _conflict(response.json())
            # a loser is told the state it lost to: revision 1 and the winner's value
            assert (conflict["current_revision"], conflict["current_value"]) == (
                1,
                values[winner],
            ), conflict
    stored = await _ok(await http.get(f"{API}/workspaces/{wid}/answers", headers=fp))
    assert [(a["slot"], a["value"], a["revision"]) for a in stored["answers"]] == [
        (SLOT, values[winner], 1)
    ]

    # phase 2: each loser retries with the revision its last 409 named, until it wins
    won: dict[int, str] = {1: values[winner]}  # revision -> the value of the write that made it

    async def retry(i: int, base: int) -> None:
        value = f"{values[i]} retried"
        for _ in range(MAX_TRIES):
            response = await _write(http, fp, wid, value, base)
            if response.status_code == 200:
                (answer,) = response.json()["answers"]
                assert answer["value"] == value
                assert answer["revision"] not in won, ("two writes made one revision", answer)
                won[answer["revision"]] = value
                return
            assert response.status_code == 409, response.text
            conflict = _conflict(response.json())
            assert conflict["current_revision"] > base, conflict
            base = conflict["current_revision"]
        raise AssertionError(f"writer {i} did not succeed in {MAX_TRIES} tries")

    losers = [i for i in range(WRITERS) if i != winner]
    await asyncio.gather(*(retry(i, 1) for i in losers))

    assert sorted(won) == list(range(1, WRITERS + 1)), sorted(won)
    stored = await _ok(await http.get(f"{API}/workspaces/{wid}/answers", headers=fp))
    (final,) = stored["answers"]
    # the revision counts the writes: 1 + one per successful retry
    assert final["revision"] == 1 + len(losers) == WRITERS
    assert final["value"] == won[final["revision"]]

    # every successful write is in the audit trail once, with its value and revision
    events = await _audit(http, admin, target_type="workspace", target_id=str(wid))
    writes = [e for e in events if e["action"] == "answer.write"]
    assert sorted((e["after"]["revision"], e["after"]["value"]) for e in writes) == sorted(
        won.items()
    )
    assert all(e["after"]["slot"] == SLOT for e in writes)


# --- c. crash safety ------------------------------------------------------------------------

PARTIES = ["KEN", "TZA", "UGA", "RWA", "ETH", "GHA", "SEN", "MLI", "NER", "ZMB", "MWI", "MOZ"]
CONVENTIONS = ["RAMSAR", "CITES", "WHC"]  # cycles made for the test, one per convention
# each round kills the server once this many requests have been answered (so the rest are in
# flight): early (most submissions still running), in the middle, late
KILL_AFTER = [1, 12, 40]
CHAIN = 25  # answer saves per workspace and round, each based on the previous one's revision


def _template(convention: str, cycle: str) -> dict[str, Any]:
    """A small template: two required questions (answered before submitting) and an optional
    one (written while the submissions run)."""
    return {
        "convention": convention,
        "cycle": cycle,
        "version": "1.0.0",
        "languages": ["en"],
        "title": {"en": f"Crash test report {cycle}"},
        "sections": [
            {
                "id": "S",
                "title": {"en": "Section"},
                "questions": [
                    {"id": "Q1", "type": "text", "text": {"en": "Name"}, "required": True},
                    {
                        "id": "Q2",
                        "type": "number",
                        "integer": True,
                        "text": {"en": "Count"},
                        "required": True,
                    },
                    {"id": "Q3", "type": "text", "text": {"en": "Notes"}},
                ],
            }
        ],
    }


async def _crash_cycles(http: httpx.AsyncClient, admin: dict[str, str], code: str) -> list[str]:
    """One new cycle per test convention, each with a published small template."""
    refs = []
    for convention in CONVENTIONS:
        await _ok(
            await http.post(
                f"{API}/cycles",
                json={
                    "convention": convention,
                    "code": code,
                    "title": f"Crash round {code}",
                    "opens_on": "2030-01-01",
                    "due_on": "2030-12-31",
                },
                headers=admin,
            ),
            201,
        )
        made = await _ok(
            await http.post(f"{API}/templates", json=_template(convention, code), headers=admin),
            201,
        )
        await _ok(await http.post(f"{API}/templates/{made['id']}/publish", headers=admin))
        refs.append(f"{convention}:{code}")
    return refs


@dataclass
class Round:
    """What one round sent, and what the server acknowledged before it was killed."""

    refs: list[str]
    workspaces: dict[str, int]  # party -> workspace id
    prefilled: dict[str, dict[str, Any]]  # party -> slot -> value answered before submitting
    submitted: dict[str, list[int]] = field(default_factory=dict)  # party -> acknowledged ids
    saves: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)
    answered: int = 0  # responses received (any status)
    failed: int = 0  # requests cut by the kill (transport errors)


async def _prepare_round(http: httpx.AsyncClient, admin: dict[str, str], number: int) -> Round:
    refs = await _crash_cycles(http, admin, f"CRASH{number}")
    workspaces: dict[str, int] = {}
    prefilled: dict[str, dict[str, Any]] = {}
    for party in PARTIES:
        made = await _ok(
            await http.post(
                f"{API}/workspaces",
                json={"party": party, "cycles": refs, "carry_forward": False},
                headers=admin,
            ),
            201,
        )
        workspaces[party] = made["id"]
        prefilled[party] = {}
        for ref in refs:
            prefilled[party][f"{ref}:Q1"] = f"{party} agency {number}"
            prefilled[party][f"{ref}:Q2"] = len(party) * 100 + number
        await _ok(
            await http.patch(
                f"{API}/workspaces/{made['id']}/answers",
                json={
                    "answers": [
                        {"slot": s, "value": v, "base_revision": 0}
                        for s, v in prefilled[party].items()
                    ]
                },
                headers=admin,
            )
        )
    return Round(refs=refs, workspaces=workspaces, prefilled=prefilled)


async def _fire(server: Server, admin: dict[str, str], state: Round, kill_after: int) -> None:
    """Submit every workspace's cycles and save answers concurrently; SIGKILL the server once
    `kill_after` responses have come back."""
    enough = asyncio.Event()

    def answered() -> None:
        state.answered += 1
        if state.answered >= kill_after:
            enough.set()

    async def submit(http: httpx.AsyncClient, party: str) -> None:
        wid = state.workspaces[party]
        try:
            response = await http.post(
                f"{API}/workspaces/{wid}/submit",
                json={"cycles": state.refs},
                headers=admin | {"Idempotency-Key": f"crash-{party}-{state.refs[0]}"},
            )
        except httpx.TransportError:
            state.failed += 1
            return
        answered()
        assert response.status_code == 201, response.text
        state.submitted[party] = [s["id"] for s in response.json()["submissions"]]

    async def saves(http: httpx.AsyncClient, party: str, ref: str) -> None:
        wid, slot, revision = state.workspaces[party], f"{ref}:Q3", 0
        for n in range(CHAIN):
            value = f"{party} note {n}"
            try:
                response = await http.patch(
                    f"{API}/workspaces/{wid}/answers",
                    json={"answers": [{"slot": slot, "value": value, "base_revision": revision}]},
                    headers=admin,
                )
            except httpx.TransportError:
                state.failed += 1
                return
            answered()
            assert response.status_code == 200, response.text
            (answer,) = response.json()["answers"]
            revision = answer["revision"]
            state.saves[(wid, slot)] = (revision, value)

    async def killer() -> None:
        try:
            await asyncio.wait_for(enough.wait(), timeout=30)
        finally:
            server.kill()

    async with server.client() as http:
        tasks = [submit(http, p) for p in PARTIES]
        tasks += [saves(http, p, ref) for p in PARTIES for ref in state.refs]
        await asyncio.gather(killer(), *tasks)


async def _check_after_restart(
    http: httpx.AsyncClient, admin: dict[str, str], state: Round
) -> None:
    health = await http.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["database"] == "ok"
    for party, wid in state.workspaces.items():
        listed = await _ok(
            await http.get(
                f"{API}/submissions", params={"party": party, "limit": 500}, headers=admin
            )
        )
        mine = [s for s in listed["items"] if s["workspace_id"] == wid]
        # all or nothing: every cycle of the request has its submission, or none has
        assert sorted(s["cycle"] for s in mine) in ([], sorted(state.refs)), (party, mine)
        if party in state.submitted:  # acknowledged before the kill: it must have survived
            assert sorted(s["id"] for s in mine) == sorted(state.submitted[party]), party
        for summary in mine:
            detail = await _ok(await http.get(f"{API}/submissions/{summary['id']}", headers=admin))
            for question in ("Q1", "Q2"):
                slot = f"{summary['cycle']}:{question}"
                assert detail["values"][question] == state.prefilled[party][slot], detail
        # retrying with the same key is safe: the first result, or the submission now
        retried = await http.post(
            f"{API}/workspaces/{wid}/submit",
            json={"cycles": state.refs},
            headers=admin | {"Idempotency-Key": f"crash-{party}-{state.refs[0]}"},
        )
        assert retried.status_code == 201, retried.text
        ids = sorted(s["id"] for s in retried.json()["submissions"])
        if mine:
            assert ids == sorted(s["id"] for s in mine), party
        assert len(ids) == len(state.refs)
    # no acknowledged save is lost: the slot holds it, or a later write
    for (wid, slot), (revision, value) in state.saves.items():
        stored = await _ok(await http.get(f"{API}/workspaces/{wid}/answers", headers=admin))
        current = {a["slot"]: a for a in stored["answers"]}[slot]
        assert current["revision"] >= revision, (slot, current, revision)
        if current["revision"] == revision:
            assert current["value"] == value, (slot, current, value)


async def test_killed_server_keeps_every_acknowledged_write(
    db_url: str, auth: Headers, tmp_path: Path
) -> None:
    admin = auth["admin"]
    with running(db_url, tmp_path) as server:
        async with server.client() as http:
            for party in PARTIES:
                await _members(http, admin, party, *CONVENTIONS)
        for number, kill_after in enumerate(KILL_AFTER, start=1):
            async with server.client() as http:
                state = await asyncio.wait_for(_prepare_round(http, admin, number), timeout=60)
            await asyncio.wait_for(_fire(server, admin, state, kill_after), timeout=60)
            # the kill came while requests were still running
            assert state.failed > 0, state
            server.start()
            async with server.client() as http:
                await asyncio.wait_for(_check_after_restart(http, admin, state), timeout=60)
        async with server.client() as http:
            health = await http.get("/health")
            assert health.status_code == 200
