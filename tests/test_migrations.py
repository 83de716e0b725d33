"""Alembic migrations: empty -> head -> base -> head, on the database kind the suite runs on.

`cmsreporting.migrate.upgrade/downgrade` are synchronous and run their own event loop, so these
tests are plain functions. Each gets a throwaway empty database: a file under tmp_path on
SQLite, a database created and dropped for it on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
    bindparam,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, col

from cmsreporting import bootstrap, migrate
from cmsreporting.db import NAMING_CONVENTION, JSONDoc, create_engine, create_session_factory
from cmsreporting.models import metadata
from cmsreporting.reporting.models import Answer
from cmsreporting.templates.models import Template
from tests.factories.databases import IS_POSTGRES, admin_sql, app_client, pg_url

T = TypeVar("T")

# what may remain of an emptied database: Alembic's own bookkeeping
ALEMBIC = {"alembic_version", "alembic_version_pkc"}
# the job queue's own tables, which the migrations create on PostgreSQL (not models)
QUEUE = {
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
}


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty database of the kind the suite runs on."""
    if IS_POSTGRES:
        name = f"cmsr_mig_{uuid.uuid4().hex[:12]}"
        asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
        try:
            yield pg_url(name)
        finally:
            asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"


def on_connection(url: str, work: Callable[[Connection], T]) -> T:
    """Run `work` on a synchronous view of a connection to the database."""

    async def run() -> T:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                result: T = await conn.run_sync(work)
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


@dataclass(frozen=True)
class State:
    """What a database holds, schema-wise."""

    tables: set[str]
    revisions: list[str]
    other_objects: list[str]


def _state(conn: Connection) -> State:
    tables = set(inspect(conn).get_table_names())
    revisions: list[str] = []
    if "alembic_version" in tables:
        revisions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text(
                "SELECT type || ' ' || name FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' AND tbl_name NOT IN ('alembic_version')"
            )
        )
    else:
        rows = conn.execute(
            text(
                "SELECT c.relkind::text || ' ' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' "
                "AND c.relname NOT IN ('alembic_version', 'alembic_version_pkc') "
                "UNION ALL "
                "SELECT 'type ' || t.typname FROM pg_type t "
                "JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')"
            )
        )
    return State(tables=tables, revisions=revisions, other_objects=sorted(rows.scalars()))


def state(url: str) -> State:
    """The schema state of the database at `url`."""
    return on_connection(url, _state)


def _drift(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn,
        opts={
            "compare_type": True,
            "include_name": lambda name, type_, _: (
                not (type_ == "table" and name.startswith("procrastinate_"))
            ),
        },
    )
    diffs: list[Any] = compare_metadata(context, metadata)
    return diffs


def model_tables() -> set[str]:
    """Every table of the application's models."""
    return set(metadata.tables)


def assert_at_head(url: str) -> None:
    """Every model table exists, the revision is head, and the schema matches the models."""
    now = state(url)
    missing = model_tables() - now.tables
    assert not missing, f"tables missing after upgrade: {sorted(missing)}"
    assert now.tables - model_tables() - ALEMBIC == (QUEUE if IS_POSTGRES else set())
    assert now.revisions == [migrate.head_revision()]
    assert on_connection(url, _drift) == [], "the migrations and the models disagree"


def assert_emptied(url: str) -> None:
    """Nothing but Alembic's version table (or nothing at all) remains."""
    now = state(url)
    assert now.tables <= {"alembic_version"}, sorted(now.tables)
    assert now.revisions == []
    assert now.other_objects == [], now.other_objects


async def _load_bundled(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await bootstrap.load_bundled(session)
            return len((await session.scalars(select(col(Template.id)))).all())
    finally:
        await engine.dispose()


def load_bundled(url: str) -> int:
    """Load the reference data and bundled templates; the number of templates stored."""
    return asyncio.run(_load_bundled(url))


def revisions_base_to_head() -> list[tuple[str, str]]:
    """(revision, the revision below it or 'base'), oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    steps: list[tuple[str, str]] = []
    for revision in script.walk_revisions():
        down = revision.down_revision
        assert not isinstance(down, tuple | list), f"{revision.revision} is a merge"
        steps.append((revision.revision, down or "base"))
    return list(reversed(steps))


def test_the_migrations_form_one_line() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    assert len(script.get_bases()) == 1
    steps = revisions_base_to_head()
    assert steps[0][1] == "base"
    assert steps[-1][0] == migrate.head_revision()


def test_the_tables_share_one_metadata_with_the_naming_convention() -> None:
    assert metadata is SQLModel.metadata
    assert dict(metadata.naming_convention) == NAMING_CONVENTION
    prefixes = {
        PrimaryKeyConstraint: "pk",
        ForeignKeyConstraint: "fk",
        UniqueConstraint: "uq",
        CheckConstraint: "ck",
    }
    for name, table in metadata.tables.items():
        for constraint in table.constraints:
            prefix = prefixes[type(constraint)]
            if prefix == "pk":
                assert constraint.name == f"pk_{name}"
            else:
                assert str(constraint.name).startswith(f"{prefix}_{name}_"), constraint.name
        for index in table.indexes:
            assert str(index.name).startswith(("ix_", "uq_")), index.name


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    assert state(empty_url).tables == set()
    migrate.upgrade(empty_url, "head")
    assert_at_head(empty_url)
    migrate.upgrade(empty_url, "head")  # nothing left to do
    assert_at_head(empty_url)
    migrate.downgrade(empty_url, "base")
    assert_emptied(empty_url)
    migrate.upgrade(empty_url, "head")
    assert_at_head(empty_url)
    assert load_bundled(empty_url) >= 5


def test_downgrade_with_data_and_upgrade_again(empty_url: str) -> None:
    migrate.upgrade(empty_url, "head")
    assert load_bundled(empty_url) >= 5
    migrate.downgrade(empty_url, "base")
    assert_emptied(empty_url)
    migrate.upgrade(empty_url, "head")
    assert_at_head(empty_url)
    assert load_bundled(empty_url) >= 5


def test_each_revision_steps_down_and_up(empty_url: str) -> None:
    for revision, below in revisions_base_to_head():
        migrate.upgrade(empty_url, revision)
        assert state(empty_url).revisions == [revision]
        migrate.downgrade(empty_url, below)
        if below == "base":
            assert_emptied(empty_url)
        else:
            assert state(empty_url).revisions == [below]
        migrate.upgrade(empty_url, revision)
        assert state(empty_url).revisions == [revision]
    assert_at_head(empty_url)


async def _health(url: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """The three health endpoints of a fresh app on this database: status and body of each."""
    answers: dict[str, tuple[int, dict[str, Any]]] = {}
    async for http in app_client(url):
        for path in ("/health/live", "/health/ready", "/health"):
            response = await http.get(path)
            answers[path] = (response.status_code, response.json())
    return answers


def test_a_database_behind_the_code_is_live_but_not_ready(empty_url: str) -> None:
    revisions = [revision for revision, _ in revisions_base_to_head()]
    migrate.upgrade(empty_url, revisions[-2])  # one migration short of the code's head
    answers = asyncio.run(_health(empty_url))
    assert answers["/health/live"][0] == 200
    assert answers["/health/live"][1]["status"] == "ok"
    for path in ("/health/ready", "/health"):
        status, body = answers[path]
        assert status == 503, (path, body)
        assert body["database"] == "behind"
        assert body["revision"] == revisions[-2]
        assert body["head"] == revisions[-1] == migrate.head_revision()
        assert "cmsreporting db upgrade" in body["detail"]
    migrate.upgrade(empty_url, "head")
    answers = asyncio.run(_health(empty_url))
    for path in ("/health/ready", "/health"):
        status, body = answers[path]
        assert status == 200, (path, body)
        assert body == {
            "status": "ok",
            "database": "ok",
            "revision": migrate.head_revision(),
            "version": body["version"],
        }


BEFORE_ROW_IDS = "7c1e9b4d2a60"  # the revision before table rows had ids


def test_table_rows_stored_before_row_ids_get_ids_and_lose_them_going_down(
    empty_url: str,
) -> None:
    """Upgrading gives each stored table row a stable id (keeping ids already there and every
    other value as it is); downgrading takes the ids out again."""
    # the bundled data is loaded by the code of head, then the schema steps back to the
    # revision before row ids
    migrate.upgrade(empty_url, "head")
    assert load_bundled(empty_url) >= 5
    migrate.downgrade(empty_url, BEFORE_ROW_IDS)
    table = [{"instrument": "Wildlife Act", "year": 1992}, {"instrument": "Water Act"}]
    kept = [{"@id": "made-by-a-browser", "instrument": "Forest Act"}]
    written = {"CMS:COP15:V.1b": table, "AEWA:MOP9:B.5": kept, "CMS:COP15:V.2": "text"}

    def seed(conn: Connection) -> None:
        conn.execute(
            text(
                "INSERT INTO workspaces (id, party_iso3, created_at, created_by)"
                " VALUES (1, 'KEN', CURRENT_TIMESTAMP, 'user:test')"
            )
        )
        for slot, value in written.items():
            conn.execute(
                text(
                    "INSERT INTO answers (workspace_id, slot, value, revision, updated_at,"
                    " updated_by) VALUES (1, :slot, :value, 1, CURRENT_TIMESTAMP, 'user:test')"
                ).bindparams(bindparam("value", type_=JSONDoc)),
                {"slot": slot, "value": value},
            )
        conn.commit()

    def values(conn: Connection) -> dict[str, Any]:
        return dict(conn.execute(select(col(Answer.slot), col(Answer.value))).all())

    on_connection(empty_url, seed)
    migrate.upgrade(empty_url, "head")
    stored = on_connection(empty_url, values)
    ids = [row.pop("@id") for row in stored["CMS:COP15:V.1b"]]
    assert len(set(ids)) == 2
    assert all(str(uuid.UUID(i)) == i for i in ids)
    assert stored == written
    migrate.downgrade(empty_url, BEFORE_ROW_IDS)
    kept_down = {"AEWA:MOP9:B.5": [{"instrument": "Forest Act"}]}
    assert on_connection(empty_url, values) == written | kept_down
