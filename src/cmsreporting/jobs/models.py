"""Export jobs: what was asked, by whom, how far it got, and its file until it expires."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from cmsreporting.db import JSONDoc, UTCDateTime, utcnow


class ExportJob(SQLModel, table=True):
    """One cycle export run in the background.

    `status` goes queued → running → done or failed; a job whose worker died is run again
    (`attempts` counts the runs) and completes once: the file is written under a temporary name
    and renamed, and only the first run to finish marks it done. `only_accepted` records the
    scope the requester could read (reviewers: accepted reports only), so that a job is shown
    only to those who may read what it holds.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'expired')", name="known_status"
        ),
        Index("ix_export_jobs_status_created_at", "status", "created_at"),
    )

    id: int = Field(default=None, primary_key=True)
    cycle_ref: str = Field(sa_type=String(80))
    convention_code: str = Field(sa_type=String(20))
    params: dict[str, Any] = Field(sa_type=JSONDoc)
    only_accepted: bool = False
    requested_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    request_id: str | None = Field(default=None, sa_type=String(128))
    status: str = Field(default="queued", sa_type=String(10))
    attempts: int = 0
    done_parties: int = 0
    total_parties: int = 0
    error: str | None = Field(default=None, sa_type=String(500))
    filename: str | None = Field(default=None, sa_type=String(200))
    size: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
