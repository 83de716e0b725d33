"""API models of workspaces, answers and submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WorkspaceIn(BaseModel):
    """A new workspace: a Party and the cycles it reports on together."""

    model_config = ConfigDict(extra="forbid")

    party: str = Field(min_length=3, max_length=3, description="ISO 3166-1 alpha-3")
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
    value: Any = Field(description="The answer; null clears it")
    base_revision: int = Field(ge=0, le=2**31 - 1, description="Revision the write is based on")


class AnswersIn(BaseModel):
    """A batch of answers, written all together or not at all."""

    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(max_length=500)


class AnswerOut(BaseModel):
    """The stored answer of a slot."""

    slot: str
    value: Any
    revision: int
    updated_at: datetime
    updated_by: str
    carried: dict[str, Any] | None = Field(
        description="Where a carried-forward value came from, until it is confirmed or edited"
    )


class AnswersOut(BaseModel):
    """Answers of a workspace."""

    answers: list[AnswerOut]


class SubmitIn(BaseModel):
    """The cycles to submit together."""

    model_config = ConfigDict(extra="forbid")

    cycles: list[str] = Field(min_length=1, max_length=20)


class DecisionIn(BaseModel):
    """A secretariat's decision and its comment (required to return)."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=20000)


class CommentIn(BaseModel):
    """A comment on a submission, optionally about one question."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=20000)
    question: str | None = Field(default=None, max_length=100)


class CommentOut(BaseModel):
    """One comment of a feedback thread."""

    id: int
    kind: str
    question: str | None
    body: str
    author: str
    created_at: datetime
