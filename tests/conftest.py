"""Test databases and HTTP clients.

Every test gets a fresh database cloned from one that was migrated with `alembic upgrade head`
and loaded with the bundled data once per run: a file copy on SQLite, CREATE DATABASE …
TEMPLATE on PostgreSQL. Set CMSREPORTING_TEST_DATABASE_URL to a postgresql+asyncpg URL to run
the suite on PostgreSQL; the default is SQLite in a temporary folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories.databases import Seed, app_client, clone_database, drop_seed, make_seed


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """Migrate and load one database per run (bundled data included), to clone for each test."""
    made = make_seed(tmp_path_factory, "seed", crosswalk=True)
    yield made
    drop_seed(made)


@pytest.fixture(scope="session")
def bare_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """Like `seed`, with the bundled templates but without the bundled crosswalk."""
    made = make_seed(tmp_path_factory, "bare", crosswalk=False)
    yield made
    drop_seed(made)


@pytest.fixture
async def db_url(seed: Seed, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh copy of the seeded database for one test."""
    async for url in clone_database(seed, tmp_path):
        yield url


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a fresh app on a fresh database."""
    async for http in app_client(db_url):
        yield http


@pytest.fixture
async def bare_client(bare_seed: Seed, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a fresh database that has templates but no crosswalk yet."""
    async for url in clone_database(bare_seed, tmp_path):
        async for http in app_client(url):
            yield http


@pytest.fixture
def tokens(seed: Seed) -> dict[str, str]:
    """Clear-text tokens of the test users, by user name."""
    return seed.tokens


@pytest.fixture
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers of the test users, by user name."""
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
