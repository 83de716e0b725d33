"""API models of the crosswalk."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cmsreporting.templates.issues import IssueOut
from cmsreporting.templates.schemas import TemplateStatus

CROSSWALK_DOCUMENT_REF = "#/components/schemas/CrosswalkDocument"
MAPPING_DOCUMENT_REF = "#/components/schemas/CrosswalkDocument_mapping"
CONCEPT_DOCUMENT_REF = "#/components/schemas/CrosswalkDocument_concept"


class Relation(StrEnum):
    """The SKOS mapping relation of a concept to a question."""

    EXACT_MATCH = "exactMatch"
    CLOSE_MATCH = "closeMatch"
    BROAD_MATCH = "broadMatch"
    NARROW_MATCH = "narrowMatch"
    RELATED_MATCH = "relatedMatch"


class MappingStatus(StrEnum):
    """A proposed mapping only suggests; an approved one may fill values."""

    PROPOSED = "proposed"
    APPROVED = "approved"


CONCEPT_EXAMPLE: dict[str, Any] = {
    "key": "coordination.national_committee",
    "type": "boolean",
    "text": {"en": "Is there a national committee coordinating biodiversity work?"},
    "tags": ["GBF:T14"],
    "created_at": "2026-01-10T08:00:00Z",
    "updated_at": "2026-01-10T08:00:00Z",
}

MAPPING_EXAMPLE: dict[str, Any] = {
    "id": 21,
    "concept": "coordination.national_committee",
    "question": "CMS:COP15:I(a).3",
    "template_id": 4,
    "template_version": "1.0.0",
    "relation": "closeMatch",
    "transform": {},
    "invertible": True,
    "propagates": True,
    "justification": "Both ask whether a national coordinating body exists.",
    "mapping_justification": "semapv:ManualMappingCuration",
    "confidence": 0.9,
    "author": "cmsreporting curation",
    "status": "approved",
    "approved_by": "user:cms_sec",
    "approved_at": "2026-01-12T09:30:00Z",
    "created_at": "2026-01-11T14:00:00Z",
    "created_by": "user:admin",
    "updated_at": "2026-01-12T09:30:00Z",
}


class ConceptOut(BaseModel):
    """A concept of the shared question bank, in its exchange form plus bookkeeping."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "description": "A concept of the shared question bank: its exchange form "
            f"({CONCEPT_DOCUMENT_REF}) plus bookkeeping.",
            "examples": [CONCEPT_EXAMPLE],
        },
    )

    key: str
    type: str
    text: dict[str, str]
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class MappingOut(BaseModel):
    """A link from a concept to one question of one template version."""

    model_config = ConfigDict(json_schema_extra={"examples": [MAPPING_EXAMPLE]})

    id: int
    concept: str
    question: str = Field(description="CONVENTION:CYCLE:QUESTION_ID")
    template_id: int
    template_version: str
    relation: Relation
    transform: dict[str, Any]
    invertible: bool
    propagates: bool = Field(description="Approved exactMatch or closeMatch: fills values")
    justification: str | None
    mapping_justification: str
    confidence: float | None
    author: str
    status: MappingStatus
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime


class MappingPatch(BaseModel):
    """Changes to a mapping; fields left out stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "approved"},
                {"relation": "closeMatch", "justification": "Asks the same, for any committee"},
            ]
        },
    )

    relation: Relation | None = None
    transform: dict[str, Any] | None = None
    justification: str | None = None
    mapping_justification: str | None = None
    confidence: float | None = None
    status: MappingStatus | None = None


class TranslateIn(BaseModel):
    """Answers given in one template, to be translated into another."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": "CMS:COP15",
                    "to": "AEWA:MOP9",
                    "answers": {"CMS:COP15:I(a).3": True},
                }
            ]
        },
    )

    from_: str = Field(alias="from", description="Cycle reference CONVENTION:CYCLE", max_length=81)
    to: str = Field(description="Cycle reference CONVENTION:CYCLE", max_length=81)
    answers: dict[str, Any] = Field(description="question id of `from` -> value")


# --- crosswalk queries -------------------------------------------------------------------


class TemplateVersionOut(BaseModel):
    """A cycle and the published template used for it."""

    cycle: str
    template_id: int
    version: str


class CoverageRowOut(BaseModel):
    """Whether one question of `to` can be filled from `from`, and how (the best link)."""

    question: str
    type: str
    fillable: bool = Field(description="Filled through approved exact or close matches")
    relation: Relation | None = Field(description="The relation the two mappings combine to")
    concept: str | None
    from_question: str | None
    share: float = Field(description="Share of the question's values that can be carried")
    suggestion_only: bool = Field(description="Linked, but only to suggest a value")


class RelationShareOut(BaseModel):
    """Fillable questions by one relation."""

    count: int
    share: float


class CoverageTotalsOut(BaseModel):
    """Totals over the questions of `to`."""

    questions: int
    fillable: int
    suggestion_only: int
    unlinked: int
    share_fillable: float
    by_relation: dict[Relation, RelationShareOut]
    value_share: float


class CoverageOut(BaseModel):
    """For each question of `to`: can it be filled from `from`, by which relation and concept."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": {"cycle": "CMS:COP15", "template_id": 4, "version": "1.0.0"},
                    "to": {"cycle": "AEWA:MOP9", "template_id": 1, "version": "1.0.0"},
                    "questions": [
                        {
                            "question": "A.4",
                            "type": "boolean",
                            "fillable": True,
                            "relation": "closeMatch",
                            "concept": "coordination.national_committee",
                            "from_question": "I(a).3",
                            "share": 1.0,
                            "suggestion_only": False,
                        }
                    ],
                    "totals": {
                        "questions": 1,
                        "fillable": 1,
                        "suggestion_only": 0,
                        "unlinked": 0,
                        "share_fillable": 1.0,
                        "by_relation": {"closeMatch": {"count": 1, "share": 1.0}},
                        "value_share": 1.0,
                    },
                }
            ]
        },
    )

    from_: TemplateVersionOut = Field(alias="from")
    to: TemplateVersionOut
    questions: list[CoverageRowOut]
    totals: CoverageTotalsOut


class TranslatedFromOut(BaseModel):
    """Where a translated value came from."""

    concept: str
    from_question: str


class TranslatedSuggestionOut(BaseModel):
    """A value offered (not filled) for a question of `to`."""

    value: Any
    concept: str
    relation: Relation
    from_question: str | None


class TranslateConflictOut(BaseModel):
    """Two answers of `from` giving a concept different values: the first is kept."""

    concept: str
    kept: str
    ignored: str


class TranslateOut(BaseModel):
    """The `to` report of answers given in `from`."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": {"cycle": "CMS:COP15", "template_id": 4, "version": "1.0.0"},
                    "to": {"cycle": "AEWA:MOP9", "template_id": 1, "version": "1.0.0"},
                    "values": {"A.4": True},
                    "provenance": {
                        "A.4": {
                            "concept": "coordination.national_committee",
                            "from_question": "I(a).3",
                        }
                    },
                    "suggestions": {},
                    "needs_direct_answer": [],
                    "left_to_answer": ["A.1"],
                    "hidden": ["A.3"],
                    "issues": [
                        {
                            "severity": "error",
                            "question": "A.1",
                            "code": "required",
                            "message": "an answer is required",
                        }
                    ],
                    "conflicts": [],
                    "untranslated": [],
                }
            ]
        },
    )

    from_: TemplateVersionOut = Field(alias="from")
    to: TemplateVersionOut
    values: dict[str, Any] = Field(description="question id of `to` -> value")
    provenance: dict[str, TranslatedFromOut]
    suggestions: dict[str, TranslatedSuggestionOut]
    needs_direct_answer: list[str]
    left_to_answer: list[str]
    hidden: list[str]
    issues: list[IssueOut]
    conflicts: list[TranslateConflictOut]
    untranslated: list[str] = Field(description="Answers of `from` that reached no question")


class QuestionConceptOut(BaseModel):
    """A concept the question is mapped to."""

    concept: str
    relation: Relation
    status: MappingStatus
    mapping_id: int
    transform: dict[str, Any]


class LinkViaOut(BaseModel):
    """The concept two questions share, and the relation of each to it."""

    concept: str
    from_relation: Relation
    to_relation: Relation


class QuestionLinkOut(BaseModel):
    """A question of another template linked to this one through a shared concept."""

    question: str = Field(description="CONVENTION:CYCLE:QUESTION_ID")
    template_version: str
    template_status: TemplateStatus
    via: LinkViaOut
    relation: Relation
    propagates: bool
    transform_from: dict[str, Any]
    transform_to: dict[str, Any]
    invertible: bool
    mapping_ids: list[int]


class QuestionLinksOut(BaseModel):
    """Everything linked to one question across conventions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "question": "CMS:COP15:I(a).3",
                    "template_id": 4,
                    "template_version": "1.0.0",
                    "type": "boolean",
                    "concepts": [
                        {
                            "concept": "coordination.national_committee",
                            "relation": "closeMatch",
                            "status": "approved",
                            "mapping_id": 21,
                            "transform": {},
                        }
                    ],
                    "links": [
                        {
                            "question": "AEWA:MOP9:A.4",
                            "template_version": "1.0.0",
                            "template_status": "published",
                            "via": {
                                "concept": "coordination.national_committee",
                                "from_relation": "closeMatch",
                                "to_relation": "closeMatch",
                            },
                            "relation": "closeMatch",
                            "propagates": True,
                            "transform_from": {},
                            "transform_to": {},
                            "invertible": True,
                            "mapping_ids": [21, 7],
                        }
                    ],
                }
            ]
        }
    )

    question: str
    template_id: int
    template_version: str
    type: str
    concepts: list[QuestionConceptOut]
    links: list[QuestionLinkOut]


# --- suggestions ------------------------------------------------------------------------------

QUESTION_REF = r"^[^:\s]+:[^:\s]+:[^:\s]+$"
SUGGESTION_TARGET = r"^([^:\s]+:[^:\s]+:[^:\s]+|concept:\S+)$"

SUGGESTION_EXAMPLE: dict[str, Any] = {
    "from_question": "CMS:COP15:I(a).3",
    "to_question": "AEWA:MOP9:A.4",
    "score": 0.71,
    "relation": "closeMatch",
    "transform": {},
    "reasons": [
        "wording similarity 0.64 (word and character n-grams)",
        "shared targets: SPMS:T2",
        "same answer type (boolean), values carried as they are",
    ],
}


class SuggestionOut(BaseModel):
    """A candidate pair: never approved by being suggested."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUGGESTION_EXAMPLE]})

    from_question: str = Field(description="CONVENTION:CYCLE:QUESTION_ID of `from`")
    to_question: str = Field(
        description="CONVENTION:CYCLE:QUESTION_ID of `to`, or concept:KEY against the concepts"
    )
    score: float = Field(ge=0, le=1)
    relation: Relation = Field(description="The proposed SKOS relation, read from -> to")
    transform: dict[str, Any] | None = Field(
        description="The proposed transform (from -> to; concept -> question against the "
        "concepts), null when none carries the values"
    )
    reasons: list[str] = Field(description="The evidence, readable")


class SuggestionSideOut(BaseModel):
    """The template a side of the comparison used (or the size of the concept bank)."""

    cycle: str | None = None
    template_id: int | None = None
    version: str | None = None
    status: TemplateStatus | None = None
    concepts: int | None = None


class SuggestionsOut(BaseModel):
    """Candidate pairs, best first."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": {
                        "cycle": "CMS:COP15",
                        "template_id": 2,
                        "version": "1.0.0",
                        "status": "published",
                    },
                    "to": {
                        "cycle": "AEWA:MOP9",
                        "template_id": 3,
                        "version": "1.0.0",
                        "status": "published",
                    },
                    "items": [SUGGESTION_EXAMPLE],
                }
            ]
        },
    )

    from_: SuggestionSideOut = Field(alias="from")
    to: SuggestionSideOut
    items: list[SuggestionOut]


class SuggestionDecisionIn(BaseModel):
    """A suggested pair, as accepted or rejected."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_question": "CMS:COP15:I(a).3",
                    "to_question": "AEWA:MOP9:A.4",
                    "relation": "closeMatch",
                    "justification": "Both ask whether a national committee coordinates the work",
                }
            ]
        },
    )

    from_question: str = Field(max_length=220, pattern=QUESTION_REF)
    to_question: str = Field(
        max_length=220,
        pattern=SUGGESTION_TARGET,
        description="A question reference, or concept:KEY",
    )
    from_version: str | None = Field(
        default=None, max_length=20, description="Template version (default: newest published)"
    )
    to_version: str | None = Field(default=None, max_length=20)
    relation: Relation = Relation.CLOSE_MATCH
    justification: str | None = Field(default=None, max_length=5000)
    confidence: float | None = Field(default=None, ge=0, le=1)


class SuggestionAcceptIn(SuggestionDecisionIn):
    """Accept a suggestion: the mapping that links the pair through a concept.

    Against the concepts the mapping links the concept to `from_question`. Between templates
    it links the question without a concept to the concept of the other (`concept` chooses
    one); its relation combines that concept's relation with the pair's.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_question": "CMS:COP15:I(a).3",
                    "to_question": "AEWA:MOP9:A.4",
                    "relation": "closeMatch",
                    "status": "proposed",
                }
            ]
        },
    )

    transform: dict[str, Any] | None = Field(
        default=None,
        description="The new mapping's transform, concept -> question (default: the proposed one)",
    )
    status: MappingStatus | None = Field(
        default=None,
        description="Default: approved for admins and the question's secretariat, else proposed",
    )
    concept: str | None = Field(default=None, max_length=100)


class NegativeMappingOut(BaseModel):
    """A rejected pair: not related (SSSOM predicate_modifier Not); never suggested again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "subject": "CMS:COP15:I(a).3",
                    "object": "AEWA:MOP9:A.1",
                    "relation": "closeMatch",
                    "predicate_modifier": "Not",
                    "author": "user:cms_sec",
                    "created_at": "2026-12-03T12:00:00Z",
                }
            ]
        }
    )

    id: int
    subject: str
    object: str
    relation: Relation
    predicate_modifier: str = "Not"
    justification: str | None = None
    confidence: float | None = None
    author: str
    created_at: datetime
