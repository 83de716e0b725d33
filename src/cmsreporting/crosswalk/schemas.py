"""API models of the crosswalk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConceptOut(BaseModel):
    """A concept of the shared question bank, in its exchange form plus bookkeeping."""

    model_config = ConfigDict(extra="allow")

    key: str
    type: str
    text: dict[str, str]
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class MappingOut(BaseModel):
    """A link from a concept to one question of one template version."""

    id: int
    concept: str
    question: str = Field(description="CONVENTION:CYCLE:QUESTION_ID")
    template_id: int
    template_version: str
    relation: str
    transform: dict[str, Any]
    invertible: bool
    propagates: bool = Field(description="Approved exactMatch or closeMatch: fills values")
    justification: str | None
    mapping_justification: str
    confidence: float | None
    author: str
    status: str
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime


class MappingPatch(BaseModel):
    """Changes to a mapping; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    relation: str | None = None
    transform: dict[str, Any] | None = None
    justification: str | None = None
    mapping_justification: str | None = None
    confidence: float | None = None
    status: str | None = None


class TranslateIn(BaseModel):
    """Answers given in one template, to be translated into another."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", description="Cycle reference CONVENTION:CYCLE", max_length=81)
    to: str = Field(description="Cycle reference CONVENTION:CYCLE", max_length=81)
    answers: dict[str, Any] = Field(description="question id of `from` -> value")
