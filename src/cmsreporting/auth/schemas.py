"""API models of callers, their accounts, sessions, tokens and roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    """What a grant lets its holder do (a convention or a Party narrows some)."""

    ADMIN = "admin"
    SECRETARIAT = "secretariat"
    FOCAL_POINT = "focal_point"
    REVIEWER = "reviewer"
    CONTRIBUTOR = "contributor"


Language = Literal["en", "fr", "es"]


class GrantOut(BaseModel):
    """One role of the caller."""

    role: Role
    convention: str | None
    party: str | None


class MeOut(BaseModel):
    """The caller, their account and their roles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "ken_fp",
                    "display_name": "Wanjiru Mwangi",
                    "email": "focal.point@environment.go.ke",
                    "language": "en",
                    "signed_in_with": "session",
                    "roles": [{"role": "focal_point", "convention": "CMS", "party": "KEN"}],
                }
            ]
        }
    )

    name: str
    display_name: str | None = None
    email: str | None = None
    language: Language = "en"
    signed_in_with: Literal["token", "session"] = "token"
    roles: list[GrantOut]


class MeUpdate(BaseModel):
    """What a user changes on their own account (fields left out stay as they are)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"display_name": "Wanjiru Mwangi", "language": "fr"}]},
    )

    display_name: str | None = Field(default=None, max_length=200)
    language: Language | None = None


class PasswordChange(BaseModel):
    """A new password, confirmed by the current one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"current_password": "old phrase of mine", "new_password": "a longer new phrase"}
            ]
        },
    )

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class SignInIn(BaseModel):
    """A password sign-in by user name or e-mail address."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"login": "ken_fp", "password": "correct horse battery"}]},
    )

    login: str = Field(min_length=1, max_length=254, description="User name or e-mail address")
    password: str = Field(min_length=1, max_length=256)


class SignInOut(BaseModel):
    """A new web session (its secret is in the HttpOnly cookie, never in the body)."""

    user: MeOut
    csrf_token: str = Field(description="Send it in X-CSRF-Token with every write")
    expires_at: datetime = Field(description="The session ends then at the latest")
    idle_seconds: int = Field(description="The session ends after this long without a request")


class SessionOut(BaseModel):
    """One of the caller's live web sessions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 41,
                    "created_at": "2026-04-01T08:00:00Z",
                    "last_seen_at": "2026-04-01T09:30:00Z",
                    "expires_at": "2026-04-08T08:00:00Z",
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                    "address": "196.201.214.10",
                    "current": True,
                }
            ]
        }
    )

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None
    address: str | None
    current: bool = Field(description="The session of this request")


class TokenOut(BaseModel):
    """An API token (its secret is shown only when it is made)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "prefix": "cmsr_AbC123",
                    "label": "nightly export",
                    "created_at": "2026-04-01T08:00:00Z",
                    "expires_at": "2026-06-30T08:00:00Z",
                    "revoked_at": None,
                    "active": True,
                }
            ]
        }
    )

    id: int
    prefix: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool = Field(description="Neither revoked nor expired")


class TokenIn(BaseModel):
    """A new API token for a script."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"label": "nightly export", "expires_in_days": 90}]},
    )

    label: str | None = Field(default=None, max_length=100)
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Default: the service's token lifetime"
    )


class TokenCreated(TokenOut):
    """A new API token, with its secret shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "prefix": "cmsr_AbC123",
                    "label": "nightly export",
                    "created_at": "2026-04-01T08:00:00Z",
                    "expires_at": "2026-06-30T08:00:00Z",
                    "revoked_at": None,
                    "active": True,
                    "token": "cmsr_AbC123dEf456gHi789jKl012mNo345pQr678sTu90",
                }
            ]
        }
    )

    token: str


class UserGrantOut(BaseModel):
    """One role grant of a user, with the id that revokes it."""

    id: int
    role: Role
    convention: str | None
    party: str | None


class UserOut(BaseModel):
    """A user as an administrator sees them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "name": "ken_fp",
                    "email": "focal.point@environment.go.ke",
                    "display_name": "Wanjiru Mwangi",
                    "language": "en",
                    "active": True,
                    "demo": False,
                    "has_password": True,
                    "created_at": "2026-03-01T08:00:00Z",
                    "roles": [
                        {"id": 9, "role": "focal_point", "convention": "CMS", "party": "KEN"}
                    ],
                }
            ]
        }
    )

    id: int
    name: str
    email: str | None
    display_name: str | None
    language: str
    active: bool
    demo: bool
    has_password: bool
    created_at: datetime
    roles: list[UserGrantOut]


class UserUpdate(BaseModel):
    """An administrator's change to a user (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    email: str | None = Field(default=None, max_length=254)
    display_name: str | None = Field(default=None, max_length=200)
    language: Language | None = None
    active: bool | None = Field(
        default=None, description="false: the user can no longer sign in or use their tokens"
    )


class GrantIn(BaseModel):
    """A role to give a user."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "focal_point", "convention": "CMS", "party": "KEN"}]
        },
    )

    role: Role
    convention: str | None = Field(default=None, max_length=40)
    party: str | None = Field(default=None, max_length=3)


class InvitationIn(BaseModel):
    """Whom to invite, to which role."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "focal.point@environment.go.ke",
                    "role": "focal_point",
                    "convention": "CMS",
                    "party": "KEN",
                    "language": "en",
                }
            ]
        },
    )

    email: str = Field(min_length=3, max_length=254)
    role: Role = Role.FOCAL_POINT
    convention: str | None = Field(default=None, max_length=40)
    party: str | None = Field(default=None, min_length=3, max_length=3)
    display_name: str | None = Field(default=None, max_length=200)
    language: Language | None = Field(
        default=None, description="The invitee's language (of the e-mail too); en by default"
    )


class InvitationOut(BaseModel):
    """An invitation sent (queued in the outbox): the account it is for and until when its link
    works."""

    user: str
    email: str
    role: Role
    convention: str | None
    party: str | None
    expires_at: datetime


class LinkUse(BaseModel):
    """A link's secret (from the e-mail) and the password to set."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": "Zq3v…", "new_password": "a long phrase of mine"}]
        },
    )

    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=256)
    display_name: str | None = Field(default=None, max_length=200)


class LinkUsed(BaseModel):
    """The account whose password was set; it signs in with this name or its e-mail address."""

    name: str
    email: str | None


class ResetRequest(BaseModel):
    """The address of the account whose password is forgotten."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "me@example.org"}]}
    )

    email: str = Field(min_length=3, max_length=254)


class ResetRequested(BaseModel):
    """The same answer whether or not the address has an account."""

    detail: str
