"""Who am I."""

from __future__ import annotations

from fastapi import APIRouter

from cmsreporting.auth.deps import CurrentUser
from cmsreporting.auth.schemas import GrantOut, MeOut

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.get("/me", response_model=MeOut)
async def get_me(principal: CurrentUser) -> MeOut:
    """The caller's name and roles."""
    return MeOut(
        name=principal.name,
        roles=[
            GrantOut(role=g.role, convention=g.convention, party=g.party) for g in principal.grants
        ],
    )
