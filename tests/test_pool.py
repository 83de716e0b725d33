"""Pooled PostgreSQL connections are not tested on checkout (db_pool_pre_ping off): a connection
the server dropped fails the one request that finds it with 503 and Retry-After, and the pool
replaces it, so the next request succeeds."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.factories.databases import IS_POSTGRES, admin_sql

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL connections only")


async def test_a_dropped_connection_fails_one_request_and_is_replaced(
    client: httpx.AsyncClient, db_url: str, tokens: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['ken_fp']}"}
    assert (await client.get("/api/v1/workspaces", headers=headers)).status_code == 200
    # the server ends every connection of this database (a restart or a failover does the same)
    database = make_url(db_url).database or ""
    assert re.fullmatch(r"cmsr_t_[0-9a-f]+", database), database  # the suite's own name
    await admin_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 (checked above)
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    # every pooled connection is dead: the first request finds one
    first = await client.get("/api/v1/workspaces", headers=headers)
    assert first.status_code == 503, first.text
    assert first.headers["content-type"].startswith("application/problem+json")
    assert first.headers["retry-after"]
    again = await client.get("/api/v1/workspaces", headers=headers)
    assert again.status_code == 200, again.text
    assert (await client.get("/health")).json()["database"] == "ok"
