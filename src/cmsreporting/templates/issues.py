"""API models of the issues an answer raises against its template's question, shared by previews,
submissions and translations."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema

# A member that is left out of the JSON when it does not apply (never sent as null): the
# operations whose models use it answer with `response_model_exclude_unset`.
Absent = SkipJsonSchema[None]


class Severity(StrEnum):
    """An error blocks submission; a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class IssueOut(BaseModel):
    """A problem of a report: where it is and what is wrong (row and column for table cells)."""

    severity: Severity
    question: str
    code: str
    message: str
    row: int | Absent = None
    column: str | Absent = None
