"""Test databases and HTTP clients on them.

A seeded database is migrated with `alembic upgrade head` and loaded with the bundled data and
the test users once per run; each test gets a clone of it: a file copy on SQLite, CREATE
DATABASE … TEMPLATE on PostgreSQL. CMSREPORTING_TEST_DATABASE_URL (a postgresql+asyncpg URL)
selects PostgreSQL; the default is SQLite in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from cmsreporting import bootstrap, migrate
from cmsreporting.auth import passwords
from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import ApiToken
from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.main import create_app

TEST_URL = os.environ.get("CMSREPORTING_TEST_DATABASE_URL", "")
IS_POSTGRES = TEST_URL.startswith("postgresql")

# name -> role grants (role, convention, party)
TEST_USERS: dict[str, list[tuple[str, str | None, str | None]]] = {
    "admin": [("admin", None, None)],
    "cms_sec": [("secretariat", "CMS", None)],
    "cbd_sec": [("secretariat", "CBD", None)],
    "ken_fp": [("focal_point", "CMS", "KEN"), ("focal_point", "CBD", "KEN")],
    "tza_fp": [("focal_point", "CMS", "TZA")],
    "reviewer": [("reviewer", None, None)],
    "ken_contrib": [("contributor", None, "KEN")],
}


def password_of(name: str) -> str:
    """The password of a test user (set in every seeded database)."""
    return f"{name} staple horse 2026"


@dataclass(frozen=True)
class Seed:
    """The seeded template database and the clear-text tokens of its users."""

    url: str
    tokens: dict[str, str]


async def seed_users(url: str, *, crosswalk: bool) -> dict[str, str]:
    """Load the bundled data and the test users into a migrated database; their tokens."""
    engine = create_engine(url)
    tokens: dict[str, str] = {}
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await bootstrap.load_bundled(session, crosswalk_data=crosswalk)
            for name, grants in TEST_USERS.items():
                user = await auth_service.create_user(session, actor="test", name=name)
                user.password_hash = await passwords.hash_password(password_of(name))
                for role, convention, party in grants:
                    await auth_service.grant_role(
                        session,
                        actor="test",
                        user=user,
                        role=role,
                        convention=convention,
                        party=party,
                    )
                # the same clear-text token in every seeded database, so `auth` fits them all
                tokens[name] = f"cmsr_test_{name}"
                session.add(
                    ApiToken(
                        user_id=user.id,
                        digest=auth_service.digest_token(tokens[name]),
                        prefix=tokens[name][:11],
                    )
                )
    finally:
        await engine.dispose()
    return tokens


async def admin_sql(sql: str) -> None:
    """Run one statement on the PostgreSQL server's `postgres` database, outside a transaction."""
    url = make_url(TEST_URL).set(database="postgres")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def pg_url(name: str) -> str:
    """The URL of another database on the PostgreSQL test server."""
    return make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)


def make_seed(tmp_path_factory: pytest.TempPathFactory, name: str, *, crosswalk: bool) -> Seed:
    """A migrated and seeded database to clone (with the bundled crosswalk or without)."""
    if IS_POSTGRES:
        database = f"cmsr_{name}_{os.getpid()}"
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{database}"'))
        asyncio.run(admin_sql(f'CREATE DATABASE "{database}"'))
        url = pg_url(database)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp(name) / 'seed.db'}"
    migrate.upgrade(url)
    return Seed(url=url, tokens=asyncio.run(seed_users(url, crosswalk=crosswalk)))


def drop_seed(seed: Seed) -> None:
    """Drop a seeded database (a PostgreSQL one; SQLite files go with their folder)."""
    if IS_POSTGRES:
        asyncio.run(
            admin_sql(f'DROP DATABASE IF EXISTS "{make_url(seed.url).database}" WITH (FORCE)')
        )


async def clone_database(seed: Seed, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh copy of a seeded database, dropped afterwards on PostgreSQL; yields its URL."""
    if IS_POSTGRES:
        name = f"cmsr_t_{uuid.uuid4().hex[:12]}"
        await admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(seed.url).database}"')
        yield pg_url(name)
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        target = tmp_path / f"test-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(Path(make_url(seed.url).database or ""), target)
        yield f"sqlite+aiosqlite:///{target}"


async def app_client(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a fresh app (its lifespan run) on this database (more settings:
    `settings`)."""
    app = create_app(Settings(database_url=url, max_body_bytes=2 * 1024 * 1024, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
