"""Invitations by e-mail, and password resets by e-mail link."""

from __future__ import annotations

from fastapi import APIRouter, Request

from cmsreporting.auth import links
from cmsreporting.auth.deps import CurrentUser, callers_of, settings_of
from cmsreporting.auth.schemas import (
    InvitationIn,
    InvitationOut,
    LinkUse,
    LinkUsed,
    ResetRequest,
    ResetRequested,
)
from cmsreporting.db import SessionDep

# invitations are made by administrators and secretariats; links are used signed out
router = APIRouter(prefix="/api/v1")

RESET_ANSWER = (
    "if an active account has this address, a link to set a new password is on its way to it"
)


def _forget(request: Request, user_id: int) -> None:
    cache = callers_of(request)
    if cache is not None:
        cache.forget_user(user_id)


@router.post(
    "/invitations",
    tags=["administration"],
    summary="Invite a person by e-mail",
    status_code=201,
    response_model=InvitationOut,
)
async def invite_user(
    body: InvitationIn, request: Request, session: SessionDep, principal: CurrentUser
) -> InvitationOut:
    """Invite a person by e-mail to a role (admins: any role; a convention's secretariat: its
    focal points). The account is made if the address has none, the role granted at once, and
    a single-use link to choose a password is mailed (it expires after the configured days; a
    newer invitation replaces it)."""
    user, link = await links.invite(
        session,
        principal=principal,
        settings=settings_of(request),
        email=body.email,
        role=body.role.value,
        convention=body.convention,
        party=body.party,
        display_name=body.display_name,
        language=body.language,
    )
    _forget(request, user.id)
    return InvitationOut(
        user=user.name,
        email=user.email or "",
        role=body.role,
        convention=body.convention,
        party=body.party.upper() if body.party else None,
        expires_at=link.expires_at,
    )


@router.post(
    "/invitations/accept",
    tags=["account"],
    summary="Accept an invitation (choose a password)",
    response_model=LinkUsed,
)
async def accept_invitation(body: LinkUse, request: Request, session: SessionDep) -> LinkUsed:
    """Choose a password through an invitation's link (once; 422 on `/token` when the link is
    unknown, expired or used)."""
    user = await links.use_link(
        session,
        settings=settings_of(request),
        purpose="invitation",
        secret=body.token,
        password=body.new_password,
        display_name=body.display_name,
    )
    _forget(request, user.id)
    return LinkUsed(name=user.name, email=user.email)


@router.post(
    "/auth/password-reset",
    tags=["account"],
    summary="Ask for a password reset link",
    status_code=202,
    response_model=ResetRequested,
)
async def request_password_reset(
    body: ResetRequest, request: Request, session: SessionDep
) -> ResetRequested:
    """Ask for a link to set a new password. The answer is the same whether or not the address
    has an account (an address that is not one is refused with 422)."""
    await links.request_reset(session, settings=settings_of(request), email=body.email)
    return ResetRequested(detail=RESET_ANSWER)


@router.post(
    "/auth/password-reset/confirm",
    tags=["account"],
    summary="Set a new password through a reset link",
    response_model=LinkUsed,
)
async def reset_password(body: LinkUse, request: Request, session: SessionDep) -> LinkUsed:
    """Set a new password through a reset link (once; it ends the account's web sessions)."""
    user = await links.use_link(
        session,
        settings=settings_of(request),
        purpose="reset",
        secret=body.token,
        password=body.new_password,
    )
    _forget(request, user.id)
    return LinkUsed(name=user.name, email=user.email)
