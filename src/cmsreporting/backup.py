"""Back up a database while the service writes to it, and restore a backup into a new one.

SQLite: the backup is a copy made with SQLite's online backup API (a consistent snapshot taken
page by page while writers go on), itself a SQLite database. PostgreSQL: the backup is a
`pg_dump --format=custom` archive (one consistent snapshot), restored with `pg_restore`; both
client tools must be on the PATH. A restore goes into a new or empty database only, refuses a
backup made by a newer version of the service (a migration revision this code does not know),
and migrates an older one up to this code's head.

Passwords never appear on a command line or in a message: PostgreSQL's tools get theirs through
the environment, and URLs are shown without them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from cmsreporting import migrate

Progress = Callable[[int, int], None]  # (done, total) in pages or steps


class BackupError(Exception):
    """A backup or restore that cannot be done, with what to do about it."""


@dataclass(frozen=True)
class Backup:
    """What a backup holds."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    revision: str | None  # the migration revision of the database backed up
    size: int


def shown(url: str | URL) -> str:
    """A database URL as it may be shown: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _kind(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"{shown(url)}: only SQLite and PostgreSQL databases are backed up")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(f"{shown(url)}: an in-memory database has nothing to back up")
    return Path(url.database)


def _known_revisions() -> set[str]:
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return {script.revision for script in scripts.walk_revisions()}


def _check_revision(revision: str | None, source: str) -> None:
    if revision is None:
        raise BackupError(f"{source} holds no migration revision: it is not a cmsreporting backup")
    if revision not in _known_revisions():
        raise BackupError(
            f"{source} was made by a newer version of cmsreporting (migration {revision}, "
            f"unknown to this version, whose newest is {migrate.head_revision()}); restore it "
            "with that version or a later one"
        )


def _write_atomically(output: Path, produce: Callable[[Path], None]) -> int:
    """Write `output` through a temporary file beside it: a failure leaves no partial file."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(handle)
    try:
        produce(Path(temporary))
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return output.stat().st_size


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_revision(path: Path) -> str | None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            return None
    return str(row[0]) if row else None


def _sqlite_copy(source: Path, target: Path, progress: Progress | None) -> None:
    """Copy a live SQLite database with the online backup API (100 pages a step, so writers
    are not held up for long)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:

        def step(status: int, remaining: int, total: int) -> None:
            if progress:
                progress(total - remaining, total)

        src.backup(dst, pages=100, progress=step)
    # the copy is a database in its own right: no write-ahead log beside it
    with sqlite3.connect(target) as dst:
        dst.execute("PRAGMA journal_mode=DELETE")


# --- PostgreSQL ---------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found: install PostgreSQL's client tools (Debian: postgresql-client) "
            "of the server's major version, or back up with the provider's own tools"
        )
    return found


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection options and environment for a URL (the password in the environment)."""
    args = [f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _pg_archive_revision(archive: Path) -> str | None:
    """The migration revision recorded in a pg_dump archive, read without restoring it."""
    data = _run(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(archive)],
        dict(os.environ),
        f"reading {archive}",
    )
    match = re.search(r"^COPY \S*alembic_version .*?;\n(\w+)\n\\\.", data, re.M | re.S)
    return match.group(1) if match else None


def _pg_is_empty(url: URL) -> bool:
    args, env = _pg_args(url)
    out = _run(
        [
            _tool("psql"),
            *args,
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            "--command=SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ],
        env,
        f"reading {shown(url)}",
    )
    return out.strip() == "0"


# --- the two operations -------------------------------------------------------------------------


def backup(database_url: str, output: Path, *, progress: Progress | None = None) -> Backup:
    """Back up the database at `database_url` into `output` (replaced only once complete)."""
    url = make_url(database_url)
    kind = _kind(url)
    if kind == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"{source} does not exist")
        size = _write_atomically(output, lambda tmp: _sqlite_copy(source, tmp, progress))
        return Backup(output, kind, _sqlite_revision(output), size)
    args, env = _pg_args(url)
    dump = _tool("pg_dump")

    def produce(tmp: Path) -> None:
        _run(
            [dump, *args, "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}"],
            env,
            f"pg_dump of {shown(url)}",
        )

    size = _write_atomically(output, produce)
    if progress:
        progress(1, 1)
    return Backup(output, kind, _pg_archive_revision(output), size)


def restore(database_url: str, archive: Path, *, progress: Progress | None = None) -> Backup:
    """Restore a backup into the new or empty database at `database_url`, then migrate it up
    to this code's head. Nothing is written when the backup cannot be restored."""
    url = make_url(database_url)
    kind = _kind(url)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    if kind == "sqlite":
        if archive.read_bytes()[:16] != b"SQLite format 3\x00":
            raise BackupError(f"{archive} is not a SQLite backup")
        revision = _sqlite_revision(archive)
        _check_revision(revision, str(archive))
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(
                f"{target} exists: restore into a new database file (nothing was changed)"
            )
        _write_atomically(target, lambda tmp: _sqlite_copy(archive, tmp, progress))
    else:
        revision = _pg_archive_revision(archive)
        _check_revision(revision, str(archive))
        if not _pg_is_empty(url):
            raise BackupError(
                f"{shown(url)} holds tables: restore into a new, empty database "
                "(nothing was changed)"
            )
        args, env = _pg_args(url)
        _run(
            [
                _tool("pg_restore"),
                *args,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                str(archive),
            ],
            env,
            f"pg_restore into {shown(url)}",
        )
        if progress:
            progress(1, 1)
    migrate.upgrade(database_url, "head")
    return Backup(archive, kind, revision, archive.stat().st_size)
