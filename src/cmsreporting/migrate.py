"""Run Alembic migrations from code (the CLI and the tests), one process at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from cmsreporting.resources import migrations_dir


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the packaged migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to `revision`."""
    command.downgrade(alembic_config(url), revision)


@cache
def head_revision() -> str | None:
    """The newest migration revision shipped with the code (read once per process)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


STARTUP_LOCK = 0x636D_7372_0001  # the advisory lock key of migrations and first-start loading


class StartupLockTimeout(RuntimeError):
    """Another process held the startup lock longer than we would wait."""


@asynccontextmanager
async def startup_lock(engine: AsyncEngine, *, wait_seconds: float) -> AsyncIterator[None]:
    """Hold PostgreSQL's session-level advisory lock STARTUP_LOCK for the block (other processes
    wait for it, at most `wait_seconds`); on SQLite, nothing (one file, one machine)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as conn:
        await conn.execute(text(f"SET lock_timeout = {int(wait_seconds * 1000)}"))
        try:
            await conn.execute(text(f"SELECT pg_advisory_lock({STARTUP_LOCK})"))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise StartupLockTimeout(
                    f"another process has been migrating or loading for over {wait_seconds:g} s "
                    "(CMSREPORTING_MIGRATE_LOCK_TIMEOUT)"
                ) from None
            raise
        await conn.commit()  # the lock belongs to the session, not to this transaction
        try:
            yield
        finally:
            await conn.execute(text(f"SELECT pg_advisory_unlock({STARTUP_LOCK})"))
            await conn.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's migration revision (None: not migrated at all)."""
    async with engine.connect() as conn:
        has_table = await conn.run_sync(
            lambda sync: sync.dialect.has_table(sync, "alembic_version")
        )
        if not has_table:
            return None
        revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        return str(revision) if revision is not None else None
