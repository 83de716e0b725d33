"""API models of exports: the JSON form of one report (the other formats are files)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cmsreporting.reporting.schemas import SubmissionStatus
from cmsreporting.templates.issues import Absent


class ReportColumnOut(BaseModel):
    """A column of a table question."""

    id: str
    text: str


class ReportQuestionOut(BaseModel):
    """An answered question with its value as stored and as a person reads it."""

    id: str
    text: str
    type: str
    value: Any
    provenance: str = Field(description="`native`, `concept:KEY` or `reused:SLOT`")
    reused_from: dict[str, Any] | Absent = Field(
        default=None,
        description="A value taken from a suggestion: its source slot and question, the "
        "concept, relation and mapping that link them, and whether it was edited",
    )
    value_label: str | Absent = Field(default=None, description="Questions other than tables")
    columns: list[ReportColumnOut] | Absent = Field(default=None, description="Tables")
    rows_labels: list[list[str]] | Absent = Field(
        default=None, description="Tables: each row's cells as a person reads them"
    )


class ReportSectionOut(BaseModel):
    """A section of the report with its answered questions."""

    id: str
    title: str
    questions: list[ReportQuestionOut]
    sections: list[ReportSectionOut]


class SubmissionReportOut(BaseModel):
    """One report shaped like its template, labels in one language (`format=json`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "submission_id": 3,
                    "party": "KEN",
                    "party_name": "Kenya",
                    "convention": "CMS",
                    "cycle": "CMS:COP15",
                    "template_version": "1.0.0",
                    "submission_version": 2,
                    "status": "accepted",
                    "submitted_at": "2026-05-02T12:00:00+00:00",
                    "submitted_by": "user:ken_fp",
                    "lang": "en",
                    "title": "CMS National Report",
                    "sections": [
                        {
                            "id": "I(a)",
                            "title": "General information",
                            "questions": [
                                {
                                    "id": "I(a).3",
                                    "text": "Is there a national liaison committee?",
                                    "type": "boolean",
                                    "value": True,
                                    "provenance": "concept:coordination.national_committee",
                                    "value_label": "Yes",
                                }
                            ],
                            "sections": [],
                        }
                    ],
                }
            ]
        }
    )

    submission_id: int
    party: str
    party_name: str
    convention: str
    cycle: str
    template_version: str
    submission_version: int
    status: SubmissionStatus
    submitted_at: str = Field(description="ISO 8601 date-time")
    submitted_by: str
    lang: str
    title: str
    sections: list[ReportSectionOut]
