"""Read the audit trail (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from cmsreporting.audit import service
from cmsreporting.auth.deps import AdminUser
from cmsreporting.db import SessionDep
from cmsreporting.pagination import PageOut, Paging

router = APIRouter(prefix="/api/v1", tags=["audit"])


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


@router.get("/audit", response_model=PageOut[AuditEventOut])
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
