"""Concepts (the shared question bank), their target tags, and mappings to questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cmsreporting.db import Base, JSONDoc, UTCDateTime, utcnow
from cmsreporting.templates.models import Template

RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
MAPPING_STATUSES = ("proposed", "approved")
PROPAGATING_SQL = text("status = 'approved' AND relation IN ('exactMatch', 'closeMatch')")


class Concept(Base):
    """One thing several conventions ask, with its canonical type and options."""

    __tablename__ = "concepts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tags: Mapped[list[ConceptTag]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ConceptTag.tag"
    )


class ConceptTag(Base):
    """A strategic target a concept serves (GBF:T3, SPMS:T10…)."""

    __tablename__ = "concept_tags"

    concept_id: Mapped[int] = mapped_column(
        ForeignKey("concepts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class Mapping(Base):
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

    id: Mapped[int] = mapped_column(primary_key=True)
    concept_id: Mapped[int] = mapped_column(ForeignKey("concepts.id", ondelete="RESTRICT"))
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="RESTRICT"))
    question_id: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(20))
    transform: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    justification: Mapped[str | None] = mapped_column(Text, default=None)
    mapping_justification: Mapped[str] = mapped_column(
        String(60), default="semapv:ManualMappingCuration"
    )
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    author: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    approved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    concept: Mapped[Concept] = relationship(lazy="raise")
    template: Mapped[Template] = relationship(lazy="raise")
