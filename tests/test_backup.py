"""Backups taken while the service writes, restored into a new database: every save the
service acknowledged before the backup began is in the restored database. On SQLite through the
online backup API; on PostgreSQL through pg_dump and pg_restore (the client tools of this
machine's server), both through the `cmsreporting backup` and `restore` commands."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsreporting import backup as backups
from cmsreporting import migrate
from tests.factories.databases import IS_POSTGRES, admin_sql, app_client, pg_url
from tests.factories.workspaces import WORKSPACES, open_workspace, set_members, write
from tests.helpers import Headers

SLOT = "CMS:COP15:I(a).1"


@pytest.fixture
def new_url(tmp_path: Path) -> Iterator[str]:
    """URL of a database that does not exist yet (SQLite) or is new and empty (PostgreSQL)."""
    if IS_POSTGRES:
        name = f"cmsr_restore_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
        try:
            yield pg_url(name)
        finally:
            asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"CMSREPORTING_DATABASE_URL": url}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "cmsreporting.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def stored(url: str, headers: dict[str, str], workspace: int) -> dict[str, Any]:
    """The slot's stored answer, read through the service running on `url`."""
    async for http in app_client(url):
        response = await http.get(f"{WORKSPACES}/{workspace}/answers", headers=headers)
        assert response.status_code == 200, response.text
        answers: dict[str, dict[str, Any]] = {a["slot"]: a for a in response.json()["answers"]}
        return answers[SLOT]
    raise AssertionError("no client")


async def saves(client: httpx.AsyncClient, fp: dict[str, str], wid: int) -> AsyncIterator[int]:
    """Save the slot again and again, yielding each acknowledged revision."""
    revision = 0
    while True:
        written = await write(client, fp, wid, (SLOT, f"value {revision + 1}", revision))
        assert written.status_code == 200, written.text
        revision = written.json()["answers"][0]["revision"]
        yield revision


async def test_a_backup_under_saves_restores_every_acknowledged_save(
    db_url: str, client: httpx.AsyncClient, auth: Headers, new_url: str, tmp_path: Path
) -> None:
    fp = auth["ken_fp"]
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, fp, "KEN", "CMS:COP15")
    acknowledged: list[tuple[float, int]] = []
    stop = asyncio.Event()
    under_way = asyncio.Event()

    async def stream() -> None:
        async for revision in saves(client, fp, wid):
            acknowledged.append((time.monotonic(), revision))
            if len(acknowledged) >= 20:
                under_way.set()
            if stop.is_set():
                return

    writer = asyncio.create_task(stream())
    await under_way.wait()
    began = time.monotonic()
    archive = tmp_path / "backup.bin"
    made = await asyncio.to_thread(cli, db_url, "backup", "-o", str(archive))
    during = [r for t, r in acknowledged if t > began]
    stop.set()
    await writer
    assert made.returncode == 0, made.stderr
    assert f"wrote {archive}" in made.stdout
    assert during, "saves went on while the backup ran"
    before = max(r for t, r in acknowledged if t <= began)

    restored = await asyncio.to_thread(cli, new_url, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    answer = await stored(new_url, fp, wid)
    # every save acknowledged before the backup began is there, and what is there is whole
    assert answer["revision"] >= before
    assert answer["value"] == f"value {answer['revision']}"
    # the restored database is at this code's head and serves like the original
    async for http in app_client(new_url):
        ready = await http.get("/health/ready")
        assert ready.status_code == 200, ready.text
    # the password of a database URL is never printed
    assert (
        "secret"
        not in cli(
            new_url.replace("postgres@", "postgres:secret@") if IS_POSTGRES else new_url,
            "restore",
            str(archive),
        ).stderr
    )


def test_a_restore_refuses_what_it_cannot_restore_and_changes_nothing(
    db_url: str, new_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.bin"
    made = backups.backup(db_url, archive)
    assert made.revision == migrate.head_revision()
    # into a database that holds data
    refused = cli(db_url, "restore", str(archive))
    assert refused.returncode != 0
    assert "nothing was changed" in refused.stderr
    # a file that is not a backup, and one that does not exist
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    assert cli(new_url, "restore", str(junk)).returncode != 0
    missing = cli(new_url, "restore", str(tmp_path / "nope.bin"))
    assert missing.returncode != 0
    assert "does not exist" in missing.stderr
    if not IS_POSTGRES:
        # a backup made by a newer version (a migration this code does not know)
        with sqlite3.connect(archive) as db:
            db.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        newer = cli(new_url, "restore", str(archive))
        assert newer.returncode != 0
        assert "newer version of cmsreporting" in newer.stderr
        assert not Path(new_url.removeprefix("sqlite+aiosqlite:///")).exists()
