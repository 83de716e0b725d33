"""Shared parts of the load benchmarks (bench/autosave and bench/saturation).

* a fresh PostgreSQL database ``cmsr_bench_<name>_<pid>``, migrated with ``cmsreporting db
  upgrade`` and seeded with the bundled data, 200 Parties' CMS memberships, one focal-point user
  and bearer token per Party, the cycle ``CMS:BENCH-LOAD`` with the 500-question template of
  bench/export published, one workspace per Party and half of each workspace's questions already
  answered (revision 1);
* the value pool the generators draw their answers from (valid values of every question);
* the server started as production starts it: ``cmsreporting serve --no-load --workers 2``;
* CPU accounting of the server, of the database's backends, of the load generator and of the
  whole (shared) machine over a measured window;
* py-spy profiles of the server's workers, summarised by package and by function;
* a census of one kind of request with the app in-process on the same database, one request
  at a time: its SQL statements, its CPU time, the CPU time of each step, and a py-spy profile.

Nothing here sends a request anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from bench.export import RESULTS as export_results
from bench.export import machine as export_machine
from bench.export import make_template, pg_admin, sample_scalar, template_questions
from cmsreporting import bootstrap
from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import ApiToken
from cmsreporting.core.rows import without_row_ids
from cmsreporting.db import create_engine, create_session_factory, utcnow
from cmsreporting.registry.models import Cycle, Membership, Party
from cmsreporting.registry.schemas import CycleIn
from cmsreporting.registry.service import create_cycle, set_membership
from cmsreporting.reporting import workspace_service
from cmsreporting.reporting.models import Answer
from cmsreporting.templates.models import Template
from cmsreporting.templates.service import import_template, publish

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = export_results  # bench/results, or CMSR_BENCH_RESULTS
VENV_BIN = ROOT / ".venv" / "bin"
CONVENTION = "CMS"
CYCLE = "BENCH-LOAD"
CYCLE_REF = f"{CONVENTION}:{CYCLE}"
PARTIES = 200
BATCH = 20
PREFILLED = 0.5
VARIANTS = 4
SEED = 20261201
ACTOR = "bench"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the database --------------------------------------------------------------------------


@dataclass
class Database:
    """A PostgreSQL database of the benchmark, created fresh and dropped at the end."""

    server_url: str
    name: str

    @property
    def url(self) -> str:
        """Its SQLAlchemy URL."""
        return make_url(f"{self.server_url}/{self.name}").render_as_string(hide_password=False)

    def create(self) -> str | None:
        """Drop any leftover of the same name, create it, migrate it; the server version."""
        asyncio.run(
            pg_admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        )
        asyncio.run(pg_admin(self.server_url, f'CREATE DATABASE "{self.name}"'))
        subprocess.run(  # noqa: S603 - the project's own command line, fixed arguments
            [str(VENV_BIN / "cmsreporting"), "db", "upgrade"],
            cwd=ROOT,
            env=os.environ | {"CMSREPORTING_DATABASE_URL": self.url},
            check=True,
            capture_output=True,
        )
        return asyncio.run(pg_admin(self.server_url, "SHOW server_version"))

    def drop(self) -> None:
        """Drop it (even while connections are open)."""
        asyncio.run(
            pg_admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        )


def database_for(bench: str, server_url: str) -> Database:
    """The benchmark's database on the server at `server_url` (no database name)."""
    return Database(server_url=server_url.rstrip("/"), name=f"cmsr_bench_{bench}_{os.getpid()}")


# --- the seeded data -----------------------------------------------------------------------


def bench_questions() -> list[dict[str, Any]]:
    """The template's questions, in order (the same document as bench/export's)."""
    return template_questions(make_template(CYCLE))


def slot_names(questions: list[dict[str, Any]]) -> list[str]:
    """The native answer slot of each question."""
    return [f"{CYCLE_REF}:{q['id']}" for q in questions]


def value_pool(questions: list[dict[str, Any]], variants: int = VARIANTS) -> list[list[Any]]:
    """`variants` valid values of each question, the same in every run.

    Texts run from a few words to 400 words, tables have 3 to 10 rows of 3 to 5 typed columns:
    the value mix of bench/export's generated reports.
    """
    pool = []
    for index, q in enumerate(questions):
        rng = random.Random(f"{SEED}:{index}")  # noqa: S311 - reproducible data
        values = []
        for _ in range(variants):
            if q["type"] == "table":
                values.append(
                    [
                        {c["id"]: sample_scalar(rng, c) for c in q["columns"]}
                        for _ in range(rng.randint(3, 10))
                    ]
                )
            else:
                values.append(sample_scalar(rng, q))
        pool.append(values)
    return pool


def prefilled_count(questions: list[dict[str, Any]]) -> int:
    """How many questions (the first ones) every workspace has answered before the run."""
    return int(len(questions) * PREFILLED)


def party_offset(index: int, questions: int) -> int:
    """Where a Party's rolling window of saves starts (spread over the whole template)."""
    return (index * 37) % questions


async def _seed(url: str, parties: int) -> dict[str, Any]:
    started = time.perf_counter()
    engine = create_engine(url)
    factory = create_session_factory(engine)
    questions = bench_questions()
    slots = slot_names(questions)
    pool = value_pool(questions)
    prefilled = prefilled_count(questions)
    try:
        async with factory() as session, session.begin():
            await bootstrap.load_bundled(session)  # reference data, bundled templates, crosswalk
            isos = list(
                (await session.scalars(select(col(Party.iso3)).order_by(col(Party.iso3)))).all()
            )
            if len(isos) < parties:
                raise SystemExit(f"only {len(isos)} Parties in the reference data")
            isos = isos[:parties]
            members = set(
                (
                    await session.scalars(
                        select(col(Membership.party_iso3)).where(
                            col(Membership.convention_code) == CONVENTION
                        )
                    )
                ).all()
            )
            for iso3 in isos:
                if iso3 not in members:
                    await set_membership(
                        session,
                        actor=ACTOR,
                        iso3=iso3,
                        convention=CONVENTION,
                        since=None,
                        source="bench",
                        demo=False,
                    )
            await create_cycle(
                session,
                actor=ACTOR,
                data=CycleIn(
                    convention=CONVENTION,
                    code=CYCLE,
                    title="Load benchmark cycle",
                    opens_on=utcnow().date().replace(month=1, day=1),
                    due_on=utcnow().date().replace(month=12, day=31),
                ),
            )
            template = await import_template(session, actor=ACTOR, document=make_template(CYCLE))
            await publish(session, actor=ACTOR, template=template)
            party_rows = []
            for index, iso3 in enumerate(isos):
                name = f"bench-fp-{iso3.lower()}"
                user = await auth_service.create_user(session, actor=ACTOR, name=name)
                await auth_service.grant_role(
                    session,
                    actor=ACTOR,
                    user=user,
                    role="focal_point",
                    convention=CONVENTION,
                    party=iso3,
                )
                token = f"cmsr_bench_{secrets.token_urlsafe(24)}"
                session.add(
                    ApiToken(
                        user_id=user.id,
                        digest=auth_service.digest_token(token),
                        prefix=token[:11],
                        label="bench",
                    )
                )
                workspace, _ = await workspace_service.create_workspace(
                    session,
                    actor=f"user:{name}",
                    party=iso3,
                    cycle_refs=[CYCLE_REF],
                    title=f"{iso3} national report (load benchmark)",
                    carry_forward=False,
                )
                party_rows.append(
                    {
                        "iso3": iso3,
                        "user": name,
                        "token": token,
                        "workspace": workspace.id,
                        "offset": party_offset(index, len(questions)),
                    }
                )
            now = utcnow()
            rows = [
                {
                    "workspace_id": p["workspace"],
                    "slot": slots[i],
                    "value": pool[i][0],
                    "revision": 1,
                    "updated_at": now,
                    "updated_by": f"user:{p['user']}",
                }
                for p in party_rows
                for i in range(prefilled)
            ]
            for start in range(0, len(rows), 1000):
                await session.execute(insert(Answer), rows[start : start + 1000])
            bundled = await session.scalar(
                select(col(Template.id))
                .join(Cycle, col(Cycle.id) == col(Template.cycle_id))
                .where(
                    col(Cycle.convention_code) == "CMS",
                    col(Cycle.code) == "COP15",
                    col(Template.status) == "published",
                )
            )
        async with engine.begin() as conn:  # planner statistics, as autovacuum would make
            await conn.execute(text("ANALYZE"))
        async with engine.connect() as conn:
            answers = int((await conn.execute(text("SELECT count(*) FROM answers"))).scalar() or 0)
            await conn.rollback()
    finally:
        await engine.dispose()
    return {
        "url": url,
        "template_id": template.id,
        "bundled_template_id": bundled,
        "questions": len(questions),
        "question_types": dict(collections.Counter(q["type"] for q in questions)),
        "slots": slots,
        "prefilled": prefilled,
        "answers_at_start": answers,
        "parties": party_rows,
        "seconds": round(time.perf_counter() - started, 1),
    }


def seed(url: str, parties: int = PARTIES) -> dict[str, Any]:
    """Seed a migrated database; returns what the generators need (tokens included)."""
    return asyncio.run(_seed(url, parties))


def public_fixture(fixture: dict[str, Any]) -> dict[str, Any]:
    """The fixture without tokens and slot names, for the results file."""
    return {k: v for k, v in fixture.items() if k not in ("parties", "slots", "url")} | {
        "party_count": len(fixture["parties"])
    }


async def _answer_rows(url: str, workspace_ids: list[int]) -> list[tuple[int, str, Any, int]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        col(Answer.workspace_id),
                        col(Answer.slot),
                        col(Answer.value),
                        col(Answer.revision),
                    ).where(col(Answer.workspace_id).in_(workspace_ids))
                )
            ).all()
            await conn.rollback()
    finally:
        await engine.dispose()
    # the load's clients send table rows without ids: compare what they sent with the rows
    # as stored, less the ids the server gave them
    return [(w, s, without_row_ids(v), r) for w, s, v, r in rows]


def answer_rows(url: str, workspace_ids: list[int]) -> list[tuple[int, str, Any, int]]:
    """(workspace, slot, value, revision) of every answer of these workspaces, table rows
    without their ids."""
    return asyncio.run(_answer_rows(url, workspace_ids))


async def _scalars(url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text(sql), params or {})).first()
            await conn.rollback()
    finally:
        await engine.dispose()
    return list(row or ())


def query_row(url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """The first row of a query on the benchmark's database."""
    return asyncio.run(_scalars(url, sql, params))


async def _column(url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            values = list((await conn.execute(text(sql), params or {})).scalars())
            await conn.rollback()
    finally:
        await engine.dispose()
    return values


def query_column(url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """The first column of every row of a query."""
    return asyncio.run(_column(url, sql, params))


def db_activity(url: str, database: str) -> dict[str, int]:
    """Cumulative transaction and row counters of the database (pg_stat_database)."""
    names = (
        "xact_commit",
        "xact_rollback",
        "tup_inserted",
        "tup_updated",
        "tup_fetched",
        "sessions",
    )
    row = query_row(
        url,
        f"SELECT {', '.join(names)} FROM pg_stat_database WHERE datname = :db",  # noqa: S608
        {"db": database},
    )
    return dict(zip(names, (int(v) for v in row), strict=True))


def wait_idle(url: str, database: str, timeout: float = 30.0) -> float:
    """Wait until no connection to the database runs a statement (the server has finished the
    requests a load generator left in flight), twice in a row; the seconds waited."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < timeout and quiet < 2:
        busy = query_row(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND state <> 'idle'"
            " AND pid <> pg_backend_pid()",
            {"db": database},
        )[0]
        quiet = quiet + 1 if busy == 0 else 0
        time.sleep(0.25)
    return round(time.monotonic() - started, 2)


def database_size(url: str) -> int:
    """Bytes of the benchmark's database."""
    return int(query_row(url, "SELECT pg_database_size(current_database())")[0])


def revision_sum(url: str) -> int:
    """Sum of every answer's revision: grows by one for every answer written."""
    return int(query_row(url, "SELECT coalesce(sum(revision), 0) FROM answers")[0])


def audit_answer_events(url: str) -> int:
    """answer.write audit events."""
    return int(query_row(url, "SELECT count(*) FROM audit_events WHERE action = 'answer.write'")[0])


# --- the server, as production runs it ------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        return []
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Server:
    """``cmsreporting serve --no-load --host 127.0.0.1 --port P --workers N`` on a database."""

    def __init__(self, url: str, *, workers: int, log_path: Path) -> None:
        self.url = url
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.command = (
            f"CMSREPORTING_DATABASE_URL=postgresql+asyncpg://… {VENV_BIN / 'cmsreporting'} serve "
            f"--no-load --host {HOST} --port {self.port} --workers {workers}"
        )

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{HOST}:{self.port}"

    def argv(self) -> list[str]:
        """The command line that starts it."""
        return [
            str(VENV_BIN / "cmsreporting"),
            "serve",
            "--no-load",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def env(self) -> dict[str, str]:
        """Its environment."""
        return os.environ | {"CMSREPORTING_DATABASE_URL": self.url}

    def start(self, timeout: float = 90.0) -> None:
        """Start it and wait until every worker answers /health."""
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - the project's own command, fixed arguments
            self.argv(),
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that stop() ends all of it
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"the server exited ({self.process.returncode}); see {self.log_path}"
                )
            started = self.log_path.read_text(errors="replace").count(
                "Application startup complete"
            )
            if started >= self.workers and len(self.worker_pids()) >= self.workers:
                try:
                    with urllib.request.urlopen(f"{self.base}/health", timeout=5) as reply:  # noqa: S310
                        if reply.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.3)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"the server did not start in {timeout:.0f} s; its log ends:\n{tail}")

    def worker_pids(self) -> list[int]:
        """The worker processes (the master's spawned children, resource tracker excluded)."""
        if self.process is None:
            return []
        if self.workers == 1:  # uvicorn serves in its own process, without a supervisor
            return [self.process.pid]
        return [
            pid for pid in _children(self.process.pid) if "resource_tracker" not in _cmdline(pid)
        ]

    def pids(self) -> list[int]:
        """The master and its workers (one process with one worker)."""
        workers = self.worker_pids()
        if self.process is None or self.process.pid in workers:
            return workers
        return [self.process.pid, *workers]

    def stop(self) -> int | None:
        """SIGTERM to the server's own process group, SIGKILL after 20 s; its exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        pgid = self.process.pid  # start_new_session: the group is the one this server leads
        os.killpg(pgid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            return self.process.wait(timeout=10)

    def log_summary(self, keep: Path | None = None) -> dict[str, Any]:
        """Access-log lines by status, and each distinct exception the log shows with its count;
        the whole log is copied to `keep` if given."""
        statuses: collections.Counter[str] = collections.Counter()
        exceptions: collections.Counter[str] = collections.Counter()
        text_ = self.log_path.read_text(errors="replace")
        in_traceback = False
        for line in text_.splitlines():
            match = re.search(r'HTTP/1\.1" (\d{3})', line)
            if match:
                statuses[match.group(1)] += 1
                in_traceback = False
            elif line.startswith("Traceback"):
                in_traceback = True
            elif in_traceback and re.match(
                r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\b", line
            ):
                exceptions[line[:240]] += 1
                in_traceback = False
        if keep is not None:
            keep.write_text(text_, "utf-8")
        return {
            "access_log_statuses": dict(statuses),
            "exceptions": dict(exceptions.most_common(10)),
            "log": str(keep) if keep else None,
        }


class BareServer(Server):
    """The bare baseline (bench/bare.py) under uvicorn with the service's settings: the same
    workers, and uvicorn's access line per request when the service writes its own
    (``CMSREPORTING_ACCESS_LOG``, on by default), serving the files of `bodies`."""

    def __init__(self, bodies: Path, *, workers: int, log_path: Path) -> None:
        super().__init__("", workers=workers, log_path=log_path)
        self.bodies = bodies
        self.access_log = os.environ.get("CMSREPORTING_ACCESS_LOG", "true").lower() not in (
            "0",
            "false",
            "no",
            "off",
        )
        self.command = " ".join(
            [f"CMSR_BARE_BODIES={bodies}", *self.argv()[0:1], *self.argv()[1:]]
        ).replace(str(VENV_BIN) + "/", ".venv/bin/")

    def argv(self) -> list[str]:
        """uvicorn as `cmsreporting serve` runs it: the same loop, parser and proxy headers."""
        return [
            str(VENV_BIN / "uvicorn"),
            "bench.bare:app",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--proxy-headers",
            "--timeout-worker-healthcheck",
            "60",
            "--log-level",
            "info",
            "--access-log" if self.access_log else "--no-access-log",
        ]

    def env(self) -> dict[str, str]:
        """The bodies' folder."""
        return os.environ | {"CMSR_BARE_BODIES": str(self.bodies)}


# --- CPU accounting ------------------------------------------------------------------------


def process_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process ((0, 0) if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all CPUs."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # leave guest time out: it is counted in user already
    return (total - idle) / CLK_TCK, total / CLK_TCK


def pg_backend_pids(url: str, database: str) -> list[int]:
    """Server processes of the connections to this database (this query's own left out)."""
    return [
        int(pid)
        for pid in query_column(
            url,
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()",
            {"db": database},
        )
    ]


def all_postgres_pids() -> list[int]:
    """Every process whose command line starts with 'postgres' (the shared cluster)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _cmdline(int(entry)).startswith("postgres"):
            pids.append(int(entry))
    return pids


class CpuWindow:
    """CPU seconds spent by groups of processes and by the machine between start() and stop()."""

    def __init__(self, url: str, database: str, groups: dict[str, list[int]]) -> None:
        self.url = url
        self.database = database
        self.groups = groups
        self.start_values: dict[str, dict[int, tuple[float, float]]] = {}
        self.started = 0.0
        self.machine_start = (0.0, 0.0)
        self.loadavg_start: tuple[float, ...] = ()

    def _sample(self) -> dict[str, dict[int, tuple[float, float]]]:
        groups = dict(self.groups)
        groups["postgres_bench_db"] = pg_backend_pids(self.url, self.database)
        groups["postgres_all"] = all_postgres_pids()
        return {
            name: {pid: process_cpu_split(pid) for pid in pids} for name, pids in groups.items()
        }

    def start(self) -> None:
        """Take the first sample."""
        self.start_values = self._sample()
        self.machine_start = machine_cpu()
        self.started = time.monotonic()
        self.loadavg_start = os.getloadavg()

    def stop(self) -> dict[str, Any]:
        """CPU seconds per group over the window, and the machine's busy share."""
        end = self._sample()
        seconds = time.monotonic() - self.started
        busy, total = machine_cpu()
        result: dict[str, Any] = {"seconds": round(seconds, 2)}
        for name, values in end.items():
            before = self.start_values.get(name, {})
            user = sum(u - before.get(pid, (0.0, 0.0))[0] for pid, (u, _) in values.items())
            system = sum(k - before.get(pid, (0.0, 0.0))[1] for pid, (_, k) in values.items())
            result[f"{name}_cpu_s"] = round(user + system, 2)
            result[f"{name}_system_cpu_s"] = round(system, 2)
        result["machine_busy_cpu_s"] = round(busy - self.machine_start[0], 2)
        result["machine_total_cpu_s"] = round(total - self.machine_start[1], 2)
        result["machine_busy_share"] = round(
            result["machine_busy_cpu_s"] / max(result["machine_total_cpu_s"], 1e-9), 3
        )
        known = sum(result[f"{n}_cpu_s"] for n in (*self.groups, "postgres_bench_db"))
        result["other_processes_cpu_s"] = round(result["machine_busy_cpu_s"] - known, 2)
        result["loadavg_start"] = self.loadavg_start
        result["loadavg_end"] = os.getloadavg()
        return result


def per_request_ms(cpu: dict[str, Any], requests: int, groups: tuple[str, ...]) -> dict[str, float]:
    """CPU milliseconds per request of each group."""
    if requests <= 0:
        return {}
    return {g: round(1000 * cpu.get(f"{g}_cpu_s", 0.0) / requests, 2) for g in groups}


def uptime() -> str:
    """The output of `uptime`."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        return f"load average: {os.getloadavg()}"


def machine(server_version: str | None) -> dict[str, Any]:
    """The machine (as bench/export records it) and the load generator tools."""
    info = export_machine(server_version)
    info.pop("sqlite", None)
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()  # noqa: S607
        info["wrk"] = wrk[0].strip() if wrk else None
    except OSError:
        info["wrk"] = None
    import uvicorn

    info["uvicorn"] = uvicorn.__version__
    try:
        import aiohttp

        info["aiohttp"] = aiohttp.__version__
    except ImportError:
        info["aiohttp"] = None
    return info


# --- profiles ------------------------------------------------------------------------------


def start_profiles(pids: list[int], seconds: float, prefix: Path) -> list[tuple[Path, Any]]:
    """py-spy record (raw collapsed stacks, 100 Hz, without pausing) of each process."""
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    running = []
    for pid in pids:
        out = prefix.with_name(f"{prefix.name}-{pid}.txt")
        proc = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                "100",
                "--duration",
                str(max(1, int(seconds))),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        running.append((out, proc))
    return running


def finish_profiles(running: list[tuple[Path, Any]]) -> list[Path]:
    """Wait for the recorders; the files they wrote."""
    files = []
    for out, proc in running:
        proc.wait(timeout=120)
        if out.exists():
            files.append(out)
    return files


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

PACKAGES = (
    ("cmsreporting", "cmsreporting (the service's code)"),
    ("sqlalchemy", "SQLAlchemy"),
    ("asyncpg", "asyncpg"),
    ("pydantic", "pydantic"),
    ("fastapi", "FastAPI"),
    ("starlette", "Starlette"),
    ("uvicorn", "uvicorn"),
    ("httptools", "httptools"),
    ("uvloop", "uvloop"),
    ("json", "json (stdlib)"),
    ("logging", "logging (stdlib)"),
    ("asyncio", "asyncio (stdlib)"),
)


GREENLET_ROOT = (
    "[SQLAlchemy ORM/Core in a greenlet: statement building, execution, results] (greenlet)"
)


def _package(file: str) -> str:
    for needle, label in PACKAGES:
        if f"/{needle}/" in file or file.startswith(f"{needle}/") or file == f"{needle}.py":
            return label
    if "site-packages" in file:
        return file.split("site-packages/")[1].split("/")[0]
    if "/lib/python3" in file:
        return "stdlib (other)"
    return "other"


def _short(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if not match:
        return frame, "other"
    file = match.group("file")
    short = file.split("site-packages/")[-1].split("/src/")[-1].split("/lib/python3.11/")[-1]
    return f"{match.group('func')} ({short})", file


def summarize_profiles(files: list[Path], top: int = 30) -> dict[str, Any]:
    """Self time by package, inclusive time of the hottest functions, self time of the hottest
    leaves, as shares of the samples in which a worker thread was running."""
    stacks: collections.Counter[str] = collections.Counter()
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, samples = line.rpartition(" ")
            if stack and samples.isdigit():
                stacks[stack] += int(samples)
    total = sum(stacks.values())
    if not total:
        return {"samples": 0}
    by_package: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    service: collections.Counter[str] = collections.Counter()
    for stack, count in stacks.items():
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        if "sqlalchemy" in frames[0] or "greenlet" in frames[0]:
            # SQLAlchemy's sync core runs in a greenlet: py-spy sees that stack without the
            # coroutine that awaits it, so such samples get a root of their own
            frames = [GREENLET_ROOT, *frames]
        leaf, leaf_file = _short(frames[-1])
        leaves[leaf] += count
        # self time of the innermost frame that is Python code of a named package
        by_package[_package(leaf_file)] += count
        seen = set()
        for frame in frames:
            name, file = _short(frame)
            if name in seen:
                continue
            seen.add(name)
            inclusive[name] += count
            if "cmsreporting" in file:
                service[name] += count

    def share(counter: collections.Counter[str], n: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(n)]

    return {
        "samples": total,
        "files": [str(p) for p in files],
        "self_by_package_pct": share(by_package, 20),
        "inclusive_pct": share(inclusive, 3 * top),
        "service_functions_inclusive_pct": share(service, top),
        "self_leaf_pct": share(leaves, top),
    }


PLUMBING = (
    "<frozen runpy>",
    "multiprocessing/",
    "asyncio/",
    "uvicorn/",
    "starlette/",
    "fastapi/",
    "bench/",
    "(<string>)",
    "uvloop",
)


def print_profile(title: str, summary: dict[str, Any], lines: int = 18) -> None:
    """Print a profile summary (the plumbing frames every request passes through left out of
    the inclusive list; the results file has them)."""
    print(f"\n{title}: {summary.get('samples', 0)} samples (100 Hz, busy threads only)")
    for key, label in (
        ("self_by_package_pct", "self time by package"),
        ("service_functions_inclusive_pct", "inclusive time, the service's functions"),
        ("inclusive_pct", "inclusive time, other functions"),
        ("self_leaf_pct", "self time, hottest functions"),
    ):
        print(f"  {label}:")
        entries = summary.get(key, [])
        if key == "inclusive_pct":
            entries = [
                (n, p)
                for n, p in entries
                if not any(m in n for m in PLUMBING) and "cmsreporting/" not in n
            ]
        for name, pct in entries[:lines]:
            print(f"    {pct:5.1f} %  {name}")


# --- the app in-process: statements, CPU and a deterministic profile of one kind of request ---


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?([a-z_]+)", re.IGNORECASE)

Request = tuple[str, str, dict[str, str], bytes]


async def _asgi_call(app: Any, request: Request) -> tuple[int, bytes]:
    """One request straight into the ASGI app (no HTTP client, no server in the way)."""
    method, target, headers, body = request
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"bench"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


# Functions whose CPU time the census measures, inclusive (nested ones are inside their
# callers'), each patched where the caller looks it up. Requests run one at a time, so the
# process's CPU time between a call's start and end is that call's own.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("whole request", "", ""),
    ("BodyGuard: strict JSON check of the body", "cmsreporting.middleware", "check_json"),
    ("FastAPI: dependencies (session, caller, body)", "fastapi.routing", "solve_dependencies"),
    ("  caller: token and roles", "cmsreporting.auth.deps", "authenticate"),
    ("  body: pydantic validation", "fastapi.dependencies.utils", "request_body_to_args"),
    ("endpoint", "fastapi.routing", "run_endpoint_function"),
    (
        "  save_target (workspace, cycles, templates)",
        "cmsreporting.reporting.answer_service",
        "save_target",
    ),
    ("  write_answers", "cmsreporting.reporting.answer_service", "write_answers"),
    ("    _slot_definitions", "cmsreporting.reporting.answer_service", "_slot_definitions"),
    ("    value_issues (validation)", "cmsreporting.reporting.answer_service", "value_issues"),
    ("    _write_pg (the write statement)", "cmsreporting.reporting.answer_service", "_write_pg"),
    ("  get_template", "cmsreporting.templates.service", "get_template"),
    ("  localize", "cmsreporting.templates.router", "localize"),
    ("FastAPI: serialize_response", "fastapi.routing", "serialize_response"),
    ("AsyncSession.commit", "sqlalchemy.ext.asyncio.session", "AsyncSession.commit"),
)


def _install_phase_timers(totals: dict[str, float], active: list[bool]) -> list[Any]:
    """Wrap the PHASES' functions with CPU timers; returns the undo actions."""
    import functools
    import importlib
    import inspect

    undo = []
    for label, module_name, attribute in PHASES:
        if not module_name:
            continue
        module = importlib.import_module(module_name)
        owner: Any = module
        name = attribute
        if "." in attribute:
            owner_name, name = attribute.split(".")
            owner = getattr(module, owner_name)
        original = getattr(owner, name, None)
        if original is None:
            continue
        depth = [0]

        def timed(original: Any = original, label: str = label, depth: list[int] = depth) -> Any:
            if inspect.iscoroutinefunction(original):

                @functools.wraps(original)
                async def wrapper(*args: Any, **kwargs: Any) -> Any:
                    if not active[0] or depth[0]:
                        return await original(*args, **kwargs)
                    depth[0] += 1
                    started = time.process_time()
                    try:
                        return await original(*args, **kwargs)
                    finally:
                        totals[label] = totals.get(label, 0.0) + time.process_time() - started
                        depth[0] -= 1

                return wrapper

            @functools.wraps(original)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                if not active[0] or depth[0]:
                    return original(*args, **kwargs)
                depth[0] += 1
                started = time.process_time()
                try:
                    return original(*args, **kwargs)
                finally:
                    totals[label] = totals.get(label, 0.0) + time.process_time() - started
                    depth[0] -= 1

            return sync_wrapper

        setattr(owner, name, timed())
        undo.append((owner, name, original))
    return undo


async def _census(
    url: str, next_request: Any, on_reply: Any, runs: int, spy_seconds: float, spy_out: Path | None
) -> dict[str, Any]:
    from sqlalchemy import event

    from cmsreporting.config import Settings
    from cmsreporting.main import create_app

    app = create_app(Settings(database_url=url))
    statements: list[tuple[str, str]] = []
    checkouts = [0]
    counting = [False]
    async with app.router.lifespan_context(app):
        engine = app.state.engine

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(
            _conn: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: Any
        ) -> None:
            if counting[0]:
                hit = getattr(context, "cache_hit", None)
                statements.append((statement, str(getattr(hit, "name", hit))))

        @event.listens_for(engine.sync_engine.pool, "checkout")
        def _checkout(*_args: Any) -> None:
            if counting[0]:
                checkouts[0] += 1

        async def one() -> None:
            status, content = await _asgi_call(app, next_request())
            if status != 200:
                raise SystemExit(f"in-process request failed: {status} {content[:300]!r}")
            on_reply(content)

        for _ in range(30):  # warm the caches (template document, compiled statements)
            await one()
        counting[0] = True
        await one()
        counting[0] = False
        cpu: list[float] = []
        wall: list[float] = []
        for _ in range(runs):
            c, w = time.process_time(), time.perf_counter()
            await one()
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
        # the same again, with each phase's CPU time measured (the timers cost a little)
        totals: dict[str, float] = {}
        active = [True]
        undo = _install_phase_timers(totals, active)
        try:
            phase_cpu = 0.0
            for _ in range(runs):
                c = time.process_time()
                await one()
                phase_cpu += time.process_time() - c
        finally:
            active[0] = False
            for owner, name, original in undo:
                setattr(owner, name, original)
        totals["whole request"] = phase_cpu
        phases = {
            label: round(1000 * totals[label] / runs, 2)
            for label, _m, _a in PHASES
            if label in totals
        }
        profile = None
        if spy_seconds > 0 and spy_out is not None:
            running = start_profiles([os.getpid()], spy_seconds, spy_out)
            await asyncio.sleep(1.0)  # py-spy attaches
            until = time.monotonic() + spy_seconds
            while time.monotonic() < until:
                await one()
            profile = summarize_profiles(finish_profiles(running))
    kinds: collections.Counter[str] = collections.Counter()
    for statement, hit in statements:
        words = statement.split()
        verb = words[0].upper() if words else "?"
        table = _TABLE.search(statement)
        kinds[f"{verb} {table.group(1) if table else ''} ({hit})".strip()] += 1
    return {
        "statements": len(statements),
        "pool_checkouts": checkouts[0],
        "by_kind": dict(kinds.most_common()),
        "runs": runs,
        "cpu_ms_median": round(1000 * percentile(cpu, 50), 2),
        "cpu_ms_mean": round(1000 * sum(cpu) / len(cpu), 2),
        "wall_ms_median": round(1000 * percentile(wall, 50), 2),
        "phases_cpu_ms": phases,
        "note": "the app called in-process, one request at a time, caches warm: CPU of the "
        "Python side only (PostgreSQL's is apart). Besides these statements, BEGIN and COMMIT, "
        "which the driver sends (and a pre-ping per pool checkout if db_pool_pre_ping is on). "
        "(CACHE_HIT: SQLAlchemy reused the compiled statement; CACHE_MISS: compiled anew.)",
        "profile": profile,
    }


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop, as the server's workers do (uvicorn picks it when installed)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def window(offset: int, save: int, batch: int, questions: int) -> list[int]:
    """The question indexes one save of a Party writes: a window rolling through the form."""
    return [(offset + save * batch + m) % questions for m in range(batch)]


def save_census(
    url: str,
    party: dict[str, Any],
    slots: list[str],
    batch: int,
    runs: int = 200,
    spy_seconds: float = 0,
    spy_out: Path | None = None,
) -> dict[str, Any]:
    """Statements, CPU and (with spy_seconds) a py-spy profile of a Party's saves, the app
    in-process on the benchmark's database, one save at a time."""
    pool = value_pool(bench_questions())
    path = f"/api/v1/workspaces/{party['workspace']}/answers"
    headers = {"Authorization": f"Bearer {party['token']}"}
    rows = answer_rows(url, [party["workspace"]])
    revisions = {s: r for _w, s, _v, r in rows}
    counter = [5000]
    new_slots = [0, 0]

    def next_request() -> Request:
        counter[0] += 1
        indexes = window(party["offset"], counter[0], batch, len(slots))
        new_slots[0] += sum(1 for i in indexes if slots[i] not in revisions)
        new_slots[1] += len(indexes)
        body = save_body(slots, pool, indexes, counter[0], revisions)
        return "PATCH", path, headers | {"Content-Type": "application/json"}, body

    def on_reply(content: bytes) -> None:
        revisions.update({a["slot"]: a["revision"] for a in json.loads(content)["answers"]})

    result = _run(_census(url, next_request, on_reply, runs, spy_seconds, spy_out))
    result["new_answer_share"] = round(new_slots[0] / max(new_slots[1], 1), 3)
    return result


def get_census(
    url: str, path: str, runs: int = 100, spy_seconds: float = 0, spy_out: Path | None = None
) -> dict[str, Any]:
    """Statements, CPU and (with spy_seconds) a py-spy profile of an anonymous GET, in-process."""
    sizes: list[int] = []

    def request() -> Request:
        return "GET", path, {}, b""

    def on_reply(content: bytes) -> None:
        sizes.append(len(content))

    result = _run(_census(url, request, on_reply, runs, spy_seconds, spy_out))
    result["response_bytes"] = sizes[-1] if sizes else None
    return result


def save_body(
    slots: list[str],
    pool: list[list[Any]],
    indexes: list[int],
    variant: int,
    revisions: dict[str, int],
) -> bytes:
    """The JSON body of one save."""
    return json.dumps(
        {
            "answers": [
                {
                    "slot": slots[i],
                    "value": pool[i][(variant + i) % len(pool[i])],
                    "base_revision": revisions.get(slots[i], 0),
                }
                for i in indexes
            ]
        },
        ensure_ascii=False,
    ).encode()


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (linear interpolation) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def count_by(items: list[Any]) -> dict[str, int]:
    """Occurrences of each item, as a dict of strings."""
    return {str(k): v for k, v in collections.Counter(items).most_common()}
