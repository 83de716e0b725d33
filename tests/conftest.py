"""Test databases and HTTP clients.

Every test gets a fresh database cloned from one that was migrated with `alembic upgrade head`
and loaded with the bundled data once per run: a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL. Set CMSREPORTING_TEST_DATABASE_URL to a postgresql+asyncpg URL to run
the suite on PostgreSQL; the default is SQLite in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from cmsreporting import bootstrap, migrate
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
}


@dataclass(frozen=True)
class Seed:
    """The seeded template database and the clear-text tokens of its users."""

    url: str
    tokens: dict[str, str]


async def _seed(url: str, *, crosswalk: bool) -> dict[str, str]:
    engine = create_engine(url)
    tokens: dict[str, str] = {}
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await bootstrap.load_bundled(session, crosswalk_data=crosswalk)
            for name, grants in TEST_USERS.items():
                user = await auth_service.create_user(session, actor="test", name=name)
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


async def _admin(sql: str) -> None:
    url = make_url(TEST_URL).set(database="postgres")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _pg_url(name: str) -> str:
    return make_url(TEST_URL).set(database=name).render_as_string(hide_password=False)


def _make_seed(tmp_path_factory: pytest.TempPathFactory, name: str, *, crosswalk: bool) -> Seed:
    if IS_POSTGRES:
        database = f"cmsr_{name}_{os.getpid()}"
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}"'))
        asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
        url = _pg_url(database)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp(name) / 'seed.db'}"
    migrate.upgrade(url)
    return Seed(url=url, tokens=asyncio.run(_seed(url, crosswalk=crosswalk)))


def _drop_seed(seed: Seed) -> None:
    if IS_POSTGRES:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{make_url(seed.url).database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """Migrate and load one database per run (bundled data included), to clone for each test."""
    made = _make_seed(tmp_path_factory, "seed", crosswalk=True)
    yield made
    _drop_seed(made)


@pytest.fixture(scope="session")
def bare_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """Like `seed`, with the bundled templates but without the bundled crosswalk."""
    made = _make_seed(tmp_path_factory, "bare", crosswalk=False)
    yield made
    _drop_seed(made)


async def _clone(seed: Seed, tmp_path: Path) -> AsyncIterator[str]:
    if IS_POSTGRES:
        name = f"cmsr_t_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(seed.url).database}"')
        yield _pg_url(name)
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        target = tmp_path / f"test-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(Path(make_url(seed.url).database or ""), target)
        yield f"sqlite+aiosqlite:///{target}"


async def _client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, max_body_bytes=2 * 1024 * 1024))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
async def db_url(seed: Seed, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh copy of the seeded database for one test."""
    async for url in _clone(seed, tmp_path):
        yield url


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a fresh app on a fresh database."""
    async for http in _client(db_url):
        yield http


@pytest.fixture
async def bare_client(bare_seed: Seed, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a fresh database that has templates but no crosswalk yet."""
    async for url in _clone(bare_seed, tmp_path):
        async for http in _client(url):
            yield http


@pytest.fixture
def tokens(seed: Seed) -> dict[str, str]:
    """Clear-text tokens of the test users, by user name."""
    return seed.tokens


@pytest.fixture
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers of the test users, by user name."""
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
