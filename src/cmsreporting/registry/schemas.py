"""API models of the registry."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cmsreporting.registry.models import Cycle

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


def _distinct_days(days: list[int]) -> list[int]:
    if len(set(days)) != len(days):
        raise ValueError("each day may appear once")
    return sorted(days, reverse=True)


ReminderDays = Annotated[
    list[Annotated[int, Field(ge=1, le=365)]],
    Field(max_length=12, description="Days before the due date, 1-365, each once (at most 12)"),
    AfterValidator(_distinct_days),
]

MEMBERSHIP_EXAMPLE: dict[str, Any] = {
    "party": "KEN",
    "convention": "CMS",
    "since": "1999-05-01",
    "withdrawn_on": None,
    "source": "https://www.cms.int/en/parties-range-states",
    "source_name": "CMS Parties and Range States",
    "source_read_on": "2026-12-01",
    "demo": False,
}


class ConventionOut(BaseModel):
    """A convention."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "CMS",
                    "name": "Convention on the Conservation of Migratory Species of Wild Animals",
                    "languages": ["en", "fr", "es"],
                    "family": "biodiversity",
                    "url": "https://www.cms.int",
                }
            ]
        }
    )

    code: str
    name: str
    languages: list[str]
    family: str | None
    url: str | None


class MembershipOut(BaseModel):
    """A Party's membership of a convention."""

    model_config = ConfigDict(json_schema_extra={"examples": [MEMBERSHIP_EXAMPLE]})

    party: str
    convention: str
    since: date | None = Field(description="Entry into force for the Party")
    withdrawn_on: date | None = Field(
        description="The day its withdrawal or denunciation took effect (no longer a member)"
    )
    source: str | None = Field(description="The list it was taken from (its address)")
    source_name: str | None
    source_read_on: date | None = Field(description="The day that list was read")
    demo: bool


class PartyKind(StrEnum):
    """A state (ISO 3166-1) or a regional economic integration organisation (the EU)."""

    STATE = "state"
    REGIONAL_ORGANISATION = "regional_economic_integration_organisation"


class PartyOut(BaseModel):
    """A Party and the conventions it belongs to."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "iso3": "KEN",
                    "iso2": "KE",
                    "numeric": "404",
                    "name": "Kenya",
                    "official_name": "Republic of Kenya",
                    "kind": "state",
                    "memberships": [MEMBERSHIP_EXAMPLE],
                }
            ]
        }
    )

    iso3: str = Field(description="ISO 3166-1 alpha-3; `EU` for the European Union")
    iso2: str
    numeric: str | None = Field(description="ISO 3166-1 numeric; none for the European Union")
    name: str
    official_name: str | None
    kind: PartyKind
    memberships: list[MembershipOut]


class MembershipIn(BaseModel):
    """Set a membership: from when, and the public source that says so."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "since": "2003-05-01",
                    "source": "https://www.cms.int/en/parties-range-states",
                    "source_name": "CMS Parties and Range States",
                    "source_read_on": "2026-01-15",
                }
            ]
        },
    )

    since: date | None = None
    withdrawn_on: date | None = None
    source: str | None = Field(default=None, max_length=2000)
    source_name: str | None = Field(default=None, max_length=300)
    source_read_on: date | None = None
    demo: bool = False

    @model_validator(mode="after")
    def _withdrawn_after_since(self) -> MembershipIn:
        if self.since and self.withdrawn_on and self.withdrawn_on <= self.since:
            raise ValueError("withdrawn_on must be after since")
        return self


class MembershipSource(BaseModel):
    """A published list that memberships were taken from, and how many."""

    url: str | None
    name: str | None
    read_on: date | None
    demo: bool
    memberships: int


class MembershipRowOut(MembershipOut):
    """A membership, and whether it holds on the day asked about."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [MEMBERSHIP_EXAMPLE | {"member": True}]}
    )

    member: bool


class ConventionMembershipOut(BaseModel):
    """A convention's membership: members on a day, the lists it comes from, and every
    membership (withdrawn ones too), a page at a time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "convention": "CMS",
                    "on": "2026-12-03",
                    "members": 1,
                    "withdrawn": 0,
                    "total": 1,
                    "sources": [
                        {
                            "url": "https://www.cms.int/en/parties-range-states",
                            "name": "CMS Parties and Range States",
                            "read_on": "2026-12-01",
                            "demo": False,
                            "memberships": 1,
                        }
                    ],
                    "items": [MEMBERSHIP_EXAMPLE | {"member": True}],
                    "next_cursor": None,
                }
            ]
        }
    )

    convention: str
    on: date
    members: int = Field(description="Parties that are members on `on`")
    withdrawn: int = Field(description="Parties whose withdrawal had taken effect by `on`")
    total: int = Field(description="Memberships recorded, past and future ones included")
    sources: list[MembershipSource]
    items: list[MembershipRowOut]
    next_cursor: str | None


class MembershipChange(BaseModel):
    """A Party whose membership an import changes: before and after."""

    party: str
    fields: list[str] | None = None
    before: dict[str, Any]
    after: dict[str, Any]


class MembershipEntry(BaseModel):
    """A Party's membership as an import adds or removes it."""

    model_config = ConfigDict(extra="allow")

    party: str
    since: str | None
    withdrawn_on: str | None


class ImportSource(BaseModel):
    """A list an import was taken from, and how many of its rows."""

    url: str
    name: str | None
    read_on: date
    rows: int


class MembershipImportOut(BaseModel):
    """What an import of a membership list changes (a dry run) or changed."""

    convention: str
    dry_run: bool
    totals: dict[str, int]
    added: list[MembershipEntry]
    withdrawn: list[MembershipChange]
    changed: list[MembershipChange]
    removed: list[MembershipEntry]
    unchanged: list[str]
    sources: list[ImportSource]


class CycleIn(BaseModel):
    """A new reporting cycle."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "convention": "CMS",
                    "code": "COP16",
                    "title": "CMS national reports to COP16",
                    "opens_on": "2029-01-01",
                    "due_on": "2030-06-30",
                }
            ]
        },
    )

    convention: str = Field(pattern=CODE_PATTERN)
    code: str = Field(pattern=CODE_PATTERN)
    title: str = Field(min_length=1, max_length=300)
    opens_on: date
    due_on: date
    note: str | None = Field(default=None, max_length=2000)
    reminder_days: ReminderDays | None = Field(
        default=None,
        description="Reminder schedule of the cycle; omitted or null: the service's default",
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ref": "CMS:COP15",
                    "convention": "CMS",
                    "code": "COP15",
                    "title": "CMS national reports to COP15",
                    "opens_on": "2026-01-01",
                    "due_on": "2027-06-30",
                    "note": None,
                    "reminder_days": None,
                    "created_at": "2025-12-01T09:00:00Z",
                    "template": {"id": 4, "version": "1.0.0"},
                }
            ]
        }
    )

    ref: str
    convention: str
    code: str
    title: str
    opens_on: date
    due_on: date
    note: str | None
    reminder_days: list[int] | None = Field(
        description="Days before the due date on which reminders go out; null: the default"
    )
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
        reminder_days=c.reminder_days,
        created_at=c.created_at,
        template=template,
    )
