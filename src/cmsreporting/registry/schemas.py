"""API models of the registry."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cmsreporting.registry.models import Cycle

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


class ConventionOut(BaseModel):
    """A convention."""

    code: str
    name: str
    languages: list[str]
    family: str | None
    url: str | None


class MembershipOut(BaseModel):
    """A Party's membership of a convention."""

    party: str
    convention: str
    since: date | None
    source: str | None
    demo: bool


class PartyOut(BaseModel):
    """A Party and the conventions it belongs to."""

    iso3: str
    iso2: str
    numeric: str
    name: str
    official_name: str | None
    memberships: list[MembershipOut]


class MembershipIn(BaseModel):
    """Set a membership: from when, and the public source that says so."""

    model_config = ConfigDict(extra="forbid")

    since: date | None = None
    source: str | None = Field(default=None, max_length=2000)
    demo: bool = False


class CycleIn(BaseModel):
    """A new reporting cycle."""

    model_config = ConfigDict(extra="forbid")

    convention: str = Field(pattern=CODE_PATTERN)
    code: str = Field(pattern=CODE_PATTERN)
    title: str = Field(min_length=1, max_length=300)
    opens_on: date
    due_on: date
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _dates_in_order(self) -> CycleIn:
        if self.due_on < self.opens_on:
            raise ValueError("due_on must not be before opens_on")
        return self


class TemplateRef(BaseModel):
    """The published template a cycle uses."""

    id: int
    version: str


class CycleOut(BaseModel):
    """A reporting cycle and the template it uses."""

    ref: str
    convention: str
    code: str
    title: str
    opens_on: date
    due_on: date
    note: str | None
    created_at: datetime
    template: TemplateRef | None = Field(description="Latest published template of the cycle")


def cycle_out(c: Cycle, template: TemplateRef | None = None) -> CycleOut:
    """A cycle as the API shows it, with the published template it uses (if any)."""
    return CycleOut(
        ref=c.ref,
        convention=c.convention_code,
        code=c.code,
        title=c.title,
        opens_on=c.opens_on,
        due_on=c.due_on,
        note=c.note,
        created_at=c.created_at,
        template=template,
    )
