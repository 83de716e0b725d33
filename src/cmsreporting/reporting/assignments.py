"""Assignments: the parts of a workspace its Party's focal point gives contributors to fill,
their status (not started, in progress, ready for review, done), and the check that a
contributor writes only in their own parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import RoleGrant, User
from cmsreporting.auth.principal import Principal
from cmsreporting.config import get_settings
from cmsreporting.core.i18n import pick
from cmsreporting.core.memo import Memo
from cmsreporting.core.sections import SHARED, section_key, section_of_slot, top_sections
from cmsreporting.db import utcnow, valid_id
from cmsreporting.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from cmsreporting.mail import outbox
from cmsreporting.registry.models import Party
from cmsreporting.reporting.access import can_use
from cmsreporting.reporting.answer_service import SaveTarget
from cmsreporting.reporting.contexts import contexts
from cmsreporting.reporting.models import Assignment, Workspace
from cmsreporting.templates import cache as template_cache

FOCAL_ONLY = "only the Party's focal points assign sections, mark them done and reopen them"
CONTRIBUTOR_MOVES = {("not_started", "ready"), ("in_progress", "ready"), ("ready", "in_progress")}

_tops: Memo[tuple[int, str], dict[str, str]] = Memo(64, name="template_sections")


@dataclass(frozen=True)
class Part:
    """A part of a workspace that is assigned as one."""

    key: str
    cycle: str | None
    title: str | None


@dataclass(frozen=True)
class Assigned:
    """An assignment with its contributor's name."""

    assignment: Assignment
    user: User


async def parts_of(
    session: AsyncSession, *, workspace: Workspace, lang: str = "en"
) -> dict[str, Part]:
    """The parts of a workspace: `shared` if a concept fills any of its questions, then each
    top-level section of each cycle's current template (titled in `lang` if it has it)."""
    found: dict[str, Part] = {}
    cycle_contexts = await contexts(session, workspace=workspace)
    if any(b.propagates for c in cycle_contexts for b in c.bindings):
        found[SHARED] = Part(SHARED, None, None)
    for context in cycle_contexts:
        document = context.template.document
        for section in document["sections"]:
            key = section_key(context.cycle.ref, section["id"])
            title = pick(section["title"], lang, document["languages"][0])
            found[key] = Part(key, context.cycle.ref, title)
    return found


async def _sections_by_cycle(
    session: AsyncSession, target: SaveTarget
) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for ref, (template_id, digest) in target.templates.items():
        tops = _tops.get((template_id, digest))
        if tops is None:
            document = await template_cache.document_of(
                session, template_id=template_id, digest=digest
            )
            tops = _tops.put((template_id, digest), top_sections(document))
        result[ref] = tops
    return result


async def _mine(session: AsyncSession, *, workspace_id: int, user_id: int) -> dict[str, Assignment]:
    rows = await session.scalars(
        select(Assignment).where(
            col(Assignment.workspace_id) == workspace_id, col(Assignment.user_id) == user_id
        )
    )
    return {a.section: a for a in rows.all()}


async def check_contributor_write(
    session: AsyncSession,
    *,
    target: SaveTarget,
    principal: Principal,
    items: Sequence[dict[str, Any]],
) -> None:
    """Refuse (403, naming each question) a contributor's batch that writes outside the parts
    assigned to them or in a part they marked ready or that is done; a part's first write
    puts it in progress."""
    mine = await _mine(session, workspace_id=target.workspace_id, user_id=principal.user_id)
    by_cycle = await _sections_by_cycle(session, target)
    errors: list[FieldError] = []
    touched: set[str] = set()
    for i, item in enumerate(items):
        slot = item["slot"]
        part = section_of_slot(slot, by_cycle)
        assignment = mine.get(part) if part is not None else None
        if assignment is None:
            errors.append(
                FieldError(
                    f"/answers/{i}/slot",
                    f"{slot} is not in a section assigned to you",
                    slot=slot,
                    section=part,
                )
            )
        elif assignment.status in ("ready", "done"):
            errors.append(
                FieldError(
                    f"/answers/{i}/slot",
                    f"{slot} is in {part}, which is {assignment.status.replace('_', ' ')}; "
                    "the focal point reopens it",
                    slot=slot,
                    section=part,
                )
            )
        else:
            touched.add(assignment.section)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Forbidden(
            "a contributor writes only in the sections assigned to them and still open; "
            f"nothing was saved: {errors[0]['detail']}{more}",
            errors=errors[:50],
        )
    for part in sorted(touched):
        assignment = mine[part]
        if assignment.status == "not_started":
            await _set_status(
                session, actor=principal.actor, assignment=assignment, to="in_progress"
            )


async def _set_status(
    session: AsyncSession, *, actor: str, assignment: Assignment, to: str
) -> None:
    before = assignment.status
    assignment.status = to
    assignment.updated_at = utcnow()
    assignment.updated_by = actor
    await session.flush()
    await record(
        session,
        actor=actor,
        action="assignment.status",
        target_type="workspace",
        target_id=str(assignment.workspace_id),
        before={"assignment": assignment.id, "section": assignment.section, "status": before},
        after={"assignment": assignment.id, "section": assignment.section, "status": to},
    )


async def list_assignments(
    session: AsyncSession, *, workspace: Workspace, principal: Principal
) -> list[Assigned]:
    """The assignments of a workspace (a contributor's own only, for a contributor)."""
    stmt = (
        select(Assignment, User)
        .join(User, col(User.id) == col(Assignment.user_id))
        .where(col(Assignment.workspace_id) == workspace.id)
        .order_by(col(Assignment.id))
    )
    if not can_use(principal, workspace.party_iso3):
        stmt = stmt.where(col(Assignment.user_id) == principal.user_id)
    return [Assigned(a, u) for a, u in (await session.execute(stmt)).all()]


async def assigned_parts(
    session: AsyncSession, *, workspace: Workspace, principal: Principal
) -> set[str] | None:
    """The parts the caller may see: all (None) for focal points and admins, else theirs."""
    if can_use(principal, workspace.party_iso3):
        return None
    mine = await _mine(session, workspace_id=workspace.id, user_id=principal.user_id)
    return set(mine)


async def contributors_of(session: AsyncSession, *, party: str) -> list[User]:
    """The active contributors of a Party, by name."""
    found = await auth_service.role_holders(session, role="contributor", parties=[party])
    return sorted((user for user, _ in found), key=lambda user: user.name)


def _require_focal(principal: Principal, workspace: Workspace) -> None:
    if not can_use(principal, workspace.party_iso3):
        raise Forbidden(FOCAL_ONLY)


async def create_assignment(
    session: AsyncSession,
    *,
    workspace: Workspace,
    principal: Principal,
    section: str,
    contributor: str,
) -> Assigned:
    """Give a part of a workspace to a contributor of its Party, and mail them."""
    _require_focal(principal, workspace)
    user = await session.scalar(select(User).where(col(User.name) == contributor))
    parts = await parts_of(session, workspace=workspace, lang=user.language if user else "en")
    if section not in parts:
        raise InvalidInput(
            f"this workspace has no section {section!r}",
            errors=[FieldError("/section", "unknown section; one of the form's `sections`")],
        )
    grant = None
    if user is not None and user.active:
        grant = await session.scalar(
            select(col(RoleGrant.id)).where(
                col(RoleGrant.user_id) == user.id,
                col(RoleGrant.role) == "contributor",
                col(RoleGrant.party_iso3) == workspace.party_iso3,
            )
        )
    if user is None or grant is None:
        raise InvalidInput(
            f"{contributor!r} is not an active contributor of {workspace.party_iso3}",
            errors=[FieldError("/contributor", "not a contributor of this Party")],
        )
    taken = await session.scalar(
        select(Assignment).where(
            col(Assignment.workspace_id) == workspace.id, col(Assignment.section) == section
        )
    )
    if taken is not None:
        raise Conflict(
            f"{section} is already assigned (assignment {taken.id}); delete it first",
            errors=[FieldError("/section", "already assigned", assignment=taken.id)],
        )
    assignment = Assignment(
        workspace_id=workspace.id,
        section=section,
        user_id=user.id,
        created_by=principal.actor,
        updated_by=principal.actor,
    )
    session.add(assignment)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="assignment.create",
        target_type="workspace",
        target_id=str(workspace.id),
        after={"assignment": assignment.id, "section": section, "contributor": user.name},
    )
    if user.email:
        party = await session.get(Party, workspace.party_iso3)
        part = parts[section]
        await outbox.enqueue(
            session,
            actor=principal.actor,
            key=f"assignment:{assignment.id}",
            kind="assignment",
            recipient=user.email,
            language=user.language,
            fields={
                "name": user.display_name or user.name,
                "assigner": principal.name,
                "party": party.name if party else workspace.party_iso3,
                "section": f"{part.cycle} — {part.title}" if part.cycle else section,
                "link": f"{get_settings().public_url.rstrip('/')}/ui/#/w/{workspace.id}",
            },
        )
    return Assigned(assignment, user)


async def remove_contributor(
    session: AsyncSession, *, workspace: Workspace, principal: Principal, name: str
) -> User:
    """Take the contributor role of the workspace's Party from a user, and with it their
    assignments in the Party's workspaces (the answers stay)."""
    _require_focal(principal, workspace)
    party = workspace.party_iso3
    found = (
        await session.execute(
            select(User, RoleGrant)
            .join(RoleGrant, col(RoleGrant.user_id) == col(User.id))
            .where(
                col(User.name) == name,
                col(RoleGrant.role) == "contributor",
                col(RoleGrant.party_iso3) == party,
            )
        )
    ).first()
    if found is None:
        raise NotFound(f"{name!r} is no contributor of {party}")
    user, grant = found
    taken = (
        await session.scalars(
            select(Assignment).where(
                col(Assignment.user_id) == user.id,
                col(Assignment.workspace_id).in_(
                    select(col(Workspace.id)).where(col(Workspace.party_iso3) == party)
                ),
            )
        )
    ).all()
    for assignment in taken:
        await session.delete(assignment)
        await record(
            session,
            actor=principal.actor,
            action="assignment.delete",
            target_type="workspace",
            target_id=str(assignment.workspace_id),
            before={
                "assignment": assignment.id,
                "section": assignment.section,
                "contributor": user.name,
                "status": assignment.status,
            },
        )
    await session.flush()
    await auth_service.revoke_role(session, actor=principal.actor, user=user, grant_id=grant.id)
    return user


async def _get(
    session: AsyncSession, *, workspace: Workspace, principal: Principal, assignment_id: int
) -> Assigned:
    found = None
    if valid_id(assignment_id):
        found = (
            await session.execute(
                select(Assignment, User)
                .join(User, col(User.id) == col(Assignment.user_id))
                .where(
                    col(Assignment.id) == assignment_id,
                    col(Assignment.workspace_id) == workspace.id,
                )
            )
        ).first()
    if found is None or not (
        can_use(principal, workspace.party_iso3) or found[0].user_id == principal.user_id
    ):
        raise NotFound(f"workspace {workspace.id} has no assignment {assignment_id}")
    return Assigned(found[0], found[1])


async def update_status(
    session: AsyncSession,
    *,
    workspace: Workspace,
    principal: Principal,
    assignment_id: int,
    status: str,
) -> Assigned:
    """Move an assignment: its contributor marks it ready for review (or takes that back); the
    focal point marks it done, or reopens it (in progress)."""
    found = await _get(
        session, workspace=workspace, principal=principal, assignment_id=assignment_id
    )
    assignment = found.assignment
    if assignment.status == status:
        return found
    if not can_use(principal, workspace.party_iso3) and (
        (assignment.status, status) not in CONTRIBUTOR_MOVES
    ):
        raise Forbidden(
            f"a contributor marks a section ready for review (or takes that back); {FOCAL_ONLY}",
            errors=[FieldError("/status", f"{assignment.status} → {status} is the focal point's")],
        )
    await _set_status(session, actor=principal.actor, assignment=assignment, to=status)
    return found


async def delete_assignment(
    session: AsyncSession, *, workspace: Workspace, principal: Principal, assignment_id: int
) -> None:
    """Take a part back from its contributor (the answers stay)."""
    _require_focal(principal, workspace)
    found = await _get(
        session, workspace=workspace, principal=principal, assignment_id=assignment_id
    )
    await session.execute(delete(Assignment).where(col(Assignment.id) == found.assignment.id))
    await record(
        session,
        actor=principal.actor,
        action="assignment.delete",
        target_type="workspace",
        target_id=str(workspace.id),
        before={
            "assignment": found.assignment.id,
            "section": found.assignment.section,
            "contributor": found.user.name,
            "status": found.assignment.status,
        },
    )


async def only_assigned_answers(
    session: AsyncSession, *, workspace: Workspace, principal: Principal, answers: list[Any]
) -> list[Any]:
    """The answers the caller may read: all for focal points and admins, a contributor's
    assigned parts' only."""
    mine = await assigned_parts(session, workspace=workspace, principal=principal)
    if mine is None:
        return answers
    by_cycle = {
        c.cycle.ref: top_sections(c.template.document)
        for c in await contexts(session, workspace=workspace)
    }
    return [a for a in answers if section_of_slot(a.slot, by_cycle) in mine]


def only_assigned_form(form: dict[str, Any], mine: set[str] | None) -> dict[str, Any]:
    """The merged form cut to the parts a contributor was given (whole for None)."""
    if mine is None:
        return form
    return form | {
        "sections": [p for p in form["sections"] if p["key"] in mine],
        "items": [i for i in form["items"] if i.get("section", SHARED) in mine],
    }
