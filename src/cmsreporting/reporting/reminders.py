"""Deadline reminders: on each day of the schedule before a cycle's due date, the focal points
of the Parties that are members of the convention on that due date and have not submitted get
an e-mail.

The day after the due date, those that have still not submitted get a "past due" notice.
A Party has submitted when its latest submission of the cycle is submitted or accepted (a
returned one is to be amended, so it is reminded). Each reminder's outbox key names the cycle,
the number of days and the recipient, so running the command twice on a day, or from several
machines, queues each reminder once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.auth import service as auth_service
from cmsreporting.config import get_settings
from cmsreporting.mail import outbox
from cmsreporting.registry.models import Cycle, Party
from cmsreporting.registry.service import members_on
from cmsreporting.reporting.models import Submission, WorkspaceCycle

ACTOR = "system:reminders"
PAST_DUE = -1  # the day after the due date


@dataclass(frozen=True)
class Reminder:
    """One reminder due today."""

    cycle: str
    due_on: date
    days: int
    party: str
    user: str
    name: str
    email: str
    language: str
    kind: str
    key: str
    workspace_id: int | None


def schedule_of(cycle: Cycle, default: list[int]) -> list[int]:
    """The days before its due date on which a cycle's reminders go out: its own schedule,
    else the service's default."""
    return list(cycle.reminder_days) if cycle.reminder_days is not None else list(default)


async def due_today(session: AsyncSession, *, today: date, schedule: list[int]) -> list[Reminder]:
    """The reminders the schedule asks for today, by cycle, Party and recipient."""
    cycles = [
        cycle
        for cycle in (await session.scalars(select(Cycle).order_by(col(Cycle.id)))).all()
        if (cycle.due_on - today).days in schedule_of(cycle, schedule)
        or (cycle.due_on - today).days == PAST_DUE
    ]
    reminders: list[Reminder] = []
    for cycle in cycles:
        days = (cycle.due_on - today).days
        # the Parties that owe this report: members on its due date
        members = set(await members_on(session, convention=cycle.convention_code, day=cycle.due_on))
        latest: dict[str, str] = {}
        for party, status in (
            await session.execute(
                select(col(Submission.party_iso3), col(Submission.status))
                .where(col(Submission.cycle_id) == cycle.id)
                .order_by(col(Submission.version))
            )
        ).all():
            latest[party] = status
        waiting = sorted(p for p in members if latest.get(p) not in ("submitted", "accepted"))
        if not waiting:
            continue
        workspaces = dict(
            (
                await session.execute(
                    select(col(WorkspaceCycle.party_iso3), col(WorkspaceCycle.workspace_id)).where(
                        col(WorkspaceCycle.cycle_id) == cycle.id
                    )
                )
            ).all()
        )
        holders = await auth_service.role_holders(
            session,
            role="focal_point",
            convention=cycle.convention_code,
            parties=list(waiting),
            mailable=True,
        )
        for user, grant_party in holders:
            party = grant_party or ""
            reminders.append(
                Reminder(
                    cycle=f"{cycle.convention_code}:{cycle.code}",
                    due_on=cycle.due_on,
                    days=days,
                    party=party,
                    user=user.name,
                    name=user.display_name or user.name,
                    email=user.email or "",
                    language=user.language,
                    kind="deadline.past_due" if days == PAST_DUE else "deadline.reminder",
                    key=f"deadline:{cycle.id}:{days}:user:{user.id}",
                    workspace_id=workspaces.get(party),
                )
            )
    return reminders


async def queue(session: AsyncSession, reminders: list[Reminder]) -> int:
    """Queue the reminders in the outbox (each key once); how many were new."""
    base = get_settings().public_url.rstrip("/")
    names = {
        p.iso3: p.name
        for p in (
            await session.scalars(
                select(Party).where(col(Party.iso3).in_({r.party for r in reminders}))
            )
        ).all()
    }
    queued = 0
    for r in reminders:
        convention, _, cycle = r.cycle.partition(":")
        link = f"{base}/ui/#/w/{r.workspace_id}" if r.workspace_id else f"{base}/ui/#/new"
        queued += await outbox.enqueue(
            session,
            actor=ACTOR,
            key=r.key,
            kind=r.kind,
            recipient=r.email,
            language=r.language,
            fields={
                "name": r.name,
                "convention": convention,
                "party": names.get(r.party, r.party),
                "cycle": cycle,
                "days": r.days,
                "due_on": r.due_on.isoformat(),
                "link": link,
            },
        )
    return queued
