"""Workspaces, answers, submissions, comments and idempotency records."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from cmsreporting.db import UNSET, JSONDoc, UTCDateTime, utcnow
from cmsreporting.registry.models import Cycle
from cmsreporting.templates.models import Template

SUBMISSION_STATUSES = ("submitted", "accepted", "returned")


class Workspace(SQLModel, table=True):
    """One Party's harmonized report covering one or more cycles."""

    __tablename__ = "workspaces"

    id: int = Field(default=None, primary_key=True)
    party_iso3: str = Field(
        foreign_key="parties.iso3", ondelete="RESTRICT", sa_type=String(3), index=True
    )
    title: str | None = Field(default=None, sa_type=String(300))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))

    cycles: list["WorkspaceCycle"] = Relationship(
        sa_relationship_kwargs={
            "lazy": "raise",
            "cascade": "all, delete-orphan",
            "order_by": "WorkspaceCycle.position",
        }
    )


class WorkspaceCycle(SQLModel, table=True):
    """A cycle a workspace reports on; a Party reports on a cycle from one workspace only."""

    __tablename__ = "workspace_cycles"
    __table_args__ = (UniqueConstraint("party_iso3", "cycle_id"),)

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(
        default=UNSET, foreign_key="workspaces.id", ondelete="CASCADE", index=True
    )
    party_iso3: str = Field(foreign_key="parties.iso3", ondelete="RESTRICT", sa_type=String(3))
    cycle_id: int = Field(foreign_key="cycles.id", ondelete="RESTRICT")
    position: int

    cycle: Cycle = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Answer(SQLModel, table=True):
    """The value of one slot (concept:KEY or CONVENTION:CYCLE:QUESTION) of a workspace."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slot"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: int = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    slot: str = Field(sa_type=String(300))
    value: Any = Field(default=UNSET, sa_type=JSONDoc, nullable=True)
    revision: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(sa_type=String(100))
    carried: dict[str, Any] | None = Field(default=UNSET, sa_type=JSONDoc, nullable=True)
    reused_from: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc, nullable=True)
    documents: list[int] | None = Field(default=None, sa_type=JSONDoc, nullable=True)
    """Ids of the documents of the Party's library the answer cites (none when null)."""


class Submission(SQLModel, table=True):
    """An immutable snapshot of one convention's report for one Party and cycle."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("party_iso3", "cycle_id", "version"),
        CheckConstraint("status IN ('submitted', 'accepted', 'returned')", name="status"),
    )

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="RESTRICT", index=True)
    party_iso3: str = Field(foreign_key="parties.iso3", ondelete="RESTRICT", sa_type=String(3))
    cycle_id: int = Field(default=UNSET, foreign_key="cycles.id", ondelete="RESTRICT", index=True)
    template_id: int = Field(default=UNSET, foreign_key="templates.id", ondelete="RESTRICT")
    version: int
    status: str = Field(default="submitted", sa_type=String(12))
    values: dict[str, Any] = Field(sa_type=JSONDoc)
    provenance: dict[str, str] = Field(sa_type=JSONDoc)
    reused: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc, nullable=True)
    issues: list[dict[str, Any]] = Field(sa_type=JSONDoc)
    documents: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONDoc, nullable=True)
    """The documents the report cites, each pinned to the version current at submission:
    document, version, title, type, file_name, size, sha256, media_type, questions."""
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_by: str = Field(sa_type=String(100))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, sa_type=String(100))

    cycle: Cycle = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    template: Template = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Comment(SQLModel, table=True):
    """Secretariat and Party feedback on a submission, optionally on one question."""

    __tablename__ = "comments"
    __table_args__ = (CheckConstraint("kind IN ('comment', 'accept', 'return')", name="kind"),)

    id: int = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", ondelete="CASCADE", index=True)
    question_id: str | None = Field(default=None, sa_type=String(100))
    kind: str = Field(default="comment", sa_type=String(10))
    body: str = Field(sa_type=Text)
    author: str = Field(sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a request made with an Idempotency-Key, to replay on repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    key: str = Field(sa_type=String(200))
    request_digest: str = Field(sa_type=String(64))
    status_code: int
    response: Any = Field(sa_type=JSONDoc)
    created_by: str = Field(sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


ASSIGNMENT_STATUSES = ("not_started", "in_progress", "ready", "done")


class Assignment(SQLModel, table=True):
    """A section of a workspace (a top-level section of one cycle's template, or the shared
    questions) that the Party's focal point gave a contributor to fill, and how far it is."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("workspace_id", "section"),
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'ready', 'done')", name="known_status"
        ),
    )

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    section: str = Field(sa_type=String(200))
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    status: str = Field(default="not_started", sa_type=String(12))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(sa_type=String(100))


class Presence(SQLModel, table=True):
    """Who has a workspace's form open, in which section and question, as of their last
    heartbeat (entries older than a minute are ignored and swept)."""

    __tablename__ = "presence"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    section: str | None = Field(default=None, sa_type=String(200))
    slot: str | None = Field(default=None, sa_type=String(300))
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
