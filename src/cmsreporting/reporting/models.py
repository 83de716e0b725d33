"""Workspaces, answers, submissions, comments and idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmsreporting.db import Base, JSONDoc, UTCDateTime, utcnow
from cmsreporting.registry.models import Cycle
from cmsreporting.templates.models import Template

SUBMISSION_STATUSES = ("submitted", "accepted", "returned")


class Workspace(Base):
    """One Party's harmonized report covering one or more cycles."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_iso3: Mapped[str] = mapped_column(
        ForeignKey("parties.iso3", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    cycles: Mapped[list[WorkspaceCycle]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="WorkspaceCycle.position"
    )


class WorkspaceCycle(Base):
    """A cycle a workspace reports on; a Party reports on a cycle from one workspace only."""

    __tablename__ = "workspace_cycles"
    __table_args__ = (UniqueConstraint("party_iso3", "cycle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    party_iso3: Mapped[str] = mapped_column(ForeignKey("parties.iso3", ondelete="RESTRICT"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)

    cycle: Mapped[Cycle] = relationship(lazy="raise")


class Answer(Base):
    """The value of one slot (concept:KEY or CONVENTION:CYCLE:QUESTION) of a workspace."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slot"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(String(300))
    value: Mapped[Any] = mapped_column(JSONDoc, nullable=True, default=None)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    carried: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True, default=None)


class Submission(Base):
    """An immutable snapshot of one convention's report for one Party and cycle."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("party_iso3", "cycle_id", "version"),
        CheckConstraint("status IN ('submitted', 'accepted', 'returned')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="RESTRICT"), index=True
    )
    party_iso3: Mapped[str] = mapped_column(ForeignKey("parties.iso3", ondelete="RESTRICT"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="RESTRICT"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    values: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    provenance: Mapped[dict[str, str]] = mapped_column(JSONDoc)
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)

    cycle: Mapped[Cycle] = relationship(lazy="raise")
    template: Mapped[Template] = relationship(lazy="raise")


class Comment(Base):
    """Secretariat and Party feedback on a submission, optionally on one question."""

    __tablename__ = "comments"
    __table_args__ = (CheckConstraint("kind IN ('comment', 'accept', 'return')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str | None] = mapped_column(String(100), default=None)
    kind: Mapped[str] = mapped_column(String(10), default="comment")
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """The first response to a request made with an Idempotency-Key, to replay on repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSONDoc)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
