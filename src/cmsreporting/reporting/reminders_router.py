"""A cycle's reminder schedule, and what its reminders sent to whom (the convention's
secretariat and admins)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from cmsreporting.audit.service import record
from cmsreporting.auth.deps import CurrentUser
from cmsreporting.auth.principal import Principal
from cmsreporting.config import get_settings
from cmsreporting.db import SessionDep
from cmsreporting.errors import Forbidden
from cmsreporting.mail import outbox
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.registry.models import Cycle
from cmsreporting.registry.schemas import ReminderDays
from cmsreporting.registry.service import get_cycle
from cmsreporting.reporting.reminders import schedule_of

router = APIRouter(prefix="/api/v1", tags=["reminders"])


class ScheduleIn(BaseModel):
    """A cycle's own reminder schedule; null returns the cycle to the service's default."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"days": [45, 7]}]})

    days: ReminderDays | None


class ScheduleOut(BaseModel):
    """When a cycle's reminders go out."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cycle": "CMS:COP15",
                    "due_on": "2027-06-30",
                    "days": [60, 30, 7, 1],
                    "default": True,
                    "past_due_notice": True,
                }
            ]
        }
    )

    cycle: str
    due_on: date
    days: list[int] = Field(description="Days before the due date, largest first")
    default: bool = Field(description="True when the cycle follows the service's default")
    past_due_notice: bool = Field(
        default=True, description="Parties still not submitted get a notice the day after"
    )


class SentOut(BaseModel):
    """One reminder of the cycle in the outbox (the body, which holds a link, is not shown)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 88,
                    "kind": "deadline.reminder",
                    "days": 30,
                    "recipient": "fp@environment.go.tz",
                    "language": "fr",
                    "subject": "Rapport CMS de Tanzania attendu dans 30 jour(s) (COP15)",
                    "status": "sent",
                    "attempts": 1,
                    "created_at": "2027-05-31T06:00:00Z",
                    "sent_at": "2027-05-31T06:00:03Z",
                }
            ]
        }
    )

    id: int
    kind: str = Field(description="deadline.reminder or deadline.past_due")
    days: int | None = Field(description="Days before the due date; -1 for the past-due notice")
    recipient: str
    language: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


def _follow(principal: Principal, cycle: Cycle) -> None:
    if not (principal.is_admin or principal.is_secretariat(cycle.convention_code)):
        raise Forbidden(f"only admins and the {cycle.convention_code} secretariat do this")


def _out(cycle: Cycle) -> ScheduleOut:
    return ScheduleOut(
        cycle=cycle.ref,
        due_on=cycle.due_on,
        days=sorted(schedule_of(cycle, get_settings().reminder_days), reverse=True),
        default=cycle.reminder_days is None,
    )


@router.get(
    "/cycles/{ref}/reminders", summary="A cycle's reminder schedule", response_model=ScheduleOut
)
async def get_schedule(ref: str, session: SessionDep, principal: CurrentUser) -> ScheduleOut:
    """The days before the due date on which member Parties that have not submitted are
    reminded (the cycle's own schedule, else the service's default)."""
    cycle = await get_cycle(session, ref=ref)
    _follow(principal, cycle)
    return _out(cycle)


@router.put(
    "/cycles/{ref}/reminders", summary="Set a cycle's reminder schedule", response_model=ScheduleOut
)
async def set_schedule(
    ref: str, body: ScheduleIn, session: SessionDep, principal: CurrentUser
) -> ScheduleOut:
    """Set the cycle's reminder schedule (null: back to the default); audited."""
    cycle = await get_cycle(session, ref=ref)
    _follow(principal, cycle)
    before = cycle.reminder_days
    cycle.reminder_days = body.days
    session.add(cycle)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="cycle.reminders",
        target_type="cycle",
        target_id=cycle.ref,
        before={"reminder_days": before},
        after={"reminder_days": body.days},
    )
    return _out(cycle)


@router.get(
    "/cycles/{ref}/reminders/sent",
    summary="The reminders a cycle has sent",
    response_model=PageOut[SentOut],
)
async def list_sent(
    ref: str,
    session: SessionDep,
    principal: CurrentUser,
    paging: Paging,
    status: Annotated[Literal["pending", "sent", "failed"] | None, Query()] = None,
) -> PageOut[SentOut]:
    """What the cycle's reminders sent to whom, newest first: queued, sent or failed."""
    cycle = await get_cycle(session, ref=ref)
    _follow(principal, cycle)
    page = await outbox.list_messages(
        session,
        limit=paging.limit,
        cursor=paging.cursor,
        status=status,
        key_prefix=f"deadline:{cycle.id}:",
    )
    items = []
    for m in page.items:
        parts = m.key.split(":")
        items.append(
            SentOut(
                id=m.id,
                kind=m.kind,
                days=int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else None,
                recipient=m.recipient,
                language=m.language,
                subject=m.subject,
                status=m.status,
                attempts=m.attempts,
                created_at=m.created_at,
                sent_at=m.sent_at,
            )
        )
    return PageOut(items=items, next_cursor=page.next_cursor)
