"""Operations in one process: request ids, the request's log line, redaction, /metrics."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from ipaddress import IPv4Network

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cmsreporting.config import Settings
from cmsreporting.logs import LogFormat, configure_logging, redact, resolve_format
from cmsreporting.main import create_app
from cmsreporting.metrics import allowed
from tests.factories.workspaces import open_workspace, set_members, write
from tests.helpers import Headers, assert_problem

ACCESS = "cmsreporting.access"


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The request log lines written during the test (in `.records`)."""
    with caplog.at_level(logging.INFO, logger=ACCESS):
        yield caplog


@contextmanager
def captured_logs(log_format: LogFormat = "json") -> Iterator[io.StringIO]:
    """The process's log lines, as the service writes them, in a string for the block."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(level="INFO", log_format=log_format, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


def lines_of(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.name == ACCESS]


async def test_request_id_generated_kept_or_replaced(
    client: httpx.AsyncClient, access_log: pytest.LogCaptureFixture
) -> None:
    made = await client.get("/api/v1/conventions/CMS")
    generated = made.headers["x-request-id"]
    assert len(generated) == 32
    assert int(generated, 16) >= 0
    again = await client.get("/api/v1/conventions/CMS")
    assert again.headers["x-request-id"] != generated

    kept = await client.get("/api/v1/conventions/CMS", headers={"X-Request-ID": "lb-7f3a:42"})
    assert kept.headers["x-request-id"] == "lb-7f3a:42"

    for bad in (b"a" * 129, b"two words", b"<script>", "é".encode(), b""):
        replaced = await client.get("/api/v1/conventions/CMS", headers={b"X-Request-ID": bad})
        assert replaced.status_code == 200
        new = replaced.headers["x-request-id"]
        assert new.encode() != bad
        assert len(new) == 32

    # errors carry the id too, and the log line names the route template, not the path
    missing = await client.get("/api/v1/conventions/NOPE", headers={"X-Request-ID": "r-404"})
    assert_problem(missing, 404)
    assert missing.headers["x-request-id"] == "r-404"
    unknown = await client.get("/no/such/path", headers={"X-Request-ID": "r-unmatched"})
    assert unknown.headers["x-request-id"] == "r-unmatched"

    by_id = {r.request_id: r for r in lines_of(access_log.records)}  # type: ignore[attr-defined]
    assert by_id["lb-7f3a:42"].route == "/api/v1/conventions/{code}"  # type: ignore[attr-defined]
    assert by_id["lb-7f3a:42"].status == 200  # type: ignore[attr-defined]
    assert by_id["r-404"].status == 404  # type: ignore[attr-defined]
    assert by_id["r-404"].path == "/api/v1/conventions/NOPE"  # type: ignore[attr-defined]
    assert by_id["r-unmatched"].route == "(unmatched)"  # type: ignore[attr-defined]
    assert by_id["r-404"].duration_ms >= 0  # type: ignore[attr-defined]
    swapped = [r for r in lines_of(access_log.records) if getattr(r, "request_id_replaced", 0)]
    assert len(swapped) == 5


async def test_log_line_names_the_user_never_the_token(
    client: httpx.AsyncClient, auth: Headers, tokens: dict[str, str]
) -> None:
    with captured_logs() as stream:
        me = await client.get("/api/v1/me", headers=auth["ken_fp"] | {"X-Request-ID": "me-1"})
        assert me.status_code == 200
        admin = await client.get("/api/v1/me", headers=auth["admin"] | {"X-Request-ID": "me-3"})
        assert admin.status_code == 200
        anonymous = await client.get("/api/v1/me", headers={"X-Request-ID": "me-2"})
        assert anonymous.status_code == 401
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    entries = {e.get("request_id"): e for e in lines if e["logger"] == ACCESS}
    signed = entries["me-1"]
    assert isinstance(signed["user_id"], int)
    assert isinstance(entries["me-3"]["user_id"], int)
    assert entries["me-3"]["user_id"] != signed["user_id"]
    assert entries["me-2"]["user_id"] is None
    assert {"time", "level", "logger", "message", "route", "status", "duration_ms"} <= set(signed)
    assert signed["level"] == "info"
    assert signed["time"].endswith("Z")
    assert tokens["ken_fp"] not in output


def test_redaction() -> None:
    url = "postgresql+asyncpg://cmsr:s3cr%40t@db.example:5432/reports"
    assert redact(f"cannot migrate {url}: refused") == (
        "cannot migrate postgresql+asyncpg://cmsr:***@db.example:5432/reports: refused"
    )
    assert "s3cr" not in redact(f"{{'url': '{url}'}}")
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer ***"
    token = "cmsr_" + "Ab-_9" * 9
    assert redact(f"token {token} seen") == "token cmsr_*** seen"
    assert redact("database cmsr_reports_2026") == "database cmsr_reports_2026"
    assert redact("password=hunter2&user=x") == "password=***&user=x"
    # no password, nothing to hide
    assert (
        redact("sqlite+aiosqlite:///./cmsreporting.db") == "sqlite+aiosqlite:///./cmsreporting.db"
    )
    assert redact("postgresql://postgres@127.0.0.1/db") == "postgresql://postgres@127.0.0.1/db"

    logger = logging.getLogger("tests.redaction")
    with captured_logs("text") as stream:
        try:
            raise RuntimeError(f"connect to {url} failed")
        except RuntimeError:
            logger.exception("database at %s unreachable\nforged line", url)
    text = stream.getvalue()
    assert "s3cr" not in text
    assert "cmsr:***@db.example" in text
    assert "unreachable\\nforged line" in text  # a message cannot forge a second record
    assert "ERROR" in text
    assert "tests.redaction" in text


def test_cli_hides_the_database_password_when_migration_fails() -> None:
    env = os.environ | {
        "CMSREPORTING_DATABASE_URL": "postgresql+asyncpg://cmsr:TopSecret99@127.0.0.1:1/nowhere",
        "COLUMNS": "200",
    }
    for args in (("db", "upgrade"), ("serve", "--port", "1")):
        done = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "cmsreporting.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert "TopSecret99" not in done.stderr + done.stdout
        assert "cmsr:***@127.0.0.1:1/nowhere" in done.stderr


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a metrics exposition by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def sample(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_saves_and_caches(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    route = "/api/v1/templates/{template_id}"
    before = samples((await client.get("/metrics")).text)
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15")
    saved = await write(client, auth["ken_fp"], wid, ("CMS:COP15:I(a).1", "Ministry", 0))
    assert saved.status_code == 200, saved.text
    stale = await write(client, auth["ken_fp"], wid, ("CMS:COP15:I(a).1", "Other", 0))
    assert stale.status_code == 409
    for _ in range(3):
        assert (await client.get("/api/v1/templates/1")).status_code == 200
    await client.get("/api/v1/templates/999999")
    reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    after = samples(reply.text)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    requests = "cmsreporting_http_requests_total"
    assert grew(requests, method="GET", route=route, status="200") == 3
    assert grew(requests, method="GET", route=route, status="404") == 1
    histogram = "cmsreporting_http_request_duration_seconds_count"
    assert grew(histogram, method="GET", route=route, status="200") == 3
    assert grew("cmsreporting_saves_total", status="200") == 1
    assert grew("cmsreporting_saves_total", status="409") == 1
    assert grew("cmsreporting_cache_hits_total", cache="template_heads") >= 2
    assert ("cmsreporting_db_pool_in_use", ()) in after
    assert ("cmsreporting_db_pool_waiting", ()) in after
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


@pytest.fixture
async def guarded_client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client (from 127.0.0.1) of an app that serves /metrics to 10.0.0.0/8 only."""
    settings = Settings(database_url=db_url, metrics_allow=[IPv4Network("10.0.0.0/8")])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_metrics_refused_outside_the_allowed_networks(
    guarded_client: httpx.AsyncClient,
) -> None:
    refused = await guarded_client.get("/metrics")
    body = assert_problem(refused, 404)
    assert "cmsreporting_" not in refused.text
    assert body["instance"] == "/metrics"
    assert (await guarded_client.get("/health/live")).status_code == 200


async def test_an_unhandled_error_keeps_its_request_id(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url))

    async def broken() -> None:
        raise RuntimeError("postgresql+asyncpg://cmsr:Hidden1@db/x is down")

    app.add_api_route("/api/v1/broken", broken)
    with captured_logs() as stream:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                failed = await http.get("/api/v1/broken", headers={"X-Request-ID": "boom-1"})
    assert_problem(failed, 500)
    assert failed.headers["x-request-id"] == "boom-1"
    output = stream.getvalue()
    assert "Hidden1" not in failed.text + output
    records = [json.loads(line) for line in output.splitlines()]
    mine = [r for r in records if r.get("request_id") == "boom-1"]
    error = next(r for r in mine if r["logger"] == "cmsreporting.main")
    assert error["level"] == "error"
    assert "RuntimeError" in error["exception"]
    assert "cmsr:***@db/x" in error["exception"]
    line = next(r for r in mine if r["logger"] == ACCESS)
    assert line["status"] == 500
    assert line["route"] == "/api/v1/broken"


def test_log_format_and_metrics_networks() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert resolve_format("auto", Terminal()) == "text"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("json", Terminal()) == "json"
    loopback = Settings().metrics_allow
    assert allowed(("127.0.0.1", 1), loopback)
    assert allowed(("::1", 1), loopback)
    assert allowed(("::ffff:127.0.0.1", 1), loopback)
    assert not allowed(("10.1.2.3", 1), loopback)
    assert not allowed(("testclient", 1), loopback)
    assert not allowed(None, loopback)
    assert allowed(("10.1.2.3", 1), [IPv4Network("10.0.0.0/8")])
