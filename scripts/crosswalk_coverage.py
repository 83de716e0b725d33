"""The coverage matrix of the published templates, as GET /api/v1/crosswalk/coverage computes it.

For every ordered pair of published templates (from -> to): the share of `to`'s questions that
answering `from` fills ("report once"), and the share it only suggests a value for.

    .venv/bin/python scripts/crosswalk_coverage.py --markdown            # bundled content
    .venv/bin/python scripts/crosswalk_coverage.py --url http://127.0.0.1:8000 --json

Without --url it builds a throwaway SQLite database (migrated, bundled content loaded as on a
first `cmsreporting serve`) and asks the service in process; with --url it asks a running one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from cmsreporting import bootstrap, migrate
from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.main import create_app


@asynccontextmanager
async def _in_process() -> AsyncIterator[httpx.AsyncClient]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'coverage.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await bootstrap.load_bundled(session)
        finally:
            await engine.dispose()
        app = create_app(Settings(database_url=url))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
                yield client


@asynccontextmanager
async def _remote(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        yield client


async def matrix(client: httpx.AsyncClient) -> dict[str, Any]:
    """Every ordered pair of the cycles with a published template, with its coverage totals."""
    listed = await client.get("/api/v1/templates", params={"status": "published", "limit": 500})
    listed.raise_for_status()
    cycles = sorted({t["cycle"] for t in listed.json()["items"]})
    pairs: dict[str, dict[str, Any]] = {}
    for source in cycles:
        for target in cycles:
            if source == target:
                continue
            response = await client.get(
                "/api/v1/crosswalk/coverage", params={"from": source, "to": target}
            )
            response.raise_for_status()
            pairs[f"{source}>{target}"] = response.json()["totals"]
    return {"cycles": cycles, "pairs": pairs}


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _filled(totals: dict[str, Any]) -> str:
    return f"{_percent(totals['share_fillable'])} ({totals['fillable']}/{totals['questions']})"


def _suggested(totals: dict[str, Any]) -> str:
    share = totals["suggestion_only"] / totals["questions"] if totals["questions"] else 0
    return f"{_percent(share)} ({totals['suggestion_only']}/{totals['questions']})"


TABLES: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("Filled from the row's answers (report once: share of the column's questions)", _filled),
    ("Only suggested from the row's answers (share of the column's questions)", _suggested),
]


def markdown(result: dict[str, Any]) -> str:
    """Two tables: the share of `to` filled from `from`, and the share only suggested."""
    cycles: list[str] = result["cycles"]
    lines: list[str] = []
    for title, cell in TABLES:
        lines += [f"{title}:", ""]
        lines.append("| from \\ to | " + " | ".join(cycles) + " |")
        lines.append("| --- |" + " --- |" * len(cycles))
        for source in cycles:
            row = [
                "—" if source == target else cell(result["pairs"][f"{source}>{target}"])
                for target in cycles
            ]
            lines.append(f"| {source} | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: the bundled content)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="Markdown tables (the default)")
    form.add_argument("--json", action="store_true", help="the totals of every pair as JSON")
    args = parser.parse_args(argv)
    opened = _remote(args.url) if args.url else _in_process()
    async with opened as client:
        result = await matrix(client)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
