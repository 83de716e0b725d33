"""Server and worker processes as an operator starts them (`cmsreporting serve`, `cmsreporting
worker`), on 127.0.0.1 and free ports, their output in files (not a terminal, so their logs are
JSON lines), each in its own process group so that a test can stop or kill it whole.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """`cmsreporting ARGS` with the test database, its output in a file."""

    def __init__(self, db_url: str, log: Path, *args: str, env: dict[str, str] | None = None):
        self.log = log
        environment = os.environ | {"CMSREPORTING_DATABASE_URL": db_url} | (env or {})
        environment.pop("CMSREPORTING_TEST_DATABASE_URL", None)
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "cmsreporting.cli", *args],
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within 20 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a lost machine would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records the process wrote (other lines, such as the banner, skipped)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:  # a line being written
                    continue
        return found

    def wait_for(self, event: str, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        """The first log record with this `event`, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.records():
                if record.get("event") == event:
                    return record
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.2)


class Server(Process):
    """`cmsreporting serve ARGS` on 127.0.0.1."""

    def __init__(self, db_url: str, log: Path, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        super().__init__(
            db_url,
            log,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *args,
            env=env,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_live(self) -> None:
        """Until /health/live answers (the process listens)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.base}/health/live", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.2)


class Worker(Process):
    """`cmsreporting worker ARGS`."""

    def __init__(self, db_url: str, log: Path, *args: str, env: dict[str, str] | None = None):
        super().__init__(db_url, log, "worker", *args, env=env)
