"""Engine, session factory, table metadata and naming convention, the per-request session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from cmsreporting.errors import DomainError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _table_metadata() -> MetaData:
    """SQLModel's metadata, the one every table is defined on, with the naming convention.

    The convention names constraints and indexes as each table is defined, so it is set here,
    where every models module imports from, before any table exists.
    """
    metadata = SQLModel.metadata
    if metadata.tables and dict(metadata.naming_convention) != NAMING_CONVENTION:
        raise RuntimeError("tables were defined before the naming convention was set")
    metadata.naming_convention = NAMING_CONVENTION
    return metadata


metadata = _table_metadata()

UNSET: Any = ...
"""Field default of a column the constructor may leave out, as a mapped_column without a default:
the INSERT leaves it out unless a relationship fills it (foreign keys), and a nullable JSON column
stays SQL NULL (a default of None would store JSON null)."""


def orm_attr(attribute: Any) -> InstrumentedAttribute[Any]:
    """A table's class attribute as SQLAlchemy has it (SQLModel types it as the value it holds).

    For loader options (`joinedload(orm_attr(Submission.cycle))`) and pagination keys; in column
    expressions `sqlmodel.col()` keeps the column's type.
    """
    if not isinstance(attribute, InstrumentedAttribute):
        raise TypeError(f"not a mapped attribute: {attribute!r}")
    return attribute


JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    """Whether an id can name a row (integer primary keys are 32-bit)."""
    return 1 <= value <= MAX_ID


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 0,
    pool_timeout: float = 10.0,
    pool_recycle: int = 1800,
    pool_pre_ping: bool = False,
    foreign_keys: bool = True,
) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

    `foreign_keys=False` leaves SQLite's foreign key checks off, as migrations need when they
    rebuild or drop referenced tables. PostgreSQL connections are pooled (`max_overflow` more
    may open under load); without `pool_pre_ping` a connection the server dropped fails the request
    that finds it, which the app answers with 503, and the pool replaces it.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            pool_pre_ping=pool_pre_ping,
        )
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, foreign_keys=foreign_keys)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    """Foreign keys on, WAL, and BEGIN IMMEDIATE so concurrent writers queue instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, else rolled back
    (committed too when a DomainError says to keep its changes)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session:
        try:
            yield session
        except DomainError as exc:
            # a refusal that must be remembered (a failed sign-in) keeps what it wrote
            await (session.commit() if exc.keep_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
