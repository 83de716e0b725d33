"""Workspaces: create (with carry-forward), read, list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Cycle, Party
from cmsreporting.registry.service import get_cycle, is_member
from cmsreporting.reporting.access import CONTRIBUTORS_ONLY_ASSIGNED, can_use, contributes
from cmsreporting.reporting.carry_forward import carry_forward_answers
from cmsreporting.reporting.models import Assignment, Workspace, WorkspaceCycle

# --- workspaces ---------------------------------------------------------------------------


async def get_workspace(
    session: AsyncSession, *, workspace_id: int, principal: Principal, contributors: bool = False
) -> Workspace:
    """A workspace the caller may use; others are reported as missing. A contributor of its
    Party gets it only where `contributors` says the operation serves them (else 403)."""
    if not valid_id(workspace_id):
        raise NotFound(f"no workspace {workspace_id}")
    workspace = (
        (
            await session.execute(
                select(Workspace)
                .options(
                    joinedload(orm_attr(Workspace.cycles)).joinedload(
                        orm_attr(WorkspaceCycle.cycle)
                    )
                )
                .where(col(Workspace.id) == workspace_id)
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if workspace is None:
        raise NotFound(f"no workspace {workspace_id}")
    if can_use(principal, workspace.party_iso3):
        return workspace
    if contributes(principal, workspace.party_iso3):
        if contributors:
            return workspace
        raise Forbidden(CONTRIBUTORS_ONLY_ASSIGNED)
    raise NotFound(f"no workspace {workspace_id}")


async def list_workspaces(
    session: AsyncSession,
    *,
    principal: Principal,
    party: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Workspace]:
    """Workspaces the caller may use."""
    stmt = select(Workspace).options(
        selectinload(orm_attr(Workspace.cycles)).joinedload(orm_attr(WorkspaceCycle.cycle))
    )
    if not principal.is_admin:
        parties = sorted({g.party for g in principal.grants if g.role == "focal_point" and g.party})
        assigned = select(col(Assignment.workspace_id)).where(
            col(Assignment.user_id) == principal.user_id
        )
        stmt = stmt.where(
            col(Workspace.party_iso3).in_(parties)
            | (
                col(Workspace.party_iso3).in_(sorted(principal.contributor_of))
                & col(Workspace.id).in_(assigned)
            )
        )
    if party:
        stmt = stmt.where(col(Workspace.party_iso3) == party.upper())
    return await paginate(session, stmt, orm_attr(Workspace.id), limit=limit, cursor=cursor)


async def create_workspace(
    session: AsyncSession,
    *,
    actor: str,
    party: str,
    cycle_refs: Sequence[str],
    title: str | None,
    carry_forward: bool,
) -> tuple[Workspace, int]:
    """A workspace for a Party's cycles (conventions it is a member of); returns it and the
    number of answers carried forward."""
    party_row = await session.get(Party, party.upper())
    if party_row is None:
        raise InvalidInput(
            f"unknown Party {party!r}", errors=[FieldError("/party", "unknown Party")]
        )
    errors: list[FieldError] = []
    cycles: list[Cycle] = []
    today = utcnow().date()
    for i, ref in enumerate(cycle_refs):
        try:
            cycle = await get_cycle(session, ref=ref)
        except DomainError as exc:
            errors.append(FieldError(f"/cycles/{i}", exc.detail))
            continue
        # a Party reports on a cycle when it is a member on its due date, or is one today
        if not (
            await is_member(
                session, party=party_row.iso3, convention=cycle.convention_code, day=cycle.due_on
            )
            or await is_member(
                session, party=party_row.iso3, convention=cycle.convention_code, day=today
            )
        ):
            errors.append(
                FieldError(
                    f"/cycles/{i}",
                    f"{party_row.iso3} is not a member of {cycle.convention_code} (neither today "
                    f"nor on the cycle's due date, {cycle.due_on.isoformat()})",
                )
            )
            continue
        if any(c.id == cycle.id for c in cycles):
            errors.append(FieldError(f"/cycles/{i}", f"{ref} is listed twice"))
            continue
        cycles.append(cycle)
    if errors:
        raise InvalidInput("the workspace cannot cover these cycles", errors=errors)
    taken = (
        await session.execute(
            select(col(WorkspaceCycle.workspace_id), col(WorkspaceCycle.cycle_id)).where(
                col(WorkspaceCycle.party_iso3) == party_row.iso3,
                col(WorkspaceCycle.cycle_id).in_([c.id for c in cycles]),
            )
        )
    ).all()
    if taken:
        by_cycle = {cid: wid for wid, cid in taken}
        raise Conflict(
            f"{party_row.iso3} already reports on these cycles in another workspace",
            errors=[
                FieldError(
                    f"/cycles/{i}", f"in workspace {by_cycle[c.id]}", workspace=by_cycle[c.id]
                )
                for i, c in enumerate(cycles)
                if c.id in by_cycle
            ],
        )
    workspace = Workspace(
        party_iso3=party_row.iso3,
        title=title,
        created_by=actor,
        cycles=[
            WorkspaceCycle(party_iso3=party_row.iso3, cycle_id=c.id, position=i)
            for i, c in enumerate(cycles)
        ],
    )
    session.add(workspace)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="workspace.create",
        target_type="workspace",
        target_id=str(workspace.id),
        after={"party": party_row.iso3, "cycles": [c.ref for c in cycles]},
    )
    carried = 0
    if carry_forward:
        for link, cycle in zip(workspace.cycles, cycles, strict=True):
            link.cycle = cycle
        carried = await carry_forward_answers(session, actor=actor, workspace=workspace)
    return workspace, carried
