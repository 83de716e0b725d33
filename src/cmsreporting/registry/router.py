"""Conventions, Parties, memberships and cycles."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from cmsreporting.auth.deps import AdminUser, CurrentUser, optional_principal
from cmsreporting.core.memberships import is_member_on
from cmsreporting.db import SessionDep, utcnow
from cmsreporting.errors import Forbidden, UnsupportedMediaType
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.registry import service
from cmsreporting.registry.models import Convention, Membership, Party
from cmsreporting.registry.schemas import (
    ConventionMembershipOut,
    ConventionOut,
    CycleIn,
    CycleOut,
    MembershipImportOut,
    MembershipIn,
    MembershipOut,
    MembershipRowOut,
    MembershipSource,
    PartyKind,
    PartyOut,
    cycle_out,
)

router = APIRouter(
    prefix="/api/v1", tags=["reference data"], dependencies=[Depends(optional_principal)]
)


def _convention_out(c: Convention) -> ConventionOut:
    return ConventionOut(
        code=c.code, name=c.name, languages=c.languages, family=c.family, url=c.url
    )


def _membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        party=m.party_iso3,
        convention=m.convention_code,
        since=m.since,
        withdrawn_on=m.withdrawn_on,
        source=m.source,
        source_name=m.source_name,
        source_read_on=m.source_read_on,
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


@router.get("/conventions", summary="List the conventions", response_model=PageOut[ConventionOut])
async def list_conventions(session: SessionDep) -> PageOut[ConventionOut]:
    """All conventions and instruments, with their official languages."""
    items = await service.list_conventions(session)
    return PageOut(items=[_convention_out(c) for c in items], next_cursor=None)


@router.get("/conventions/{code}", summary="Get a convention", response_model=ConventionOut)
async def get_convention(code: str, session: SessionDep) -> ConventionOut:
    """One convention."""
    return _convention_out(await service.get_convention(session, code=code))


OnDay = Annotated[
    date | None,
    Query(description="The day membership is read on (YYYY-MM-DD); today when not given"),
]


@router.get(
    "/conventions/{code}/memberships",
    summary="A convention's members on a day",
    response_model=ConventionMembershipOut,
)
async def get_convention_memberships(
    code: str, session: SessionDep, paging: Paging, on: OnDay = None
) -> ConventionMembershipOut:
    """A convention's membership: how many Parties are members on a day, the published lists
    it was taken from (address, date read), and every membership with its dates."""
    day = on or utcnow().date()
    summary, page = await service.membership_overview(
        session, convention=code, on=day, limit=paging.limit, cursor=paging.cursor
    )
    return ConventionMembershipOut(
        convention=summary["convention"],
        on=day,
        members=summary["members"],
        withdrawn=summary["withdrawn"],
        total=summary["total"],
        sources=[MembershipSource(**x) for x in summary["sources"]],
        items=[
            MembershipRowOut(
                **_membership_out(m).model_dump(),
                member=is_member_on(m.since, m.withdrawn_on, day),
            )
            for m in page.items
        ],
        next_cursor=page.next_cursor,
    )


CSV_EXAMPLE = (
    "convention,party,name,entry_into_force,withdrawal,source_name,source_url,source_read_on\n"
    "CMS,KEN,Kenya,1999-05-01,,CMS Parties,https://www.cms.int/en/parties-range-states,"
    "2026-12-01\n"
)


@router.put(
    "/conventions/{code}/memberships",
    summary="Replace a convention's memberships from a published list",
    response_model=MembershipImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["convention", "source", "memberships"],
                        "properties": {
                            "convention": {"type": "string"},
                            "source": {
                                "type": "object",
                                "required": ["url", "read_on"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "url": {"type": "string"},
                                    "read_on": {"type": "string", "format": "date"},
                                },
                            },
                            "memberships": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["party", "entry_into_force"],
                                    "properties": {
                                        "party": {"type": "string"},
                                        "name": {"type": "string"},
                                        "entry_into_force": {"type": "string", "format": "date"},
                                        "withdrawal": {
                                            "type": ["string", "null"],
                                            "format": "date",
                                        },
                                    },
                                },
                            },
                        },
                    },
                    "example": {
                        "convention": "CMS",
                        "source": {
                            "name": "CMS Parties",
                            "url": "https://www.cms.int/en/parties-range-states",
                            "read_on": "2026-12-01",
                        },
                        "memberships": [{"party": "KEN", "entry_into_force": "1999-05-01"}],
                    },
                },
            },
        }
    },
)
async def import_memberships(
    code: str,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    dry_run: Annotated[
        bool, Query(description="Only say what would change; store nothing")
    ] = False,
) -> MembershipImportOut:
    """Replace a convention's memberships by a published list (CSV or JSON, each row citing the
    list's address and the date it was read): all or nothing. Parties not on the list lose
    their membership; withdrawn Parties keep their submissions. Admins and the convention's
    secretariat."""
    if not principal.can_manage_convention(code):
        raise Forbidden(f"only admins and the {code} secretariat import its memberships")
    await service.get_convention(session, code=code)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        kind = "csv"
    elif content_type == "application/json" or content_type.endswith("+json"):
        kind = "json"
    else:
        raise UnsupportedMediaType("send text/csv or application/json")
    today = utcnow().date()
    listing = service.read_membership_list(
        await request.body(), kind=kind, expected=code, today=today
    )
    result = await service.import_memberships(
        session, actor=principal.actor, convention=code, listing=listing, dry_run=dry_run
    )
    return MembershipImportOut.model_validate(result)


@router.get("/parties", summary="List the Parties", response_model=PageOut[PartyOut])
async def list_parties(
    session: SessionDep,
    paging: Paging,
    convention: Annotated[
        str | None, Query(description="Only the members of this convention on the day `on`")
    ] = None,
    on: OnDay = None,
    lang: NameLang = None,
) -> PageOut[PartyOut]:
    """Parties (ISO 3166-1 countries and the European Union) and their memberships."""
    page, memberships = await service.list_parties(
        session,
        convention=convention,
        on=on or utcnow().date(),
        limit=paging.limit,
        cursor=paging.cursor,
    )
    return PageOut(
        items=[_party_out(p, memberships[p.iso3], lang) for p in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/parties/{iso3}", summary="Get a Party and its memberships", response_model=PartyOut)
async def get_party(iso3: str, session: SessionDep, lang: NameLang = None) -> PartyOut:
    """One Party and its memberships."""
    party = await service.get_party(session, iso3=iso3)
    memberships = await service.memberships_of(session, parties=[party.iso3])
    return _party_out(party, memberships[party.iso3], lang)


@router.put(
    "/parties/{iso3}/memberships/{code}",
    summary="Set a Party's membership of a convention",
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
        withdrawn_on=body.withdrawn_on,
        source_name=body.source_name,
        source_read_on=body.source_read_on,
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _membership_out(membership)


@router.delete(
    "/parties/{iso3}/memberships/{code}",
    summary="Remove a Party's membership of a convention",
    status_code=204,
)
async def delete_membership(
    iso3: Annotated[str, Path(openapi_examples={"Tanzania": {"value": "TZA"}})],
    code: Annotated[str, Path(openapi_examples={"AEWA": {"value": "AEWA"}})],
    session: SessionDep,
    principal: AdminUser,
) -> Response:
    """Remove a Party's membership of a convention (admin)."""
    await service.delete_membership(session, actor=principal.actor, iso3=iso3, convention=code)
    return Response(status_code=204)


@router.post("/cycles", summary="Open a reporting cycle", response_model=CycleOut, status_code=201)
async def create_cycle(body: CycleIn, session: SessionDep, principal: CurrentUser) -> CycleOut:
    """Open a new reporting cycle (admin or the convention's secretariat)."""
    if not principal.can_manage_convention(body.convention):
        raise Forbidden(f"only admins and the {body.convention} secretariat create its cycles")
    cycle = await service.create_cycle(session, actor=principal.actor, data=body)
    return cycle_out(cycle)
