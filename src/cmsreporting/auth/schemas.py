"""API models of callers and their roles."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    """What a grant lets its holder do (a convention or a Party narrows some)."""

    ADMIN = "admin"
    SECRETARIAT = "secretariat"
    FOCAL_POINT = "focal_point"
    REVIEWER = "reviewer"


class GrantOut(BaseModel):
    """One role of the caller."""

    role: Role
    convention: str | None
    party: str | None


class MeOut(BaseModel):
    """The caller and their roles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "ken_fp",
                    "roles": [{"role": "focal_point", "convention": "CMS", "party": "KEN"}],
                }
            ]
        }
    )

    name: str
    roles: list[GrantOut]
