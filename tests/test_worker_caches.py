"""What a worker keeps for a few seconds, and how soon a change made elsewhere shows.

A worker remembers an authenticated token (auth_cache_seconds): a token changed in the database
takes effect within that delay, a token's expiry exactly, and a new token at once. It keeps a
published template's row (template_cache_seconds): a retirement by another worker shows within
that delay, one through this worker at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from cmsreporting.auth.models import ApiToken, User
from cmsreporting.auth.service import create_token, digest_token, get_user
from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory, utcnow
from cmsreporting.main import create_app
from cmsreporting.templates.models import Template
from tests.helpers import assert_problem


async def _client(
    url: str, seconds: float, template_seconds: float = 5.0
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=url, auth_cache_seconds=seconds, template_cache_seconds=template_seconds
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def _in_database(url: str, statement: object) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(statement)  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def _new_token(url: str, user: str, expires_in: timedelta | None) -> str:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            owner = await get_user(session, name=user)
            expires_at = utcnow() + expires_in if expires_in is not None else None
            return await create_token(
                session, actor="test", user=owner, label="cache", expires_at=expires_at
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("seconds", [0.0, 0.6])
async def test_a_token_revoked_in_the_database_stops_working_within_the_delay(
    db_url: str, tokens: dict[str, str], seconds: float
) -> None:
    token = await _new_token(db_url, "ken_fp", None)
    headers = {"Authorization": f"Bearer {token}"}
    async for client in _client(db_url, seconds):
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        await _in_database(
            db_url,
            update(ApiToken)
            .where(col(ApiToken.digest) == digest_token(token))
            .values(revoked_at=utcnow()),
        )
        if seconds:
            # remembered for at most `seconds`
            assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
            await asyncio.sleep(seconds + 0.1)
        assert_problem(await client.get("/api/v1/me", headers=headers), 401)
        # other callers are untouched
        other = {"Authorization": f"Bearer {tokens['ken_fp']}"}
        assert (await client.get("/api/v1/me", headers=other)).status_code == 200


async def test_a_deactivated_user_is_refused_after_the_delay(
    db_url: str, tokens: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['ken_fp']}"}
    async for client in _client(db_url, 0.5):
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        await _in_database(
            db_url, update(User).where(col(User.name) == "ken_fp").values(active=False)
        )
        await asyncio.sleep(0.6)
        assert_problem(await client.get("/api/v1/me", headers=headers), 401)


async def test_a_remembered_token_still_expires_on_time(db_url: str) -> None:
    async for client in _client(db_url, 60.0):
        # made once the app has started, so its one second runs from here, not from start-up
        token = await _new_token(db_url, "ken_fp", timedelta(seconds=1))
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        await asyncio.sleep(1.1)
        assert_problem(await client.get("/api/v1/me", headers=headers), 401)


async def test_a_new_token_works_at_once_and_unknown_tokens_are_not_remembered(
    db_url: str,
) -> None:
    async for client in _client(db_url, 60.0):
        unknown = {"Authorization": "Bearer cmsr_not_yet_a_token"}
        assert_problem(await client.get("/api/v1/me", headers=unknown), 401)
        token = await _new_token(db_url, "ken_fp", None)
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["name"] == "ken_fp"


async def test_a_template_retired_elsewhere_shows_within_the_delay(
    db_url: str, auth: dict[str, dict[str, str]]
) -> None:
    async for client in _client(db_url, 5.0, template_seconds=0.5):
        listed = await client.get("/api/v1/templates", params={"cycle": "CMS:COP15"})
        tid = listed.json()["items"][0]["id"]
        assert (await client.get(f"/api/v1/templates/{tid}")).json()["status"] == "published"
        # another worker retires it: this one may show the kept row for at most the delay
        await _in_database(
            db_url,
            update(Template)
            .where(Template.id == tid)
            .values(status="retired", retired_at=utcnow()),
        )
        await asyncio.sleep(0.6)
        after = (await client.get(f"/api/v1/templates/{tid}")).json()
        assert after["status"] == "retired"
        assert after["retired_at"] is not None


async def test_a_template_retired_through_this_worker_shows_at_once(
    db_url: str, auth: dict[str, dict[str, str]]
) -> None:
    async for client in _client(db_url, 5.0, template_seconds=60.0):
        listed = await client.get("/api/v1/templates", params={"cycle": "CMS:COP15"})
        tid = listed.json()["items"][0]["id"]
        assert (await client.get(f"/api/v1/templates/{tid}")).json()["status"] == "published"
        retired = await client.post(f"/api/v1/templates/{tid}/retire", headers=auth["admin"])
        assert retired.status_code == 200, retired.text
        assert (await client.get(f"/api/v1/templates/{tid}")).json()["status"] == "retired"
