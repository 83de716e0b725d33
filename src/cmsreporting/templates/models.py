"""Template documents and their lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmsreporting.db import Base, JSONDoc, UTCDateTime, utcnow
from cmsreporting.registry.models import Cycle

TEMPLATE_STATUSES = ("draft", "published", "retired")


class Template(Base):
    """One version of one convention's report for one cycle."""

    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("cycle_id", "version"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_code: Mapped[str] = mapped_column(
        ForeignKey("conventions.code", ondelete="RESTRICT"), index=True
    )
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="RESTRICT"))
    version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    title: Mapped[str] = mapped_column(String(500))
    languages: Mapped[list[str]] = mapped_column(JSONDoc)
    question_count: Mapped[int] = mapped_column(Integer)
    illustrative_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    published_by: Mapped[str | None] = mapped_column(String(100), default=None)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    cycle: Mapped[Cycle] = relationship(lazy="raise")
