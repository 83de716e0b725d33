"""Conventions, Parties, memberships and reporting cycles."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cmsreporting.db import JSONDoc, UTCDateTime, utcnow


class Convention(SQLModel, table=True):
    """A treaty or instrument (CMS, AEWA, CBD…)."""

    __tablename__ = "conventions"

    code: str = Field(primary_key=True, sa_type=String(40))
    name: str = Field(sa_type=String(300))
    languages: list[str] = Field(sa_type=JSONDoc)
    family: str | None = Field(
        default=None, foreign_key="conventions.code", ondelete="RESTRICT", sa_type=String(40)
    )
    url: str | None = Field(default=None, sa_type=String(500))
    source: str | None = Field(default=None, sa_type=Text)


class Party(SQLModel, table=True):
    """A country, by its ISO 3166-1 alpha-3 code, or a regional economic integration
    organisation that is Party to conventions (the European Union, code `EU`: exceptionally
    reserved in ISO 3166-1, with no alpha-3 or numeric code)."""

    __tablename__ = "parties"

    iso3: str = Field(primary_key=True, sa_type=String(3))
    iso2: str = Field(sa_type=String(2), unique=True)
    numeric: str | None = Field(default=None, sa_type=String(3))
    name: str = Field(sa_type=String(200))
    official_name: str | None = Field(default=None, sa_type=String(300))
    kind: str = Field(
        default="state", sa_type=String(60), sa_column_kwargs={"server_default": "state"}
    )


class Membership(SQLModel, table=True):
    """A Party belongs to a convention from the date the convention entered into force for it
    (`since`) until its withdrawal or denunciation took effect (`withdrawn_on`, if any), as a
    depositary's or secretariat's list says (`source`, read on `source_read_on`)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("party_iso3", "convention_code"),
        CheckConstraint(
            "since IS NULL OR withdrawn_on IS NULL OR since < withdrawn_on",
            name="withdrawn_after_since",
        ),
    )

    id: int = Field(default=None, primary_key=True)
    party_iso3: str = Field(foreign_key="parties.iso3", ondelete="CASCADE", sa_type=String(3))
    convention_code: str = Field(
        foreign_key="conventions.code", ondelete="CASCADE", sa_type=String(40), index=True
    )
    since: date | None = None
    withdrawn_on: date | None = None
    source: str | None = Field(default=None, sa_type=Text)
    source_name: str | None = Field(default=None, sa_type=String(300))
    source_read_on: date | None = None
    demo: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Cycle(SQLModel, table=True):
    """A convention's reporting round."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("convention_code", "code"),
        CheckConstraint("opens_on <= due_on", name="opens_before_due"),
    )

    id: int = Field(default=None, primary_key=True)
    convention_code: str = Field(
        foreign_key="conventions.code", ondelete="RESTRICT", sa_type=String(40)
    )
    code: str = Field(sa_type=String(40))
    title: str = Field(sa_type=String(300))
    opens_on: date
    due_on: date
    note: str | None = Field(default=None, sa_type=Text)
    # days before `due_on` on which member Parties that have not submitted are reminded; None
    # follows the service's default (the `reminder_days` setting)
    reminder_days: list[int] | None = Field(default=None, sa_type=JSONDoc, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def ref(self) -> str:
        """CONVENTION:CYCLE."""
        return f"{self.convention_code}:{self.code}"
