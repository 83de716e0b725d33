"""Write and read audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.models import AuditEvent
from cmsreporting.db import orm_attr
from cmsreporting.pagination import Page, paginate


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit event to the current transaction."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    )


EVENT_COLUMNS = ("at", "actor", "action", "target_type", "target_id", "before", "after")


async def record_many(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """Append many audit events (each with the keys of EVENT_COLUMNS) in one executemany, for
    writes of many rows at once."""
    if events:
        await session.execute(insert(AuditEvent), events)


def insert_events_sql(rows: str) -> str:
    """The SQL that appends the audit events `rows` selects (one column per EVENT_COLUMNS, in
    that order), for a write that records its events inside its own statement (the PostgreSQL
    save of answers, reporting.answer_service)."""
    return f"INSERT INTO {AuditEvent.__tablename__} ({', '.join(EVENT_COLUMNS)}) {rows}"


async def list_events(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
) -> Page[AuditEvent]:
    """Audit events, newest first."""
    stmt = select(AuditEvent)
    if target_type:
        stmt = stmt.where(col(AuditEvent.target_type) == target_type)
    if target_id:
        stmt = stmt.where(col(AuditEvent.target_id) == target_id)
    if actor:
        stmt = stmt.where(col(AuditEvent.actor) == actor)
    return await paginate(
        session, stmt, orm_attr(AuditEvent.id), limit=limit, cursor=cursor, descending=True
    )
