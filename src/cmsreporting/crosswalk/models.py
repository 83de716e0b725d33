"""Concepts (the shared question bank), their target tags, and mappings to questions."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, Relationship, SQLModel

from cmsreporting.db import UNSET, JSONDoc, UTCDateTime, utcnow
from cmsreporting.templates.models import Template

RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
MAPPING_STATUSES = ("proposed", "approved")
PROPAGATING_SQL = text("status = 'approved' AND relation IN ('exactMatch', 'closeMatch')")


class Concept(SQLModel, table=True):
    """One thing several conventions ask, with its canonical type and options."""

    __tablename__ = "concepts"

    id: int = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(100), unique=True)
    type: str = Field(sa_type=String(20))
    document: dict[str, Any] = Field(sa_type=JSONDoc)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    tags: list["ConceptTag"] = Relationship(
        sa_relationship_kwargs={
            "lazy": "raise",
            "cascade": "all, delete-orphan",
            "order_by": "ConceptTag.tag",
        }
    )


class ConceptTag(SQLModel, table=True):
    """A strategic target a concept serves (GBF:T3, SPMS:T10…)."""

    __tablename__ = "concept_tags"

    concept_id: int = Field(
        default=UNSET, foreign_key="concepts.id", ondelete="CASCADE", primary_key=True
    )
    tag: str = Field(sa_type=String(60), primary_key=True, index=True)


class Mapping(SQLModel, table=True):
    """A SKOS link from a concept to a question of one template version, with a transform."""

    __tablename__ = "mappings"
    __table_args__ = (
        UniqueConstraint("concept_id", "template_id", "question_id"),
        CheckConstraint(
            "relation IN ('exactMatch', 'closeMatch', 'broadMatch', 'narrowMatch', 'relatedMatch')",
            name="relation",
        ),
        CheckConstraint("status IN ('proposed', 'approved')", name="status"),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence"
        ),
        Index("ix_mappings_template_question", "template_id", "question_id"),
        # a question takes values from one concept only, even under concurrent approvals
        Index(
            "uq_mappings_one_propagating",
            "template_id",
            "question_id",
            unique=True,
            postgresql_where=PROPAGATING_SQL,
            sqlite_where=PROPAGATING_SQL,
        ),
    )

    id: int = Field(default=None, primary_key=True)
    concept_id: int = Field(default=UNSET, foreign_key="concepts.id", ondelete="RESTRICT")
    template_id: int = Field(default=UNSET, foreign_key="templates.id", ondelete="RESTRICT")
    question_id: str = Field(sa_type=String(100))
    relation: str = Field(sa_type=String(20))
    transform: dict[str, Any] = Field(sa_type=JSONDoc)
    justification: str | None = Field(default=None, sa_type=Text)
    mapping_justification: str = Field(default="semapv:ManualMappingCuration", sa_type=String(60))
    confidence: float | None = None
    author: str = Field(sa_type=String(200))
    status: str = Field(default="proposed", sa_type=String(10))
    approved_by: str | None = Field(default=None, sa_type=String(200))
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    concept: Concept = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    template: Template = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class NegativeMapping(SQLModel, table=True):
    """A rejected suggestion: these two are NOT related (SSSOM predicate_modifier Not), so the
    pair is never suggested again, either way round."""

    __tablename__ = "negative_mappings"
    __table_args__ = (
        UniqueConstraint("subject", "object"),
        CheckConstraint(
            "relation IN ('exactMatch', 'closeMatch', 'broadMatch', 'narrowMatch', 'relatedMatch')",
            name="relation",
        ),
    )

    id: int = Field(default=None, primary_key=True)
    subject: str = Field(sa_type=String(220), index=True)
    """A question reference CONVENTION:CYCLE:QUESTION_ID (the suggestion's `from`)."""
    object: str = Field(sa_type=String(220), index=True)
    """A question reference, or concept:KEY (the suggestion's `to`)."""
    relation: str = Field(sa_type=String(20))
    justification: str | None = Field(default=None, sa_type=Text)
    confidence: float | None = None
    author: str = Field(sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))
