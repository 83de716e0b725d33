"""Users, their roles and their bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cmsreporting.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "secretariat", "focal_point", "reviewer")


class User(Base):
    """A person or a script that calls the API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleGrant(Base):
    """One role of a user, scoped to a convention and, for focal points, a Party."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'secretariat', 'focal_point', 'reviewer')", name="known_role"
        ),
        CheckConstraint(
            "(role = 'secretariat' AND convention_code IS NOT NULL AND party_iso3 IS NULL)"
            " OR (role = 'focal_point' AND convention_code IS NOT NULL AND party_iso3 IS NOT NULL)"
            " OR (role IN ('admin', 'reviewer')"
            " AND convention_code IS NULL AND party_iso3 IS NULL)",
            name="scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    convention_code: Mapped[str | None] = mapped_column(
        ForeignKey("conventions.code", ondelete="CASCADE"), default=None
    )
    party_iso3: Mapped[str | None] = mapped_column(
        ForeignKey("parties.iso3", ondelete="CASCADE"), default=None
    )


class ApiToken(Base):
    """A bearer token, stored only as its SHA-256 digest."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
