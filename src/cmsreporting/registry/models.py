"""Conventions, Parties, memberships and reporting cycles."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cmsreporting.db import Base, JSONDoc, UTCDateTime, utcnow


class Convention(Base):
    """A treaty or instrument (CMS, AEWA, CBD…)."""

    __tablename__ = "conventions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    languages: Mapped[list[str]] = mapped_column(JSONDoc)
    family: Mapped[str | None] = mapped_column(
        ForeignKey("conventions.code", ondelete="RESTRICT"), default=None
    )
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)


class Party(Base):
    """A country, by ISO 3166-1 alpha-3 code."""

    __tablename__ = "parties"

    iso3: Mapped[str] = mapped_column(String(3), primary_key=True)
    iso2: Mapped[str] = mapped_column(String(2), unique=True)
    numeric: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(200))
    official_name: Mapped[str | None] = mapped_column(String(300), default=None)


class Membership(Base):
    """A Party belongs to a convention from a date."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("party_iso3", "convention_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_iso3: Mapped[str] = mapped_column(ForeignKey("parties.iso3", ondelete="CASCADE"))
    convention_code: Mapped[str] = mapped_column(
        ForeignKey("conventions.code", ondelete="CASCADE"), index=True
    )
    since: Mapped[date | None] = mapped_column(Date, default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cycle(Base):
    """A convention's reporting round."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("convention_code", "code"),
        CheckConstraint("opens_on <= due_on", name="opens_before_due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_code: Mapped[str] = mapped_column(
        ForeignKey("conventions.code", ondelete="RESTRICT")
    )
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    opens_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def ref(self) -> str:
        """CONVENTION:CYCLE."""
        return f"{self.convention_code}:{self.code}"
