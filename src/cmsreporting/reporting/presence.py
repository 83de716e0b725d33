"""Presence: who has a workspace's form open, in which section and question.

A browser tab sends a heartbeat (about every 20 s while it is visible, and when its place
changes); an entry older than `FRESH` no longer counts, and is swept by the next heartbeat of
the workspace. Stored in the database, so every server process sees the same presence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.auth.models import User
from cmsreporting.auth.principal import Principal
from cmsreporting.db import utcnow
from cmsreporting.reporting.models import Presence

FRESH = timedelta(seconds=60)


@dataclass(frozen=True)
class Here:
    """Someone else in the form."""

    user: str
    display_name: str | None
    section: str | None
    slot: str | None
    seen_at: datetime


async def beat(
    session: AsyncSession,
    *,
    workspace_id: int,
    principal: Principal,
    section: str | None,
    slot: str | None,
) -> None:
    """Record that the caller is in the form now, in this section and question (if any)."""
    now = utcnow()
    values = {
        "workspace_id": workspace_id,
        "user_id": principal.user_id,
        "section": section,
        "slot": slot,
        "seen_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Presence).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "user_id"],
            set_={"section": section, "slot": slot, "seen_at": now},
        )
    )
    await session.execute(
        delete(Presence).where(
            col(Presence.workspace_id) == workspace_id, col(Presence.seen_at) < now - FRESH
        )
    )


async def others(session: AsyncSession, *, workspace_id: int, principal: Principal) -> list[Here]:
    """Who else is in the form now (a heartbeat within the last minute)."""
    rows = await session.execute(
        select(
            col(User.name),
            col(User.display_name),
            col(Presence.section),
            col(Presence.slot),
            col(Presence.seen_at),
        )
        .join(User, col(User.id) == col(Presence.user_id))
        .where(
            col(Presence.workspace_id) == workspace_id,
            col(Presence.user_id) != principal.user_id,
            col(Presence.seen_at) >= utcnow() - FRESH,
        )
        .order_by(col(User.name))
    )
    return [Here(*row) for row in rows.all()]
