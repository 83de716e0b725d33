"""Users, their roles and their bearer tokens."""

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from cmsreporting.db import UTCDateTime, utcnow

ROLES = ("admin", "secretariat", "focal_point", "reviewer", "contributor")


class User(SQLModel, table=True):
    """A person or a script that calls the API.

    `name` is the sign-in handle; `email` (stored in lower case, unique) signs in too. Both the
    e-mail address and the password may be left unset and set later (an invitation, the CLI);
    a user without a password signs in only with an API token.
    """

    __tablename__ = "users"

    id: int = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    email: str | None = Field(default=None, sa_type=String(254), unique=True)
    display_name: str | None = Field(default=None, sa_type=String(200))
    language: str = Field(default="en", sa_type=String(8))
    password_hash: str | None = Field(default=None, sa_type=String(200))
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    active: bool = True
    demo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """One role of a user, scoped to a convention and, for focal points, a Party; a contributor
    is scoped to a Party only (the sections they edit are their assignments)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'secretariat', 'focal_point', 'reviewer', 'contributor')",
            name="known_role",
        ),
        CheckConstraint(
            "(role = 'secretariat' AND convention_code IS NOT NULL AND party_iso3 IS NULL)"
            " OR (role = 'focal_point' AND convention_code IS NOT NULL AND party_iso3 IS NOT NULL)"
            " OR (role = 'contributor' AND convention_code IS NULL AND party_iso3 IS NOT NULL)"
            " OR (role IN ('admin', 'reviewer')"
            " AND convention_code IS NULL AND party_iso3 IS NULL)",
            name="scope",
        ),
    )

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    role: str = Field(sa_type=String(20))
    convention_code: str | None = Field(
        default=None, foreign_key="conventions.code", ondelete="CASCADE", sa_type=String(40)
    )
    party_iso3: str | None = Field(
        default=None, foreign_key="parties.iso3", ondelete="CASCADE", sa_type=String(3)
    )


class ApiToken(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256 digest."""

    __tablename__ = "api_tokens"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    digest: str = Field(sa_type=String(64), unique=True)
    prefix: str = Field(sa_type=String(16))
    label: str | None = Field(default=None, sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A web sign-in: its cookie's secret is stored only as its SHA-256 digest."""

    __tablename__ = "user_sessions"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    digest: str = Field(sa_type=String(64), unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_agent: str | None = Field(default=None, sa_type=String(200))
    address: str | None = Field(default=None, sa_type=String(64))


class SigninFailure(SQLModel, table=True):
    """One failed password sign-in, counted per account and per client address."""

    __tablename__ = "signin_failures"

    id: int = Field(default=None, primary_key=True)
    account: str = Field(sa_type=String(254), index=True)
    address: str = Field(sa_type=String(64), index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AccountLink(SQLModel, table=True):
    """A single-use link sent by e-mail (an invitation, a password reset); its secret is stored
    only as its SHA-256 digest."""

    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint("purpose IN ('invitation', 'reset')", name="known_purpose"),)

    id: int = Field(default=None, primary_key=True)
    purpose: str = Field(sa_type=String(12))
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    digest: str = Field(sa_type=String(64), unique=True)
    created_by: str = Field(sa_type=String(120))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
