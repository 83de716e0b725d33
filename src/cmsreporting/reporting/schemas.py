"""API models of workspaces, answers and submissions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cmsreporting.crosswalk.schemas import Relation
from cmsreporting.templates.issues import Absent, IssueOut


class SubmissionStatus(StrEnum):
    """Where a submitted report stands with its secretariat."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class ProgressStatus(StrEnum):
    """Where a Party's report for a cycle stands (GET /cycles/{ref}/status)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class CommentKind(StrEnum):
    """A comment of a thread, or the comment of a secretariat's decision."""

    COMMENT = "comment"
    ACCEPT = "accept"
    RETURN = "return"


class ChangeKind(StrEnum):
    """How a value differs between two versions of a report."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class WorkspaceIn(BaseModel):
    """A new workspace: a Party and the cycles it reports on together."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"party": "KEN", "cycles": ["CMS:COP15", "AEWA:MOP9"]}]},
    )

    party: str = Field(
        min_length=2, max_length=3, description="ISO 3166-1 alpha-3, or EU for the European Union"
    )
    cycles: list[str] = Field(min_length=1, max_length=20, description="CONVENTION:CYCLE refs")
    title: str | None = Field(default=None, max_length=300)
    carry_forward: bool = Field(
        default=True,
        description="Start from the Party's latest accepted submissions of other cycles",
    )


class WorkspaceCycleOut(BaseModel):
    """A cycle of a workspace."""

    cycle: str
    convention: str
    title: str
    due_on: str


class WorkspaceOut(BaseModel):
    """A workspace."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "party": "KEN",
                    "title": "Kenya 2027 reports",
                    "cycles": [
                        {
                            "cycle": "CMS:COP15",
                            "convention": "CMS",
                            "title": "CMS national reports to COP15",
                            "due_on": "2027-06-30",
                        }
                    ],
                    "created_at": "2026-03-01T09:00:00Z",
                    "created_by": "user:ken_fp",
                    "carried_forward": 12,
                }
            ]
        }
    )

    id: int
    party: str
    title: str | None
    cycles: list[WorkspaceCycleOut]
    created_at: datetime
    created_by: str
    carried_forward: int | None = Field(
        default=None, description="Answers carried forward when the workspace was created"
    )


class AnswerIn(BaseModel):
    """One answer to write, based on the revision the writer last saw (0 for a new slot)."""

    model_config = ConfigDict(extra="forbid")

    slot: str = Field(min_length=1, max_length=300, description="concept:KEY or CONV:CYCLE:QID")
    value: Any = Field(
        description="The answer; null clears it. Each row of a table may carry a stable id "
        "under the reserved key `@id` (a string of at most 64 characters, unique in the table): "
        "send back the id a row was read with so that edits merge by row; a row without one "
        "gets a new id, returned in the response"
    )
    base_revision: int = Field(ge=0, le=2**31 - 1, description="Revision the write is based on")
    reused_from: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="The slot whose answer this value was taken from: one of the sources that "
        "GET /workspaces/{id}/suggestions offers for this slot (the value may be edited)",
    )
    documents: list[Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]] | None = Field(
        default=None,
        max_length=100,
        description="Ids of active documents of the workspace Party's library that the answer "
        "cites; absent or null leaves the answer's citations as they are, [] clears them",
    )


class AnswersIn(BaseModel):
    """A batch of answers, written all together or not at all."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answers": [
                        {
                            "slot": "concept:coordination.national_committee",
                            "value": True,
                            "base_revision": 0,
                        },
                        {"slot": "AEWA:MOP9:A.2", "value": "partially", "base_revision": 3},
                    ]
                }
            ]
        },
    )

    answers: list[AnswerIn] = Field(max_length=500)


class AnswerOut(BaseModel):
    """The stored answer of a slot."""

    slot: str
    value: Any = Field(
        description="The stored answer; each row of a table carries its id under `@id` (not "
        "part of the report: previews, submissions and exports leave it out)"
    )
    revision: int
    updated_at: datetime
    updated_by: str
    carried: dict[str, Any] | None = Field(
        description="Where a carried-forward value came from, until it is confirmed or edited"
    )
    reused_from: dict[str, Any] | None = Field(
        default=None,
        description="Where a value taken from a suggestion came from: the source `slot` "
        "(and its `question`), the `concept`, `relation` and `mapping_id` that link them, the "
        "value offered and whether it was `edited`; kept until a write without `reused_from`",
    )
    documents: list[int] = Field(
        default_factory=list, description="Ids of the library documents the answer cites"
    )


class PresenceOut(BaseModel):
    """Someone else in the merged form: the section and question they are at."""

    user: str
    display_name: str | None
    section: str | None
    slot: str | None
    seen_at: datetime


class PresenceIn(BaseModel):
    """Where the caller is in the form now (a heartbeat)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"section": "CMS:COP15:III", "slot": "CMS:COP15:III.1"}]},
    )

    section: str | None = Field(default=None, max_length=200)
    slot: str | None = Field(default=None, max_length=300, description="The question in focus")


class PresenceListOut(BaseModel):
    """Who else has the form open now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "presence": [
                        {
                            "user": "ken_wildlife",
                            "display_name": "Otieno Kamau",
                            "section": "CMS:COP15:II",
                            "slot": "CMS:COP15:II.2a",
                            "seen_at": "2026-03-02T10:15:00Z",
                        }
                    ]
                }
            ]
        }
    )

    presence: list[PresenceOut]


AssignmentStatus = Literal["not_started", "in_progress", "ready", "done"]


class AssignmentIn(BaseModel):
    """A part of the workspace to give a contributor of its Party."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"section": "CMS:COP15:III", "contributor": "ken_wildlife"}]
        },
    )

    section: str = Field(
        min_length=1, max_length=200, description="`shared` or CONVENTION:CYCLE:SECTION_ID"
    )
    contributor: str = Field(min_length=1, max_length=100, description="The contributor's name")


class AssignmentPatch(BaseModel):
    """A new status: the contributor marks `ready` (or back `in_progress`); the focal point
    marks `done` or reopens (`in_progress`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "ready"}]})

    status: AssignmentStatus


class AssignmentOut(BaseModel):
    """A part of a workspace given to a contributor, and how far it is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "workspace_id": 1,
                    "section": "CMS:COP15:II",
                    "contributor": "ken_wildlife",
                    "contributor_display_name": "Otieno Kamau",
                    "status": "ready",
                    "created_at": "2026-03-01T09:00:00Z",
                    "created_by": "user:ken_fp",
                    "updated_at": "2026-03-02T10:15:00Z",
                    "updated_by": "user:ken_wildlife",
                }
            ]
        }
    )

    id: int
    workspace_id: int
    section: str
    contributor: str
    contributor_display_name: str | None
    status: AssignmentStatus
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class ContributorOut(BaseModel):
    """A contributor of the workspace's Party."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "ken_wildlife",
                    "display_name": "Otieno Kamau",
                    "email": "otieno@wildlife.go.ke",
                }
            ]
        }
    )

    name: str
    display_name: str | None
    email: str | None


class AnswersOut(BaseModel):
    """Answers of a workspace."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answers": [
                        {
                            "slot": "concept:coordination.national_committee",
                            "value": True,
                            "revision": 2,
                            "updated_at": "2026-03-02T10:15:00Z",
                            "updated_by": "user:ken_fp",
                            "carried": None,
                            "reused_from": None,
                        }
                    ],
                    "as_of": "2026-03-02T10:16:00Z",
                }
            ]
        }
    )

    answers: list[AnswerOut]
    presence: list[PresenceOut] = Field(
        default_factory=list,
        description="Who else has the form open now, where (on a GET: the presence poll "
        "rides on the answers poll)",
    )
    as_of: datetime | None = Field(
        default=None,
        description="When the server read the answers (reads only): the `since` of a later read",
    )


class SubmitIn(BaseModel):
    """The cycles to submit together."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"cycles": ["CMS:COP15", "AEWA:MOP9"]}]},
    )

    cycles: list[str] = Field(min_length=1, max_length=20)


class DecisionIn(BaseModel):
    """A secretariat's decision and its comment (required to return)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"comment": "Thank you: accepted as submitted."},
                {"comment": "Please give the year the committee was set up (question I(a).3)."},
            ]
        },
    )

    comment: str | None = Field(default=None, max_length=20000)


class CommentIn(BaseModel):
    """A comment on a submission, optionally about one question."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"body": "Which ministry chairs the committee?", "question": "I(a).3"}]
        },
    )

    body: str = Field(min_length=1, max_length=20000)
    question: str | None = Field(default=None, max_length=100)


class CommentOut(BaseModel):
    """One comment of a feedback thread."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "kind": "return",
                    "question": "I(a).3",
                    "body": "Please name the committee's members.",
                    "author": "user:cms_sec",
                    "created_at": "2026-04-01T08:00:00Z",
                    "submission_id": 12,
                    "version": 1,
                }
            ]
        }
    )

    id: int
    kind: CommentKind
    question: str | None
    body: str
    author: str
    created_at: datetime
    submission_id: int = Field(description="The submission (version) it was written on")
    version: int = Field(description="The version of the Party's report it was written on")


# --- the merged form -----------------------------------------------------------------------


class FormCycleOut(BaseModel):
    """A cycle of the form, with the template it is answered in."""

    cycle: str
    template_id: int
    version: str
    title: str
    due_on: str
    lang: str = Field(
        description="The language its texts are shown in: the form's, when the template "
        "declares it, else the template's first language"
    )
    fallback: str = Field(description="The template's first language, for untranslated texts")
    texts: int = Field(description="Texts (titles, questions, guidance, options) of the template")
    translated: int = Field(description="Texts that have `lang` (the others are in `fallback`)")


class FormSectionOut(BaseModel):
    """A section (of the trail leading to a question), titled in the form's language."""

    id: str
    title: str
    description: str | None = Field(
        default=None, description="The section's guidance (its description), where it has one"
    )


class ConceptFeedOut(BaseModel):
    """A native question a concept fills, through an approved exact or close match."""

    cycle: str
    question: str
    slot: str = Field(description="The question's own slot (CONVENTION:CYCLE:QUESTION_ID)")
    sections: list[FormSectionOut]
    relation: Relation
    transform: dict[str, Any]
    invertible: bool
    mapping_id: int | None
    question_definition: dict[str, Any] = Field(
        description="The question as its template defines it, labels in the form's language"
    )


class ConceptSuggestsOut(BaseModel):
    """A question of the workspace a concept's answer is offered to, not filled."""

    cycle: str
    question: str
    slot: str
    relation: Relation
    mapping_id: int | None


class ConceptItemOut(BaseModel):
    """A shared concept, answered once for every question it feeds."""

    kind: Literal["concept"]
    slot: str = Field(description="concept:KEY")
    section: str = Field(
        default="shared", description="The assignable part it belongs to: `shared`"
    )
    concept: dict[str, Any] = Field(
        description="The concept's definition (crosswalk.schema.json#/$defs/concept), "
        "labels in the form's language"
    )
    feeds: list[ConceptFeedOut]
    suggests: list[ConceptSuggestsOut] = Field(
        default_factory=list,
        description="Questions of the workspace it does not fill but is offered to "
        "(approved broader, narrower or related links)",
    )


class SuggestedFromOut(BaseModel):
    """A concept whose answer is suggested (not filled) for a question."""

    concept: str
    relation: Relation
    mapping_id: int | None


class QuestionItemOut(BaseModel):
    """A question only one convention asks."""

    kind: Literal["question"]
    cycle: str
    question: str
    slot: str = Field(description="CONVENTION:CYCLE:QUESTION_ID")
    sections: list[FormSectionOut]
    section: str = Field(
        description="The assignable part it belongs to: its top-level section, "
        "CONVENTION:CYCLE:SECTION_ID"
    )
    definition: dict[str, Any] = Field(
        description="The question as its template defines it, labels in the form's language"
    )
    suggested_from: list[SuggestedFromOut]


class FormPartOut(BaseModel):
    """A part of the form that is assigned as one: a top-level section, or the shared
    questions."""

    key: str = Field(description="`shared` or CONVENTION:CYCLE:SECTION_ID")
    cycle: str | None = Field(description="The cycle of a section (none for `shared`)")
    title: str | None = Field(description="The section's title in the form's language")


FormItemOut = Annotated[ConceptItemOut | QuestionItemOut, Field(discriminator="kind")]


class FormOut(BaseModel):
    """The merged form of a workspace: each shared concept once, then the questions of one
    convention only, in the templates' order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workspace_id": 1,
                    "party": "KEN",
                    "lang": "en",
                    "cycles": [
                        {
                            "cycle": "CMS:COP15",
                            "template_id": 4,
                            "version": "1.0.0",
                            "title": "CMS National Report",
                            "due_on": "2027-06-30",
                            "lang": "en",
                            "fallback": "en",
                            "texts": 81,
                            "translated": 81,
                        }
                    ],
                    "sections": [
                        {"key": "shared", "cycle": None, "title": None},
                        {
                            "key": "CMS:COP15:II",
                            "cycle": "CMS:COP15",
                            "title": "Appendix I species",
                        },
                    ],
                    "items": [
                        {
                            "kind": "concept",
                            "slot": "concept:coordination.national_committee",
                            "section": "shared",
                            "concept": {
                                "key": "coordination.national_committee",
                                "type": "boolean",
                                "text": "Is there a national biodiversity committee?",
                            },
                            "feeds": [
                                {
                                    "cycle": "CMS:COP15",
                                    "question": "I(a).3",
                                    "slot": "CMS:COP15:I(a).3",
                                    "sections": [{"id": "I(a)", "title": "General information"}],
                                    "relation": "closeMatch",
                                    "transform": {},
                                    "invertible": True,
                                    "mapping_id": 21,
                                    "question_definition": {
                                        "id": "I(a).3",
                                        "text": "Is there a national liaison committee?",
                                        "type": "boolean",
                                    },
                                }
                            ],
                        },
                        {
                            "kind": "question",
                            "cycle": "CMS:COP15",
                            "question": "II.1",
                            "slot": "CMS:COP15:II.1",
                            "sections": [{"id": "II", "title": "Appendix I species"}],
                            "section": "CMS:COP15:II",
                            "definition": {
                                "id": "II.1",
                                "text": "Is the taking prohibited?",
                                "type": "boolean",
                            },
                            "suggested_from": [],
                        },
                    ],
                }
            ]
        }
    )

    workspace_id: int
    party: str
    lang: str = Field(description="Language of the labels")
    cycles: list[FormCycleOut]
    sections: list[FormPartOut] = Field(
        description="The parts a focal point assigns to contributors: `shared` (the shared "
        "questions, if any) and each top-level section of each cycle's template (a "
        "contributor gets those assigned to them only)"
    )
    items: list[FormItemOut]


# --- answers the Party already gave, offered elsewhere ---------------------------------------


class ReuseSourceOut(BaseModel):
    """Where an offered answer comes from and the mappings that link it to the question."""

    slot: str = Field(description="The slot whose answer is offered: concept:KEY or CONV:CYCLE:QID")
    question: str | None = Field(default=None, description="CONV:CYCLE:QID of a native answer")
    concept: str = Field(description="The concept both are linked to")
    relation: Relation = Field(description="The relation of the mapping that links the target")
    mapping_id: int | None
    source_relation: Relation | None = Field(
        default=None, description="The relation of the source question's own mapping"
    )
    source_mapping_id: int | None = None
    submission: int | None = Field(
        default=None,
        description="The submission the answer comes from (the Party's latest report of a "
        "cycle outside this workspace)",
    )


class ReuseSuggestionOut(BaseModel):
    """An answer the Party already gave, carried to a question it may also answer."""

    slot: str = Field(description="The slot it is offered to")
    value: Any = Field(description="The value, already in the target's own terms")
    source: ReuseSourceOut


class WorkspaceSuggestionsOut(BaseModel):
    """Every answer the Party already gave (in this workspace, or in its latest submitted
    report of another cycle) offered to a question of this workspace through a mapping that does
    not fill values (take one by writing it with `reused_from`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workspace_id": 1,
                    "items": [
                        {
                            "slot": "CMS:COP15:III.1",
                            "value": "yes",
                            "source": {
                                "slot": "CBD:NR7:sectionII.hasRevisedNbsap",
                                "question": "CBD:NR7:sectionII.hasRevisedNbsap",
                                "concept": "nbsap.updated",
                                "relation": "broadMatch",
                                "mapping_id": 40,
                                "source_relation": "exactMatch",
                                "source_mapping_id": 12,
                            },
                        }
                    ],
                }
            ]
        }
    )

    workspace_id: int
    items: list[ReuseSuggestionOut]


# --- previews and submissions ------------------------------------------------------------


class SuggestionOut(BaseModel):
    """A value offered (not filled) through a broader, narrower or related concept."""

    value: Any
    concept: str
    relation: Relation


class DivergenceOut(BaseModel):
    """A native answer that differs from the value its concept would give."""

    question: str
    concept: str
    native_value: Any
    concept_value: Any


class CitedDocumentOut(BaseModel):
    """A document a report cites, at one version (a submission's: the version it pinned)."""

    document: int = Field(description="The document's id in the Party's library")
    version: int = Field(description="The version cited (pinned at submission)")
    title: str
    type: str
    file_name: str
    size: int = Field(description="Bytes")
    sha256: str = Field(description="SHA-256 of the file (hex)")
    media_type: str
    questions: list[str] = Field(description="Ids of the report's questions that cite it")
    download: str = Field(description="Path of its download")


class PreviewOut(BaseModel):
    """Exactly what would be submitted for one cycle, where each value came from, and what
    still blocks submission."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workspace_id": 1,
                    "party": "KEN",
                    "cycle": "CMS:COP15",
                    "template_id": 4,
                    "template_version": "1.0.0",
                    "submittable": False,
                    "values": {"I(a).3": True, "II.1": "yes"},
                    "provenance": {
                        "I(a).3": "concept:coordination.national_committee",
                        "II.1": "native",
                    },
                    "suggestions": {
                        "II.2": {
                            "value": ["habitat_destruction"],
                            "concept": "threats.pressures",
                            "relation": "narrowMatch",
                        }
                    },
                    "divergences": [],
                    "needs_direct_answer": [],
                    "hidden": ["II.3"],
                    "issues": [
                        {
                            "severity": "error",
                            "question": "I(a).1",
                            "code": "required",
                            "message": "an answer is required",
                        }
                    ],
                }
            ]
        }
    )

    workspace_id: int
    party: str
    cycle: str
    template_id: int
    template_version: str
    submittable: bool = Field(description="True when no issue is an error")
    values: dict[str, Any] = Field(description="question id -> value")
    provenance: dict[str, str] = Field(
        description="question id -> `native`, `concept:KEY`, or `reused:SLOT` (answered here "
        "with the answer of SLOT that a suggestion offered)"
    )
    reused: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="question id -> where a value taken from a suggestion came from "
        "(its answer's `reused_from`)",
    )
    suggestions: dict[str, SuggestionOut] = Field(description="question id -> suggestion")
    divergences: list[DivergenceOut]
    needs_direct_answer: list[str] = Field(
        description="Questions whose concept's answer has no value in this template"
    )
    hidden: list[str] = Field(description="Questions left out by their visible_if")
    issues: list[IssueOut]
    documents: list[CitedDocumentOut] = Field(
        default_factory=list,
        description="The documents the report cites, at their current versions",
    )


SUBMISSION_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "workspace_id": 1,
    "party": "KEN",
    "convention": "CMS",
    "cycle": "CMS:COP15",
    "template_id": 4,
    "template_version": "1.0.0",
    "version": 2,
    "status": "submitted",
    "submitted_at": "2026-05-02T12:00:00+00:00",
    "submitted_by": "user:ken_fp",
    "decided_at": None,
    "decided_by": None,
    "warnings": 1,
    "errors": 0,
}


class SubmissionOut(BaseModel):
    """A submission without its values."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUBMISSION_EXAMPLE]})

    id: int
    workspace_id: int
    party: str
    convention: str
    cycle: str
    template_id: int
    template_version: str
    version: int = Field(description="1, then one more after each return")
    status: SubmissionStatus
    submitted_at: str = Field(description="ISO 8601 date-time")
    submitted_by: str
    decided_at: str | None = Field(description="ISO 8601 date-time")
    decided_by: str | None
    warnings: int = Field(description="Issues that did not block submission")
    errors: int


class CycleReviewOut(BaseModel):
    """Where one cycle of a workspace stands with its secretariat."""

    cycle: str
    convention: str
    due_on: date
    past_due: bool = Field(description="Past the due date with no report submitted")
    status: SubmissionStatus | None = Field(description="Of the latest version; none before one")
    versions: list[SubmissionOut] = Field(description="Submitted versions, oldest first")
    comments: list[CommentOut] = Field(
        description="The feedback thread across versions, oldest first (for the Party's focal "
        "points, the convention's secretariat and admins; empty for others)"
    )


class WorkspaceReviewOut(BaseModel):
    """Each cycle of a workspace: versions, their status and the feedback thread."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workspace_id": 1,
                    "cycles": [
                        {
                            "cycle": "CMS:COP15",
                            "convention": "CMS",
                            "due_on": "2027-06-30",
                            "past_due": False,
                            "status": "returned",
                            "versions": [SUBMISSION_EXAMPLE | {"status": "returned"}],
                            "comments": [
                                {
                                    "id": 4,
                                    "kind": "return",
                                    "question": "I(a).3",
                                    "body": "Please name the committee's members.",
                                    "author": "user:cms_sec",
                                    "created_at": "2026-04-01T08:00:00Z",
                                    "submission_id": 12,
                                    "version": 1,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    workspace_id: int
    cycles: list[CycleReviewOut]


class SubmissionDetailOut(SubmissionOut):
    """A submission with its values, their provenance and its validation result."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                SUBMISSION_EXAMPLE
                | {
                    "values": {"I(a).3": True},
                    "provenance": {"I(a).3": "concept:coordination.national_committee"},
                    "issues": [
                        {
                            "severity": "warning",
                            "question": "II.4",
                            "code": "recommended",
                            "message": "an answer is recommended",
                        }
                    ],
                }
            ]
        }
    )

    values: dict[str, Any]
    provenance: dict[str, str]
    reused: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="question id -> where a value taken from a suggestion came from",
    )
    issues: list[IssueOut]
    documents: list[CitedDocumentOut] = Field(
        default_factory=list,
        description="The documents the report cites, each at the version pinned when it was "
        "submitted (downloadable at /submissions/{id}/documents/{document})",
    )


class SubmissionPageOut(BaseModel):
    """A page of submissions: pass next_cursor back as ?cursor= for the following page."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [SUBMISSION_EXAMPLE], "next_cursor": None}]}
    )

    items: list[SubmissionOut]
    next_cursor: str | None = Field(description="Cursor of the next page; null on the last page")


class SubmittedOut(BaseModel):
    """The submissions a submit created (the same for a repeated Idempotency-Key)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"submissions": [SUBMISSION_EXAMPLE]}]}
    )

    submissions: list[SubmissionOut]


class ChangeOut(BaseModel):
    """A question whose value differs between the two versions."""

    question: str
    change: ChangeKind
    before: Any
    after: Any


class DiffOut(BaseModel):
    """What changed between two versions of a Party's report for a cycle."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": SUBMISSION_EXAMPLE | {"id": 1, "version": 1, "status": "returned"},
                    "to": SUBMISSION_EXAMPLE,
                    "changes": [
                        {"question": "I(a).3", "change": "changed", "before": False, "after": True}
                    ],
                }
            ]
        },
    )

    from_: SubmissionOut = Field(alias="from")
    to: SubmissionOut
    changes: list[ChangeOut]


# --- cycle status ----------------------------------------------------------------------------


class PartyProgressOut(BaseModel):
    """Where one member Party's report stands. A submitted, accepted or returned report names
    its latest submission; one in progress says how much of what is required is answered."""

    party: str
    member: bool = Field(
        description="A member on the cycle's due date (false: a Party that submitted to the "
        "cycle and has since withdrawn, or joined after it)"
    )
    workspace_id: int | None
    status: ProgressStatus
    submission_id: int | Absent = None
    version: int | Absent = None
    submitted_at: str | Absent = Field(default=None, description="ISO 8601 date-time")
    required_answered: int | Absent = None
    required_total: int | Absent = None
    share_answered: float | Absent = None
    late: bool


class StatusTotalsOut(BaseModel):
    """How many Parties are in each status (statuses no Party is in are left out), in all,
    and late."""

    not_started: int | Absent = None
    in_progress: int | Absent = None
    submitted: int | Absent = None
    accepted: int | Absent = None
    returned: int | Absent = None
    parties: int
    members: int = Field(description="Parties that were members on the cycle's due date")
    late: int


class CycleStatusOut(BaseModel):
    """Each Party that was a member of the cycle's convention on its due date (and any other
    that submitted to the cycle), and where its report stands."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cycle": "CMS:COP15",
                    "due_on": "2027-06-30",
                    "past_due": False,
                    "totals": {
                        "submitted": 1,
                        "in_progress": 1,
                        "parties": 2,
                        "members": 2,
                        "late": 0,
                    },
                    "parties": [
                        {
                            "party": "KEN",
                            "member": True,
                            "workspace_id": 1,
                            "status": "submitted",
                            "submission_id": 3,
                            "version": 2,
                            "submitted_at": "2026-05-02T12:00:00+00:00",
                            "late": False,
                        },
                        {
                            "party": "TZA",
                            "member": True,
                            "workspace_id": 2,
                            "status": "in_progress",
                            "required_answered": 14,
                            "required_total": 40,
                            "share_answered": 0.35,
                            "late": False,
                        },
                    ],
                }
            ]
        }
    )

    cycle: str
    due_on: str
    past_due: bool
    totals: StatusTotalsOut
    parties: list[PartyProgressOut]
