"""Contributors, section assignments and presence in a workspace's form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from cmsreporting.auth.deps import CurrentUser, UserName, callers_of, optional_principal
from cmsreporting.db import SessionDep
from cmsreporting.errors import Forbidden
from cmsreporting.reporting import access, assignments, presence, workspace_service
from cmsreporting.reporting.schemas import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPatch,
    ContributorOut,
    PresenceIn,
    PresenceListOut,
    PresenceOut,
)

router = APIRouter(
    prefix="/api/v1", tags=["assignments"], dependencies=[Depends(optional_principal)]
)


AssignmentId = Annotated[int, Path(openapi_examples={"an assignment": {"value": 3}})]


def assignment_out(found: assignments.Assigned) -> AssignmentOut:
    """API form of an assignment."""
    a = found.assignment
    return AssignmentOut(
        id=a.id,
        workspace_id=a.workspace_id,
        section=a.section,
        contributor=found.user.name,
        contributor_display_name=found.user.display_name,
        status=a.status,
        created_at=a.created_at,
        created_by=a.created_by,
        updated_at=a.updated_at,
        updated_by=a.updated_by,
    )


@router.get(
    "/workspaces/{workspace_id}/contributors",
    summary="List a workspace's contributors",
    response_model=list[ContributorOut],
)
async def list_workspace_contributors(
    workspace_id: int, session: SessionDep, principal: CurrentUser
) -> list[ContributorOut]:
    """The active contributors of the workspace's Party, to assign sections to (its focal
    points; invite more with POST /api/v1/invitations, role `contributor`)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    users = await assignments.contributors_of(session, party=workspace.party_iso3)
    return [ContributorOut(name=u.name, display_name=u.display_name, email=u.email) for u in users]


@router.delete(
    "/workspaces/{workspace_id}/contributors/{name}",
    summary="Remove a contributor from a Party",
    status_code=204,
)
async def remove_workspace_contributor(
    workspace_id: int,
    name: UserName,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
) -> Response:
    """Take the contributor role of the workspace's Party from a user, and their assignments
    in the Party's workspaces (their answers stay; the Party's focal points)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    user = await assignments.remove_contributor(
        session, workspace=workspace, principal=principal, name=name
    )
    cache = callers_of(request)
    if cache is not None:
        cache.forget_user(user.id)
    return Response(status_code=204)


@router.get(
    "/workspaces/{workspace_id}/assignments",
    summary="List a workspace's assignments",
    response_model=list[AssignmentOut],
)
async def list_workspace_assignments(
    workspace_id: int, session: SessionDep, principal: CurrentUser
) -> list[AssignmentOut]:
    """The sections given to contributors and their status (a contributor: their own)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    found = await assignments.list_assignments(session, workspace=workspace, principal=principal)
    return [assignment_out(a) for a in found]


@router.post(
    "/workspaces/{workspace_id}/assignments",
    summary="Assign a section to a contributor",
    response_model=AssignmentOut,
    status_code=201,
)
async def create_workspace_assignment(
    workspace_id: int,
    body: AssignmentIn,
    session: SessionDep,
    principal: CurrentUser,
    response: Response,
) -> AssignmentOut:
    """Give a section (or the shared questions) to a contributor of the Party, who is mailed
    (the Party's focal points; one contributor per section)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    made = await assignments.create_assignment(
        session,
        workspace=workspace,
        principal=principal,
        section=body.section,
        contributor=body.contributor,
    )
    response.headers["Location"] = (
        f"/api/v1/workspaces/{workspace.id}/assignments/{made.assignment.id}"
    )
    return assignment_out(made)


@router.patch(
    "/workspaces/{workspace_id}/assignments/{assignment_id}",
    summary="Move an assignment on (ready, done, reopened)",
    response_model=AssignmentOut,
)
async def update_workspace_assignment(
    workspace_id: int,
    assignment_id: AssignmentId,
    body: AssignmentPatch,
    session: SessionDep,
    principal: CurrentUser,
) -> AssignmentOut:
    """Move an assignment: its contributor marks it `ready` for review (or takes that back to
    `in_progress`); the focal point marks it `done` or reopens it (`in_progress`)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    moved = await assignments.update_status(
        session,
        workspace=workspace,
        principal=principal,
        assignment_id=assignment_id,
        status=body.status,
    )
    return assignment_out(moved)


@router.delete(
    "/workspaces/{workspace_id}/assignments/{assignment_id}",
    summary="Take a section back from its contributor",
    status_code=204,
)
async def delete_workspace_assignment(
    workspace_id: int, assignment_id: AssignmentId, session: SessionDep, principal: CurrentUser
) -> Response:
    """Take a section back from its contributor (its answers stay; the focal points)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    await assignments.delete_assignment(
        session, workspace=workspace, principal=principal, assignment_id=assignment_id
    )
    return Response(status_code=204)


@router.put(
    "/workspaces/{workspace_id}/presence",
    summary="Say who is in the form (heartbeat)",
    response_model=PresenceListOut,
)
async def put_workspace_presence(
    workspace_id: int, body: PresenceIn, session: SessionDep, principal: CurrentUser
) -> PresenceListOut:
    """A heartbeat of the caller's form (about every 20 s while it is shown, and when the
    section or question in focus changes): who else is in the form now, and where. An entry
    counts for 60 s after its last heartbeat."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    if access.contributes(principal, workspace.party_iso3) and body.section is not None:
        mine = await assignments.assigned_parts(session, workspace=workspace, principal=principal)
        if mine is not None and body.section not in mine:
            raise Forbidden(f"{body.section} is not a section assigned to you")
    await presence.beat(
        session,
        workspace_id=workspace.id,
        principal=principal,
        section=body.section,
        slot=body.slot,
    )
    here = await presence.others(session, workspace_id=workspace.id, principal=principal)
    return PresenceListOut(
        presence=[PresenceOut.model_validate(h, from_attributes=True) for h in here]
    )
