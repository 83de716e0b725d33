"""Conventions, Parties, memberships and cycles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from cmsreporting.auth.deps import AdminUser, CurrentUser, optional_principal
from cmsreporting.db import SessionDep
from cmsreporting.errors import Forbidden
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.registry import service
from cmsreporting.registry.models import Convention, Membership, Party
from cmsreporting.registry.schemas import (
    ConventionOut,
    CycleIn,
    CycleOut,
    MembershipIn,
    MembershipOut,
    PartyKind,
    PartyOut,
    cycle_out,
)

router = APIRouter(prefix="/api/v1", tags=["registry"], dependencies=[Depends(optional_principal)])


def _convention_out(c: Convention) -> ConventionOut:
    return ConventionOut(
        code=c.code, name=c.name, languages=c.languages, family=c.family, url=c.url
    )


def _membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        party=m.party_iso3,
        convention=m.convention_code,
        since=m.since,
        source=m.source,
        demo=m.demo,
    )


def _party_out(p: Party, memberships: list[Membership], lang: str | None = None) -> PartyOut:
    return PartyOut(
        iso3=p.iso3,
        iso2=p.iso2,
        numeric=p.numeric,
        name=service.party_name(p, lang),
        official_name=p.official_name,
        kind=PartyKind(p.kind),
        memberships=[_membership_out(m) for m in memberships],
    )


NameLang = Annotated[
    str | None,
    Query(
        max_length=35,
        description="Language of `name` (`fr`, `es`…; ISO 3166-1 names as translated by the "
        "iso-codes project); English when no translation is known",
    ),
]


@router.get("/conventions", response_model=PageOut[ConventionOut])
async def list_conventions(session: SessionDep) -> PageOut[ConventionOut]:
    """All conventions and instruments, with their official languages."""
    items = await service.list_conventions(session)
    return PageOut(items=[_convention_out(c) for c in items], next_cursor=None)


@router.get("/conventions/{code}", response_model=ConventionOut)
async def get_convention(code: str, session: SessionDep) -> ConventionOut:
    """One convention."""
    return _convention_out(await service.get_convention(session, code=code))


@router.get("/parties", response_model=PageOut[PartyOut])
async def list_parties(
    session: SessionDep,
    paging: Paging,
    convention: Annotated[str | None, Query(description="Only members of this convention")] = None,
    lang: NameLang = None,
) -> PageOut[PartyOut]:
    """Parties (ISO 3166-1 countries and the European Union) and their memberships."""
    page, memberships = await service.list_parties(
        session, convention=convention, limit=paging.limit, cursor=paging.cursor
    )
    return PageOut(
        items=[_party_out(p, memberships[p.iso3], lang) for p in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/parties/{iso3}", response_model=PartyOut)
async def get_party(iso3: str, session: SessionDep, lang: NameLang = None) -> PartyOut:
    """One Party and its memberships."""
    party = await service.get_party(session, iso3=iso3)
    memberships = await service.memberships_of(session, parties=[party.iso3])
    return _party_out(party, memberships[party.iso3], lang)


@router.put(
    "/parties/{iso3}/memberships/{code}",
    response_model=MembershipOut,
    responses={201: {"model": MembershipOut, "description": "Membership created"}},
)
async def set_membership(
    iso3: str,
    code: str,
    body: MembershipIn,
    session: SessionDep,
    principal: AdminUser,
    response: Response,
) -> MembershipOut:
    """Set a Party's membership of a convention (admin)."""
    membership, created = await service.set_membership(
        session,
        actor=principal.actor,
        iso3=iso3,
        convention=code,
        since=body.since,
        source=body.source,
        demo=body.demo,
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _membership_out(membership)


@router.delete("/parties/{iso3}/memberships/{code}", status_code=204)
async def delete_membership(
    iso3: Annotated[str, Path(openapi_examples={"Tanzania": {"value": "TZA"}})],
    code: Annotated[str, Path(openapi_examples={"AEWA": {"value": "AEWA"}})],
    session: SessionDep,
    principal: AdminUser,
) -> Response:
    """Remove a Party's membership of a convention (admin)."""
    await service.delete_membership(session, actor=principal.actor, iso3=iso3, convention=code)
    return Response(status_code=204)


@router.post("/cycles", response_model=CycleOut, status_code=201)
async def create_cycle(body: CycleIn, session: SessionDep, principal: CurrentUser) -> CycleOut:
    """Open a new reporting cycle (admin or the convention's secretariat)."""
    if not principal.can_manage_convention(body.convention):
        raise Forbidden(f"only admins and the {body.convention} secretariat create its cycles")
    cycle = await service.create_cycle(session, actor=principal.actor, data=body)
    return cycle_out(cycle)
