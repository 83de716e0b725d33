"""API models of templates."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TEMPLATE_DOCUMENT_REF = "#/components/schemas/TemplateDocument"


class DocumentFormat(StrEnum):
    """Formats of a template's document."""

    json = "json"
    xlsform = "xlsform"


class TemplateStatus(StrEnum):
    """Where a template is in its life: a private draft, frozen and in use, or no longer used."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


TEMPLATE_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "convention": "CMS",
    "cycle": "CMS:COP15",
    "version": "1.0.0",
    "status": "published",
    "title": "CMS National Report",
    "languages": ["en", "fr", "es"],
    "question_count": 129,
    "illustrative_sample": False,
    "created_at": "2026-01-05T10:00:00Z",
    "created_by": "user:cms_sec",
    "published_at": "2026-01-06T10:00:00Z",
    "retired_at": None,
}


class TemplateSummary(BaseModel):
    """A template without its content."""

    model_config = ConfigDict(json_schema_extra={"examples": [TEMPLATE_SUMMARY_EXAMPLE]})

    id: int
    convention: str
    cycle: str = Field(description="Cycle reference CONVENTION:CYCLE")
    version: str
    status: TemplateStatus
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


class LanguageStatus(BaseModel):
    """How many of a template's texts one of its languages has."""

    texts: int = Field(description="Texts (titles, questions, guidance, options) in the template")
    translated: int = Field(description="Texts that have this language")
    complete: bool
    untranslated: list[str] = Field(
        description="JSON pointers of the first 20 texts without this language (shown in the "
        "template's first language)"
    )


class TemplateOut(TemplateSummary):
    """A template with its sections, labels in one language."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                TEMPLATE_SUMMARY_EXAMPLE
                | {
                    "lang": "en",
                    "description": None,
                    "metadata": {},
                    "sections": [
                        {
                            "id": "I",
                            "title": "General information",
                            "questions": [{"id": "I.1", "type": "boolean", "text": "Is ...?"}],
                        }
                    ],
                    "translations": {
                        "en": {"texts": 3, "translated": 3, "complete": True, "untranslated": []}
                    },
                }
            ]
        }
    )

    lang: str = Field(description="Language of the labels")
    description: str | None = None
    metadata: dict[str, Any]
    sections: list[dict[str, Any]]
    translations: dict[str, LanguageStatus] = Field(
        description="Per declared language, how complete its texts are"
    )


class PublishReport(BaseModel):
    """What publishing a template did."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "template": TEMPLATE_SUMMARY_EXAMPLE | {"id": 7, "version": "1.1.0"},
                    "replaces": TEMPLATE_SUMMARY_EXAMPLE | {"status": "retired"},
                    "mappings_carried": [],
                    "mappings_to_review": [],
                }
            ]
        }
    )

    template: TemplateSummary
    replaces: TemplateSummary | None = Field(
        description="The previously published version of the same cycle, if any"
    )
    mappings_carried: list[dict[str, Any]] = Field(
        description="Mappings of the previous version copied to this one, as proposed; "
        "`question_changed` names what else changed in the question (text, help, conditions)"
    )
    mappings_to_review: list[dict[str, Any]] = Field(
        description="Mappings of the previous version that do not fit this one, and why"
    )


class QuestionChange(BaseModel):
    """A question added, removed or changed between two templates."""

    question: str
    change: str = Field(description="added, removed or changed")
    section: str = Field(description="The id of its section (in the newer template if kept)")
    type: str | None = Field(default=None, description="Its type (added and removed questions)")
    fields: list[dict[str, Any]] | None = Field(
        default=None,
        description="What changed: each member's `field`, `before` and `after` (text, type, "
        "options with the codes `added`, `removed`, `relabelled`, conditions, checks, section)",
    )


class TemplateDiff(BaseModel):
    """What changed from one template (`from`) to another (`to`), question by question."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": TEMPLATE_SUMMARY_EXAMPLE,
                    "to": TEMPLATE_SUMMARY_EXAMPLE | {"id": 7, "version": "1.1.0"},
                    "changes": [
                        {
                            "question": "III.1",
                            "change": "changed",
                            "section": "III",
                            "fields": [
                                {
                                    "field": "text",
                                    "before": {"en": "Is it in the NBSAP?"},
                                    "after": {"en": "Is it addressed by the NBSAP?"},
                                }
                            ],
                        },
                        {"question": "III.9", "change": "added", "section": "III", "type": "text"},
                    ],
                }
            ]
        },
    )

    from_: TemplateSummary = Field(alias="from")
    to: TemplateSummary
    changes: list[QuestionChange]


class TranslationStatus(BaseModel):
    """How complete and current a template's translation into one language is."""

    lang: str
    declared: bool = Field(description="Whether the template declares this language")
    total: int = Field(description="Texts of the template")
    translated: int = Field(description="Texts with a translation in this language")
    missing: list[str] = Field(description="Contexts (paths) of the texts without one")
    stale: list[str] = Field(
        description="Contexts of translations made from a source text that has changed since"
    )


class TranslationReport(BaseModel):
    """A template's translations, per target language."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "template": TEMPLATE_SUMMARY_EXAMPLE,
                    "source_language": "en",
                    "languages": [
                        {
                            "lang": "fr",
                            "declared": True,
                            "total": 412,
                            "translated": 410,
                            "missing": ["section:II/question:II.3/help"],
                            "stale": ["section:I/question:I.1/option:yes"],
                        }
                    ],
                }
            ]
        }
    )

    template: TemplateSummary
    source_language: str
    languages: list[TranslationStatus]
