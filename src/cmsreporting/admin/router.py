"""Read the audit trail and the e-mail outbox (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from cmsreporting.audit import service
from cmsreporting.auth.deps import AdminUser
from cmsreporting.db import SessionDep
from cmsreporting.mail import outbox
from cmsreporting.pagination import PageOut, Paging

router = APIRouter(prefix="/api/v1", tags=["administration"])


class AuditEventOut(BaseModel):
    """One recorded write."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 311,
                    "at": "2026-04-01T08:00:00Z",
                    "actor": "user:cms_sec",
                    "action": "submission.accept",
                    "target_type": "submission",
                    "target_id": "3",
                    "before": {"status": "submitted"},
                    "after": {"status": "accepted"},
                }
            ]
        }
    )

    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: Any
    after: Any


@router.get("/audit", summary="List the audit events", response_model=PageOut[AuditEventOut])
async def list_audit_events(
    session: SessionDep,
    principal: AdminUser,
    paging: Paging,
    target_type: Annotated[str | None, Query(max_length=40)] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
) -> PageOut[AuditEventOut]:
    """Audit events, newest first (admin)."""
    page = await service.list_events(
        session,
        limit=paging.limit,
        cursor=paging.cursor,
        target_type=target_type,
        target_id=target_id,
        actor=actor,
    )
    return PageOut(
        items=[
            AuditEventOut(
                id=e.id,
                at=e.at,
                actor=e.actor,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                before=e.before,
                after=e.after,
            )
            for e in page.items
        ],
        next_cursor=page.next_cursor,
    )


class MailOut(BaseModel):
    """One message of the outbox (its body, which may hold a sign-in link, is not shown)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 52,
                    "key": "submission.returned:12:user:7",
                    "kind": "submission.returned",
                    "recipient": "fp@environment.go.ke",
                    "language": "fr",
                    "subject": "Rapport CMS de Kenya renvoyé (COP15)",
                    "status": "sent",
                    "attempts": 1,
                    "created_at": "2026-04-01T08:00:00Z",
                    "next_attempt_at": "2026-04-01T08:00:00Z",
                    "sent_at": "2026-04-01T08:00:04Z",
                    "last_error": None,
                }
            ]
        }
    )

    id: int
    key: str
    kind: str
    recipient: str
    language: str
    subject: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


@router.get("/mail", summary="List the outbox", response_model=PageOut[MailOut])
async def list_mail(
    session: SessionDep,
    principal: AdminUser,
    paging: Paging,
    status: Annotated[Literal["pending", "sent", "failed"] | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=60)] = None,
    recipient: Annotated[str | None, Query(max_length=254)] = None,
) -> PageOut[MailOut]:
    """What was sent to whom, what waits and what failed: the outbox, newest first (admin)."""
    page = await outbox.list_messages(
        session,
        limit=paging.limit,
        cursor=paging.cursor,
        status=status,
        kind=kind,
        recipient=recipient,
    )
    return PageOut(
        items=[
            MailOut(
                id=m.id,
                key=m.key,
                kind=m.kind,
                recipient=m.recipient,
                language=m.language,
                subject=m.subject,
                status=m.status,
                attempts=m.attempts,
                created_at=m.created_at,
                next_attempt_at=m.next_attempt_at,
                sent_at=m.sent_at,
                last_error=m.last_error,
            )
            for m in page.items
        ],
        next_cursor=page.next_cursor,
    )
