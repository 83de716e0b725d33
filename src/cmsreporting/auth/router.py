"""Who am I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from cmsreporting.auth.deps import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["access"])


class GrantOut(BaseModel):
    """One role of the caller."""

    role: str
    convention: str | None
    party: str | None


class MeOut(BaseModel):
    """The caller and their roles."""

    name: str
    roles: list[GrantOut]


@router.get("/me", response_model=MeOut)
async def me(principal: CurrentUser) -> MeOut:
    """The caller's name and roles."""
    return MeOut(
        name=principal.name,
        roles=[
            GrantOut(role=g.role, convention=g.convention, party=g.party) for g in principal.grants
        ],
    )
