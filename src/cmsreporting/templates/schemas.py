"""API models of templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TemplateSummary(BaseModel):
    """A template without its content."""

    id: int
    convention: str
    cycle: str = Field(description="Cycle reference CONVENTION:CYCLE")
    version: str
    status: str = Field(description="draft, published or retired")
    title: str
    languages: list[str]
    question_count: int
    illustrative_sample: bool = Field(
        description="True when the question texts are illustrative, not the convention's own"
    )
    created_at: datetime
    created_by: str
    published_at: datetime | None
    retired_at: datetime | None


class TemplateOut(TemplateSummary):
    """A template with its sections, labels in one language."""

    lang: str = Field(description="Language of the labels")
    description: str | None = None
    metadata: dict[str, Any]
    sections: list[dict[str, Any]]


class PublishReport(BaseModel):
    """What publishing a template did."""

    template: TemplateSummary
    replaces: TemplateSummary | None = Field(
        description="The previously published version of the same cycle, if any"
    )
    mappings_carried: list[dict[str, Any]] = Field(
        description="Mappings of the previous version copied to this one, as proposed"
    )
    mappings_to_review: list[dict[str, Any]] = Field(
        description="Mappings of the previous version that do not fit this one, and why"
    )
