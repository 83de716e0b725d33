"""Template documents and their lifecycle."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from cmsreporting.db import UNSET, JSONDoc, UTCDateTime, utcnow
from cmsreporting.registry.models import Cycle

TEMPLATE_STATUSES = ("draft", "published", "retired")


class Template(SQLModel, table=True):
    """One version of one convention's report for one cycle."""

    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("cycle_id", "version"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
    )

    id: int = Field(default=None, primary_key=True)
    convention_code: str = Field(
        foreign_key="conventions.code", ondelete="RESTRICT", sa_type=String(40), index=True
    )
    cycle_id: int = Field(default=UNSET, foreign_key="cycles.id", ondelete="RESTRICT")
    version: str = Field(sa_type=String(20))
    status: str = Field(default="draft", sa_type=String(12))
    title: str = Field(sa_type=String(500))
    languages: list[str] = Field(sa_type=JSONDoc)
    question_count: int
    illustrative_sample: bool = False
    document: dict[str, Any] = Field(sa_type=JSONDoc)
    digest: str = Field(sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by: str | None = Field(default=None, sa_type=String(100))
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    cycle: Cycle = Relationship(sa_relationship_kwargs={"lazy": "raise"})
