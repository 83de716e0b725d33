"""Benchmark of one submission to 5 cycles at once, through the real HTTP server.

    .venv/bin/python -m bench.submit [--db sqlite|postgresql|both] [--workspaces 60]
                                     [--pg-url URL] [--profile]

For each database it creates a fresh database (a SQLite file in a temporary folder, or the
PostgreSQL database ``cmsr_bench_submit_<pid>``, dropped at the end), migrates it, loads the
reference data, and sets up the workload of bench/projection.py: 5 cycles (CMS, AEWA, CBD, CITES,
RAMSAR ``BENCH-2026``) with their 500-question templates published, the concepts and the 1,000
approved exactMatch/closeMatch mappings that bind 40 % of each template's questions (through
the crosswalk service, which checks every transform), and, for each of the first Parties by ISO
code, the memberships of the 5 conventions, a focal point user with a bearer token (as
tests/conftest.py makes them) and a workspace on the 5 cycles, fully answered (every concept and
every native slot; bulk ``INSERT`` of the answers, no HTTP).

It then starts the real server (``python -m cmsreporting.cli serve --no-load``, one worker, on
127.0.0.1) and, after a warm-up, goes through the workspaces one after the other: for each one
``GET /health``, ``GET /api/v1/workspaces/{id}/preview/{cycle}`` (one cycle) and
``POST /api/v1/workspaces/{id}/submit`` with the 5 cycles and an Idempotency-Key, each timed
on the client (httpx, one kept-alive connection, until the whole response is read), with the
server process's CPU time read from /proc around each request. Every submission must answer
201 with 5 version-1 submissions. When the target is missed (or with ``--profile``), a fresh
process runs more submissions in-process (httpx.ASGITransport, the same app and database):
plain, after ``gc.freeze()``, with the collector off and under cProfile, counting garbage
collections and the JSON the driver decodes; then it times the steps of a submission one by
one (``contexts``, ``answer_values``, ``concepts_by_key``, ``project``…) and
``submissions.submit()`` without HTTP.

Results are printed and written to ``bench/results/submit-<db>.json``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import multiprocessing
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bench.export import DEFAULT_PG_URL, RESULTS, machine, pg_admin
from bench.projection import CYCLE, make_answers, make_workload, measured_code
from cmsreporting import migrate
from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import ApiToken
from cmsreporting.config import Settings
from cmsreporting.core.projection import Binding, project
from cmsreporting.crosswalk import concept_service, link_service, mapping_service
from cmsreporting.crosswalk.models import Concept, Mapping
from cmsreporting.db import create_engine, create_session_factory, utcnow
from cmsreporting.main import create_app
from cmsreporting.registry.models import Membership
from cmsreporting.registry.schemas import CycleIn
from cmsreporting.registry.service import create_cycle, load_reference_data
from cmsreporting.reporting import answer_service, contexts, submissions, workspace_service
from cmsreporting.reporting.models import Answer, Submission, Workspace, WorkspaceCycle
from cmsreporting.templates.service import import_template, publish

ACTOR = "bench"
TARGET_P50_MS = 150.0
WARMUP = 1  # workspaces submitted before the measured ones
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_START_SECONDS = 60.0
ROOT = Path(__file__).resolve().parent.parent


# --- setup ---------------------------------------------------------------------------------------


async def setup(url: str, count: int) -> dict[str, Any]:
    """Reference data, cycles, templates, crosswalk, and `count` answered workspaces."""
    started = time.perf_counter()
    workload = make_workload()
    engine = create_engine(url)
    factory = create_session_factory(engine)
    people: list[dict[str, Any]] = []
    try:
        async with factory() as session, session.begin():
            await load_reference_data(session, actor=ACTOR)
            parties = list(
                (await session.scalars(text("SELECT iso3 FROM parties ORDER BY iso3"))).all()
            )[:count]
            if len(parties) < count:
                raise SystemExit(f"only {len(parties)} Parties in the reference data")
            cycles = []
            for template in workload.templates:
                cycles.append(
                    await create_cycle(
                        session,
                        actor=ACTOR,
                        data=CycleIn(
                            convention=template["convention"],
                            code=CYCLE,
                            title=f"Benchmark cycle of {template['convention']}",
                            opens_on=date(2026, 1, 1),
                            due_on=date(2026, 12, 31),
                        ),
                    )
                )
                imported = await import_template(session, actor=ACTOR, document=template)
                await publish(session, actor=ACTOR, template=imported)
            await concept_service.create_concepts(
                session, actor=ACTOR, documents=list(workload.concepts.values())
            )
            await mapping_service.create_mappings(session, actor=ACTOR, documents=workload.mappings)
            conventions = [t["convention"] for t in workload.templates]
            session.add_all(
                Membership(party_iso3=iso3, convention_code=c, source="bench")
                for iso3 in parties
                for c in conventions
            )
            for iso3 in parties:
                user = await auth_service.create_user(session, actor=ACTOR, name=f"fp-{iso3}")
                for convention in conventions:
                    await auth_service.grant_role(
                        session,
                        actor=ACTOR,
                        user=user,
                        role="focal_point",
                        convention=convention,
                        party=iso3,
                    )
                token = f"cmsr_bench_{iso3.lower()}"
                session.add(
                    ApiToken(
                        user_id=user.id,
                        digest=auth_service.digest_token(token),
                        prefix=token[:11],
                    )
                )
                people.append({"party": iso3, "token": token})
            workspaces = [
                Workspace(
                    party_iso3=iso3,
                    title="Benchmark workspace",
                    created_by=ACTOR,
                    cycles=[
                        WorkspaceCycle(party_iso3=iso3, cycle_id=cycle.id, position=p)
                        for p, cycle in enumerate(cycles)
                    ],
                )
                for iso3 in parties
            ]
            session.add_all(workspaces)
            await session.flush()
            now = utcnow()
            answers = 0
            for person, workspace in zip(people, workspaces, strict=True):
                person["workspace"] = workspace.id
                rows = [
                    {
                        "workspace_id": workspace.id,
                        "slot": slot,
                        "value": value,
                        "revision": 1,
                        "updated_at": now,
                        "updated_by": f"user:fp-{person['party']}",
                    }
                    for slot, value in make_answers(workload, person["party"]).items()
                ]
                for start in range(0, len(rows), 500):
                    await session.execute(insert(Answer), rows[start : start + 500])
                answers += len(rows)
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:  # planner statistics, as autovacuum would make
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return {
        "people": people,
        "cycles": [f"{t['convention']}:{CYCLE}" for t in workload.templates],
        "answers_per_workspace": answers // len(people),
        "concepts": len(workload.concepts),
        "mappings": len(workload.mappings),
        "seconds": round(time.perf_counter() - started, 1),
    }


async def count_submissions(url: str) -> int:
    """Submission rows in the database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(Submission))).scalar_one()
            )
    finally:
        await engine.dispose()


# --- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (clock ticks of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Server:
    """`cmsreporting serve --no-load` in a child process, on 127.0.0.1."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self.log = log.open("wb")
        env = os.environ | {"CMSREPORTING_DATABASE_URL": url}
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
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
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        """Poll /health until it answers 200."""
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not answer /health in time")

    def stop(self) -> None:
        """Stop the server we started (SIGTERM, then SIGKILL after 15 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.log.close()


# --- measuring -----------------------------------------------------------------------------------


def _timed(
    client: httpx.Client, pid: int, method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, float, float]:
    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    response.read()
    seconds = time.perf_counter() - started
    return response, seconds, _cpu_seconds(pid) - cpu


def _submit_ok(response: httpx.Response, cycles: list[str]) -> None:
    if response.status_code != 201:
        raise SystemExit(f"submit answered {response.status_code}: {response.text[:2000]}")
    made = response.json()["submissions"]
    if [(s["cycle"], s["version"], s["status"]) for s in made] != [
        (c, 1, "submitted") for c in cycles
    ]:
        raise SystemExit(f"unexpected submissions: {made}")


def measure(server: Server, data: dict[str, Any], measured: list[dict[str, Any]]) -> dict[str, Any]:
    """Warm up on the first workspace, then health, preview and submit for each workspace."""
    cycles = data["cycles"]
    pid = server.process.pid
    samples: dict[str, list[tuple[float, float]]] = {"health": [], "preview": [], "submit": []}
    sizes: dict[str, int] = {}
    preview_values: list[int] = []
    with httpx.Client(base_url=server.base, timeout=120) as client:
        warm = data["people"][0]
        auth = {"Authorization": f"Bearer {warm['token']}"}
        for _ in range(20):
            client.get("/health")
        for cycle in cycles:
            shown = client.get(
                f"/api/v1/workspaces/{warm['workspace']}/preview/{cycle}", headers=auth
            )
            if shown.status_code != 200 or not shown.json()["submittable"]:
                raise SystemExit(
                    f"warm-up preview of {cycle}: {shown.status_code} {shown.text[:500]}"
                )
        response = client.post(
            f"/api/v1/workspaces/{warm['workspace']}/submit",
            json={"cycles": cycles},
            headers=auth | {"Idempotency-Key": f"bench-warm-{warm['workspace']}"},
        )
        _submit_ok(response, cycles)
        for i, person in enumerate(measured):
            auth = {"Authorization": f"Bearer {person['token']}"}
            wid = person["workspace"]
            response, seconds, cpu = _timed(client, pid, "GET", "/health")
            if response.status_code != 200:
                raise SystemExit(f"/health answered {response.status_code}")
            samples["health"].append((seconds, cpu))
            cycle = cycles[i % len(cycles)]
            response, seconds, cpu = _timed(
                client, pid, "GET", f"/api/v1/workspaces/{wid}/preview/{cycle}", headers=auth
            )
            body = response.json()
            if response.status_code != 200 or not body["submittable"]:
                raise SystemExit(f"preview answered {response.status_code}: {response.text[:500]}")
            preview_values.append(len(body["values"]))
            sizes["preview"] = len(response.content)
            samples["preview"].append((seconds, cpu))
            response, seconds, cpu = _timed(
                client,
                pid,
                "POST",
                f"/api/v1/workspaces/{wid}/submit",
                json={"cycles": cycles},
                headers=auth | {"Idempotency-Key": f"bench-{wid}"},
            )
            _submit_ok(response, cycles)
            sizes["submit"] = len(response.content)
            samples["submit"].append((seconds, cpu))
    result: dict[str, Any] = {}
    for name, pairs in samples.items():
        walls = sorted(w for w, _ in pairs)
        result[name] = {
            "requests": len(walls),
            "p50_ms": round(_percentile(walls, 50) * 1e3, 2),
            "p95_ms": round(_percentile(walls, 95) * 1e3, 2),
            "max_ms": round(walls[-1] * 1e3, 2),
            "min_ms": round(walls[0] * 1e3, 2),
            "mean_ms": round(statistics.fmean(walls) * 1e3, 2),
            "server_cpu_ms_mean": round(statistics.fmean(c for _, c in pairs) * 1e3, 2),
            "all_ms": [round(w * 1e3, 2) for w, _ in pairs],
            "response_bytes": sizes.get(name),
        }
    result["preview"]["values_median"] = statistics.median(preview_values)
    return result


def _percentile(ordered: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- the in-process profile ----------------------------------------------------------------------

IN_PROCESS = (
    ("warm-up", 1),
    ("plain", 4),
    ("gc_frozen", 4),  # gc.freeze() first: what the startup heap costs each full collection
    ("gc_disabled", 4),  # the collector off: what the requests cost without its pauses
    ("profiled", 3),
)
SERVICE_SUBMITS = 3  # submissions.submit() called directly, without HTTP
PROFILED = sum(n for _, n in IN_PROCESS) + SERVICE_SUBMITS  # workspaces for in-process runs
# --smoke: each in-process run once (and always made), one direct submissions.submit()
SMOKE_IN_PROCESS = tuple((name, 1) for name, _ in IN_PROCESS)
SMOKE_PROFILED = len(SMOKE_IN_PROCESS) + 1


class _GcWatch:
    """Garbage collections (count by generation, time) seen through gc.callbacks."""

    def __init__(self) -> None:
        self.events: list[tuple[int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.events.append((info["generation"], time.perf_counter() - self._started))

    def take(self) -> dict[str, Any]:
        """What happened since the last take."""
        events, self.events = self.events, []
        return {
            "collections": {str(g): sum(1 for e, _ in events if e == g) for g in (0, 1, 2)},
            "ms": round(sum(t for _, t in events) * 1e3, 1),
            "gen2_ms": round(sum(t for e, t in events if e == 2) * 1e3, 1),
        }


class _JsonWatch:
    """JSON documents the database driver decodes (json.loads, as the JSON types use it)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.original = json.loads

    def __call__(self, s: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Any:
        self.sizes.append(len(s))
        return self.original(s, *args, **kwargs)

    def take(self) -> dict[str, Any]:
        """What was decoded since the last take."""
        sizes, self.sizes = self.sizes, []
        return {
            "documents": len(sizes),
            "bytes": sum(sizes),
            "over_100kb": sum(1 for n in sizes if n > 100_000),
            "bytes_over_100kb": sum(n for n in sizes if n > 100_000),
        }


async def _profile(task: dict[str, Any]) -> dict[str, Any]:
    """Submits in-process: plain (with GC and JSON accounting), with the collector off, and
    under cProfile (collector off, so that its pauses do not land on random functions)."""
    decoded = _JsonWatch()
    json.loads = decoded  # before the app's engine exists, so that its JSON types use it
    gc_watch = _GcWatch()
    gc.callbacks.append(gc_watch)
    app = create_app(Settings(database_url=task["url"]))
    cycles = task["cycles"]
    people = iter(task["people"])
    profiler = cProfile.Profile()
    trials: tuple[tuple[str, int], ...] = task.get("trials", IN_PROCESS)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trials}
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for name, count in trials:
                    if name == "gc_frozen":
                        gc.collect()
                        gc.freeze()
                    for _ in range(count):
                        person = next(people)
                        headers = {
                            "Authorization": f"Bearer {person['token']}",
                            "Idempotency-Key": f"bench-in-process-{person['workspace']}",
                        }
                        path = f"/api/v1/workspaces/{person['workspace']}/submit"
                        gc_watch.take()
                        decoded.take()
                        if name in ("gc_disabled", "profiled"):
                            gc.disable()
                        if name == "profiled":
                            profiler.enable()
                        started = time.perf_counter()
                        response = await client.post(path, json={"cycles": cycles}, headers=headers)
                        seconds = time.perf_counter() - started
                        profiler.disable()
                        seen = {"gc": gc_watch.take(), "json": decoded.take()}
                        gc.enable()  # (a first collection of all kept since then follows)
                        _submit_ok(response, cycles)
                        runs[name].append({"ms": round(seconds * 1e3, 1)} | seen)
                    gc.unfreeze()
    finally:
        json.loads = decoded.original
        gc.callbacks.remove(gc_watch)
    submitted = task["people"][: sum(n for _, n in trials)]
    phases = await _phases(task["url"], submitted[-3:], list(people), cycles)
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report).strip_dirs()
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(70)
    return {"runs": runs, "phases": phases, "profile": report.getvalue()}


READ_PHASES = (
    "authenticate",
    "get_workspace",
    "contexts (5 templates and their 1,000 bindings)",
    "answer_values (the workspace's answers)",
    "concepts_by_key",
    "project x5",
    "of contexts: bindings_of alone",
    "what-if: the bindings as plain rows",
)
PART_OF_OTHERS = ("of contexts:", "what-if:")  # timed apart, left out of the total


async def _bindings_as_rows(
    session: AsyncSession, template_ids: list[int]
) -> dict[int, list[Binding]]:
    """What bindings_of returns, from the columns it needs: the concept's key, not its whole
    document and an ORM object per mapping row (as bindings_of itself does since 2be6597)."""
    result: dict[int, list[Binding]] = {tid: [] for tid in template_ids}
    rows = await session.execute(
        select(
            col(Mapping.id),
            col(Mapping.template_id),
            col(Mapping.question_id),
            col(Mapping.relation),
            col(Mapping.status),
            col(Mapping.transform),
            col(Concept.key),
        )
        .join(Concept, col(Concept.id) == col(Mapping.concept_id))
        .where(col(Mapping.template_id).in_(template_ids))
        .order_by(col(Mapping.id))
    )
    for mapping_id, template_id, question, relation, status, transform, key in rows:
        result[template_id].append(
            Binding(
                concept=key,
                question=question,
                relation=relation,
                status=status,
                transform=transform,
                mapping_id=mapping_id,
            )
        )
    return result


async def _phases(
    url: str, readers: list[dict[str, Any]], fresh: list[dict[str, Any]], cycles: list[str]
) -> dict[str, Any]:
    """The steps of a submission timed one by one, collector off, in sessions of their own:
    the reads and the projection as submissions.submit does them (on workspaces already
    submitted: they only read), then submissions.submit itself and the commit (no HTTP)."""
    engine = create_engine(url)
    factory = create_session_factory(engine)
    reads: dict[str, list[float]] = {name: [] for name in READ_PHASES}
    service: dict[str, list[float]] = {"submissions.submit()": [], "commit": []}
    gc.disable()
    try:
        for round_ in range(3):  # the first round warms the engine's statement cache
            for person in readers:
                async with factory() as session, session.begin():
                    marks = [time.perf_counter()]
                    principal = await auth_service.authenticate(session, token=person["token"])
                    assert principal is not None
                    marks.append(time.perf_counter())
                    workspace = await workspace_service.get_workspace(
                        session, workspace_id=person["workspace"], principal=principal
                    )
                    marks.append(time.perf_counter())
                    found = await contexts.contexts(session, workspace=workspace)
                    marks.append(time.perf_counter())
                    answers = await answer_service.answer_values(session, workspace_id=workspace.id)
                    marks.append(time.perf_counter())
                    keys = {b.concept for c in found for b in c.bindings}
                    concepts = await concept_service.concepts_by_key(session, keys=keys)
                    marks.append(time.perf_counter())
                    for context in found:
                        project(context.template.document, context.bindings, concepts, answers)
                    marks.append(time.perf_counter())
                    ids = [c.template.id for c in found]
                    bindings = await link_service.bindings_of(session, template_ids=ids)
                    marks.append(time.perf_counter())
                    plain = await _bindings_as_rows(session, ids)
                    marks.append(time.perf_counter())
                    if plain != bindings:
                        raise SystemExit("the plain-row bindings differ from bindings_of")
                if round_:
                    for name, start, end in zip(READ_PHASES, marks, marks[1:], strict=False):
                        reads[name].append(end - start)
        for person in fresh:
            async with factory() as session:
                principal = await auth_service.authenticate(session, token=person["token"])
                assert principal is not None
                workspace = await workspace_service.get_workspace(
                    session, workspace_id=person["workspace"], principal=principal
                )
                started = time.perf_counter()
                status, _ = await submissions.submit(
                    session,
                    principal=principal,
                    workspace=workspace,
                    cycle_refs=cycles,
                    key=f"bench-service-{workspace.id}",
                    request_digest="bench",
                )
                middle = time.perf_counter()
                await session.commit()
                service["submissions.submit()"].append(middle - started)
                service["commit"].append(time.perf_counter() - middle)
                if status != 201:
                    raise SystemExit(f"submissions.submit gave {status}")
    finally:
        gc.enable()
        await engine.dispose()
    return {
        "reads_ms": {k: round(statistics.median(v) * 1e3, 2) for k, v in reads.items()},
        "reads_total_ms": round(
            sum(statistics.median(v) for k, v in reads.items() if not k.startswith(PART_OF_OTHERS))
            * 1e3,
            2,
        ),
        "service_ms": {k: round(statistics.median(v) * 1e3, 2) for k, v in service.items()},
        "service_runs_ms": {k: [round(x * 1e3, 1) for x in v] for k, v in service.items()},
    }


def _profile_child(task: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_profile(task))


def run_isolated(task: dict[str, Any]) -> dict[str, Any]:
    """The in-process profile in a freshly spawned interpreter."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_profile_child, task).result()


# --- the benchmark -------------------------------------------------------------------------------


def run_db(db: str, count: int, pg_url: str, profile: bool, smoke: bool = False) -> dict[str, Any]:
    """Create, fill, serve, measure and drop one database."""
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="cmsr-bench-submit-"))
    database = f"cmsr_bench_submit_{os.getpid()}"
    server_version = None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    else:
        url = make_url(f"{pg_url}/{database}").render_as_string(hide_password=False)
        asyncio.run(pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        asyncio.run(pg_admin(pg_url, f'CREATE DATABASE "{database}"'))
        server_version = asyncio.run(pg_admin(pg_url, "SHOW server_version"))
    server = None
    try:
        total = WARMUP + count + (SMOKE_PROFILED if smoke else PROFILED)
        print(f"[{db}] migrating and setting up {total} workspaces…", flush=True)
        migrate.upgrade(url)
        data = asyncio.run(setup(url, total))
        print(
            f"[{db}] {data['answers_per_workspace']} answers per workspace, "
            f"{data['concepts']} concepts, {data['mappings']} mappings; {data['seconds']} s",
            flush=True,
        )
        people = data["people"]
        measured = people[WARMUP : WARMUP + count]
        server = Server(url, workdir / "server.log")
        server.wait_ready()
        started = time.perf_counter()
        results = measure(server, data, measured)
        measured_seconds = round(time.perf_counter() - started, 1)
        server.stop()
        server = None
        stored = asyncio.run(count_submissions(url))
        expected = 5 * (WARMUP + count)
        if stored != expected:
            raise SystemExit(f"{stored} submissions stored; expected {expected}")
        print_rows(db, results)
        met = results["submit"]["p50_ms"] <= TARGET_P50_MS
        profiled = None
        if profile or smoke or not met:
            task = {"url": url, "cycles": data["cycles"], "people": people[WARMUP + count :]}
            profiled = run_isolated(task | ({"trials": SMOKE_IN_PROCESS} if smoke else {}))
            print_in_process(db, profiled)
        return {
            "db": db,
            "machine": machine(server_version) | {"load_average_at_start": load_before},
            "code": measured_code(),
            "command": " ".join([".venv/bin/python -m bench.submit", *sys.argv[1:]]),
            "workspaces": count,
            "setup": {k: v for k, v in data.items() if k != "people"},
            "measuring_seconds": measured_seconds,
            "results": results,
            "target": {
                "submit_p50_ms": TARGET_P50_MS,
                "measured_p50_ms": results["submit"]["p50_ms"],
                "met": met,
            },
            "profile": profiled,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if db == "postgresql":
            asyncio.run(pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


HEADER = (
    f"{'db':<10} {'request':<28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
    f"{'min ms':>8} {'server cpu ms':>14} {'bytes':>9}"
)
LABELS = {
    "health": "GET /health",
    "preview": "GET preview (1 cycle)",
    "submit": "POST submit (5 cycles)",
}


def print_rows(db: str, results: dict[str, Any]) -> None:
    """One database's lines of the results table."""
    for name, label in LABELS.items():
        r = results[name]
        print(
            f"{db:<10} {label:<28} {r['requests']:>4} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['max_ms']:>8.1f} {r['min_ms']:>8.1f} {r['server_cpu_ms_mean']:>14.1f} "
            f"{r['response_bytes'] or 0:>9}",
            flush=True,
        )


def print_in_process(db: str, profiled: dict[str, Any]) -> None:
    """The in-process submits: time, garbage collections and JSON decoded, then the profile."""
    print(f"\n[{db}] in-process submits (httpx.ASGITransport, same app and database)")
    for name, runs in profiled["runs"].items():
        for run in runs:
            gcs, decoded = run["gc"], run["json"]
            print(
                f"  {name:<12} {run['ms']:>7.1f} ms  gc {gcs['collections']} {gcs['ms']:>6.1f} ms "
                f"(gen2 {gcs['gen2_ms']:>6.1f} ms)  json decoded: {decoded['documents']} "
                f"documents, {decoded['bytes'] / 1e6:.2f} MB, of which {decoded['over_100kb']} "
                f"over 100 kB ({decoded['bytes_over_100kb'] / 1e6:.2f} MB)"
            )
    phases = profiled["phases"]
    print(f"\n[{db}] the steps of a submission, one by one (collector off, medians)")
    for name, ms in phases["reads_ms"].items():
        print(f"  {name:<52} {ms:>7.1f} ms")
    print(f"  {'reads and projection in all':<52} {phases['reads_total_ms']:>7.1f} ms")
    for name, ms in phases["service_ms"].items():
        print(f"  {name:<52} {ms:>7.1f} ms")
    print(f"\n[{db}] cProfile of the 'profiled' submits (collector off)\n{profiled['profile']}")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.submit", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workspaces", type=int, default=60, help="measured submissions")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("CMSR_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile even when the target is met"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run that only shows the benchmark still works: the in-process analysis "
        "always, each of its runs once (too few for figures)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.workspaces <= 200:
        parser.error("--workspaces 1..200")
    RESULTS.mkdir(parents=True, exist_ok=True)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    started = time.perf_counter()
    print(HEADER)
    for db in databases:
        report = run_db(db, args.workspaces, args.pg_url.rstrip("/"), args.profile, args.smoke)
        target = RESULTS / f"submit-{db}.json"
        target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"[{db}] target: {json.dumps(report['target'])}")
        print(f"[{db}] wrote {target}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
