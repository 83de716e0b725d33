"""Every benchmark of bench/ run once at its smallest size, so that none of them rots.

Each runs as `python -m bench.<name>` with its smallest flags and a short duration (`SMOKE`), its
results written to a temporary folder (CMSR_BENCH_RESULTS) rather than bench/results; the test
checks that it exits 0 and that the checks it makes of its own run held (the projection equal to
the reference implementation, the service's CSV export identical to the baseline's, every
submission stored, no acknowledged answer lost). The figures of such short runs mean nothing and
are not looked at.

The selected benchmarks are started together when the first of these tests runs, and each test
waits for its own: most of a smoke run is imports, seeding and servers starting, and the
machine's cores are better shared than taken in turn.

The benchmarks do not use the suite's test database, so they run once, in the SQLite pass of the
suite (skipped when CMSREPORTING_TEST_DATABASE_URL names PostgreSQL). Those on PostgreSQL use the
server of CMSR_BENCH_PG_URL, else the default of bench/export (the local server .ci/run starts).
bench/autosave needs aiohttp (the `bench` extra) and bench/saturation Debian's wrk. Outside CI a
missing one skips its test; with CMSREPORTING_REQUIRE_BENCH=1 (set by .ci/run) it fails it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.factories.databases import IS_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CMSR_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REQUIRED = os.environ.get("CMSREPORTING_REQUIRE_BENCH") == "1"
TIMEOUT_S = 600

# the command line of each benchmark's smoke run (after `python -m bench.<name>`)
SMOKE: dict[str, list[str]] = {
    "projection": ["--processes", "1", "--rounds", "1", "--no-profile"],
    "export": ["--db", "sqlite", "--parties", "1", "--repeat", "1"],
    "submit": ["--db", "sqlite", "--workspaces", "1", "--smoke"],
    "autosave": [
        *("--smoke", "--parties", "2", "--interval", "1", "--warmup", "1", "--duration", "2"),
        *("--output", "autosave.json"),
    ],
    "saturation": [
        *("--smoke", "--connections", "2", "--parties", "2", "--duration", "1"),
        *("--output", "saturation.json"),
    ],
    "request_context": ["--requests", "20", "--rounds", "1"],
    "suggest": ["--repeat", "1"],
}

pytestmark = [
    pytest.mark.bench_smoke,
    pytest.mark.skipif(IS_POSTGRES, reason="the benchmark smoke runs run once, in the SQLite pass"),
]


def postgres_missing() -> str | None:
    """Why the PostgreSQL server of PG_URL cannot be used, if it cannot."""
    url = make_url(PG_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=3):
            return None
    except OSError:
        return f"no PostgreSQL server at {url.host}:{url.port or 5432}"


def missing(name: str) -> str | None:
    """What a benchmark needs and this machine lacks, if anything."""
    if name in ("autosave", "saturation") and (reason := postgres_missing()):
        return reason
    if name == "autosave" and find_spec("aiohttp") is None:
        return "bench/autosave needs aiohttp: pip install -e '.[bench]'"
    if name == "saturation" and shutil.which("wrk") is None:
        return "bench/saturation needs Debian's wrk: apt-get install -y wrk"
    return None


@dataclass
class Run:
    """One benchmark's smoke run, started in the background."""

    name: str
    results: Path
    log: Path
    process: subprocess.Popen[bytes]

    def finish(self) -> str:
        """Wait for it; its output. Fails the test when it exits other than 0."""
        try:
            code = self.process.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"bench.{self.name} still running after {TIMEOUT_S} s")
        output = self.log.read_text(errors="replace")
        assert code == 0, f"bench.{self.name} exited with {code}:\n{output[-4000:]}"
        return output

    def stop(self) -> None:
        """Interrupt it if still running (its finally clauses stop its server, drop its
        database), then kill it."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def report(self, file: str) -> Any:
        """A results file it wrote."""
        path = self.results / file
        assert path.exists(), f"bench.{self.name} did not write {file}"
        return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    """The smoke runs of the selected tests' benchmarks, all started at once."""
    selected = {
        item.name.removeprefix("test_")
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.module is request.module
    }
    started: dict[str, Run] = {}
    for name in sorted(selected & SMOKE.keys()):
        if missing(name):
            continue
        results = tmp_path_factory.mktemp(f"bench-{name}")
        log = results / "output.txt"
        env = os.environ | {"CMSR_BENCH_RESULTS": str(results), "CMSR_BENCH_PG_URL": PG_URL}
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [sys.executable, "-m", f"bench.{name}", *SMOKE[name]],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started[name] = Run(name, results, log, process)
    yield started
    for run in started.values():
        run.stop()


def finished(runs: dict[str, Run], name: str) -> Run:
    """The benchmark's run once it exited 0; skipped (failed where required) when this machine
    lacks what it needs."""
    if name not in runs:
        reason = missing(name) or f"bench.{name} was not started"
        if REQUIRED:
            pytest.fail(f"{reason} (CMSREPORTING_REQUIRE_BENCH=1)")
        pytest.skip(reason)
    run = runs[name]
    run.finish()
    return run


def test_projection(runs: dict[str, Run]) -> None:
    report = finished(runs, "projection").report("projection.json")
    # it stops (exit 1) when a report differs from the reference implementation's
    assert report["workload"]["equal_to_reference"] is True
    assert report["workload"]["errors"] == 0


def test_export(runs: dict[str, Run]) -> None:
    report = finished(runs, "export").report("export-sqlite.json")
    assert report["results"]
    for n, entry in report["results"].items():
        assert entry["identical_csv"] is True, n


def test_submit(runs: dict[str, Run]) -> None:
    # it stops (exit 1) when a submission is refused or missing; --smoke always adds the
    # in-process analysis, which checks the plain-row bindings against bindings_of
    report = finished(runs, "submit").report("submit-sqlite.json")
    assert report["results"]["submit"]["requests"] == 1
    assert report["profile"] is not None


def test_autosave(runs: dict[str, Run]) -> None:
    report = finished(runs, "autosave").report("autosave.json")
    assert report["targets"]["lost_answers"]["met"] is True, report["no_lost_answers"]
    assert report["targets"]["errors"]["met"] is True, report["saves"]


def test_saturation(runs: dict[str, Run]) -> None:
    report = finished(runs, "saturation").report("saturation.json")
    assert report["consistency"]["no_lost_answers"] is True, report["consistency"]


def test_request_context(runs: dict[str, Run]) -> None:
    # every request of every variant answered 200 in its warm-up (it stops otherwise)
    report = finished(runs, "request_context").report("request_context.json")
    for route in ("/health/live", "/api/v1/cycles/CMS:COP15"):
        assert set(report["results"][route]) == {"bare", "id", "metrics", "full"}


def test_suggest(runs: dict[str, Run]) -> None:
    report = finished(runs, "suggest").report("suggest.json")
    for kind in ("concepts", "pairs"):
        quality = report["quality"][kind]
        assert quality["cases"] > 0, kind
        assert 0 <= quality["recall_at_1"] <= quality["recall_at_5"] <= 1, quality
    assert report["time"]["questions"] == [500, 500]
    assert report["time"]["candidates"] > 0
