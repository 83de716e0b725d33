"""What the request context (id, log line, metrics) costs a request.

    .venv/bin/python -m bench.request_context [--requests 2000] [--rounds 7]

Requests go straight into the ASGI application (no server, no HTTP client), on a migrated and
loaded SQLite database in a temporary folder, in four variants built from the same app:

* ``bare``: the application without the request context layer (the baseline);
* ``id``: the layer with the log line and the metrics off (the request id alone);
* ``metrics``: the layer with the metrics on, the log line off;
* ``full``: the layer as served: metrics, and the log line formatted as JSON (into /dev/null).

Two routes: ``GET /health/live`` (no database: the worst case for the layer's share) and
``GET /api/v1/cycles/CMS:COP15`` (a read with a query; a tenth as many requests). Variants
alternate round by round; the figure is the median CPU time of the process per request over the
rounds (CPU, not wall-clock time, so that other work on a shared machine counts less) and its
ratio to ``bare``. Results are
printed and written to ``bench/results/request_context.json``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bench.export import RESULTS, code_version
from cmsreporting import bootstrap, migrate
from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.logs import configure_logging
from cmsreporting.main import Liveness, create_app
from cmsreporting.middleware import RequestContext

ROUTES = ("/health/live", "/api/v1/cycles/CMS:COP15")
VARIANTS = ("bare", "id", "metrics", "full")


async def _seed(url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await bootstrap.load_bundled(session, crosswalk_data=False)
    finally:
        await engine.dispose()


def _stack(app: FastAPI, variant: str) -> Any:
    """The app's ASGI stack for one variant (built the way Service builds it)."""
    inner = Liveness(FastAPI.build_middleware_stack(app), body=app.liveness)  # type: ignore[attr-defined]
    if variant == "bare":
        return inner
    return RequestContext(
        inner, log_requests=variant == "full", metrics=variant in ("metrics", "full")
    )


async def _call(app: FastAPI, stack: Any, path: str) -> int:
    scope = {
        "app": app,
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await stack(scope, receive, send)
    return status


async def _measure(url: str, requests: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    app = create_app(Settings(database_url=url))
    stacks = {variant: _stack(app, variant) for variant in VARIANTS}
    timings: dict[str, dict[str, list[float]]] = {r: {v: [] for v in VARIANTS} for r in ROUTES}
    async with app.router.lifespan_context(app):
        gc.collect()
        gc.freeze()  # as a served worker does (create_served_app)
        for route in ROUTES:
            for variant in VARIANTS:  # warm-up: caches, first-call imports
                for _ in range(50):
                    assert await _call(app, stacks[variant], route) == 200
            count = requests if route == ROUTES[0] else max(requests // 10, 1)
            for _ in range(rounds):
                for variant in VARIANTS:
                    stack = stacks[variant]
                    start = time.process_time()
                    for _ in range(count):
                        await _call(app, stack, route)
                    timings[route][variant].append((time.process_time() - start) / count)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant a round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as null:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(_seed(url))
        configure_logging(level="INFO", log_format="json", stream=null)
        timings = asyncio.run(_measure(url, args.requests, args.rounds))
        logging.getLogger().handlers.clear()
    results: dict[str, Any] = {}
    for route, by_variant in timings.items():
        bare = statistics.median(by_variant["bare"])
        results[route] = {
            variant: {
                "us_per_request": round(statistics.median(times) * 1e6, 1),
                "x_bare": round(statistics.median(times) / bare, 3),
                "extra_us": round((statistics.median(times) - bare) * 1e6, 1),
            }
            for variant, times in by_variant.items()
        }
    report = {
        "benchmark": "request_context",
        "requests": args.requests,
        "rounds": args.rounds,
        "code": code_version(),
        "results": results,
    }
    for route, by_variant in results.items():
        print(route)
        for variant, figures in by_variant.items():
            print(
                f"  {variant:<8} {figures['us_per_request']:>8.1f} µs/request  "
                f"x{figures['x_bare']:.3f}  (+{figures['extra_us']:.1f} µs)"
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "request_context.json").write_text(json.dumps(report, indent=2), "utf-8")


if __name__ == "__main__":
    main()
