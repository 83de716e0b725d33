"""Users, their roles, tokens and sessions, as administrators manage them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cmsreporting.auth import service
from cmsreporting.auth.deps import AdminUser, GrantId, TokenId, UserName, callers_of
from cmsreporting.auth.models import RoleGrant, User
from cmsreporting.auth.router import token_out
from cmsreporting.auth.schemas import GrantIn, TokenOut, UserGrantOut, UserOut, UserUpdate
from cmsreporting.db import SessionDep
from cmsreporting.pagination import PageOut, Paging

router = APIRouter(prefix="/api/v1", tags=["administration"])


def user_out(user: User, grants: list[RoleGrant]) -> UserOut:
    """A user with their role grants."""
    return UserOut(
        id=user.id,
        name=user.name,
        email=user.email,
        display_name=user.display_name,
        language=user.language,
        active=user.active,
        demo=user.demo,
        has_password=user.password_hash is not None,
        created_at=user.created_at,
        roles=[
            UserGrantOut(id=g.id, role=g.role, convention=g.convention_code, party=g.party_iso3)
            for g in grants
        ],
    )


async def _one(session: SessionDep, user: User) -> UserOut:
    grants = await service.grants_of(session, user_ids=[user.id])
    return user_out(user, grants[user.id])


def _forget(request: Request, user: User) -> None:
    callers = callers_of(request)
    if callers is not None:
        callers.forget_user(user.id)


@router.get("/users", summary="List the users", response_model=PageOut[UserOut])
async def list_users(session: SessionDep, principal: AdminUser, paging: Paging) -> PageOut[UserOut]:
    """Users with their roles, oldest first (admin)."""
    page = await service.list_users(session, limit=paging.limit, cursor=paging.cursor)
    grants = await service.grants_of(session, user_ids=[u.id for u in page.items])
    return PageOut(
        items=[user_out(u, grants[u.id]) for u in page.items], next_cursor=page.next_cursor
    )


@router.get("/users/{name}", summary="Get a user", response_model=UserOut)
async def get_user(name: UserName, session: SessionDep, principal: AdminUser) -> UserOut:
    """One user with their roles (admin)."""
    return await _one(session, await service.get_user(session, name=name))


@router.patch("/users/{name}", summary="Change or deactivate a user", response_model=UserOut)
async def update_user(
    name: UserName, body: UserUpdate, request: Request, session: SessionDep, principal: AdminUser
) -> UserOut:
    """Change a user's e-mail address, display name, language, or deactivate them (they can no
    longer sign in, their web sessions end and their tokens stop working) or activate them
    again (admin). Other server processes see it within the auth cache delay."""
    user = await service.get_user(session, name=name)
    await service.update_user(
        session,
        actor=principal.actor,
        user=user,
        email=body.email,
        display_name=body.display_name,
        language=body.language,
        active=body.active,
    )
    _forget(request, user)
    return await _one(session, user)


@router.post(
    "/users/{name}/roles", summary="Give a user a role", status_code=201, response_model=UserOut
)
async def grant_user_role(
    name: UserName, body: GrantIn, request: Request, session: SessionDep, principal: AdminUser
) -> UserOut:
    """Give a user a role (admin); a role they hold already is left as it is."""
    user = await service.get_user(session, name=name)
    await service.grant_role(
        session,
        actor=principal.actor,
        user=user,
        role=body.role.value,
        convention=body.convention,
        party=body.party,
    )
    _forget(request, user)
    return await _one(session, user)


@router.delete(
    "/users/{name}/roles/{grant_id}",
    summary="Take a role from a user",
    status_code=204,
    response_class=Response,
)
async def revoke_user_role(
    name: UserName, grant_id: GrantId, request: Request, session: SessionDep, principal: AdminUser
) -> Response:
    """Take a role grant from a user (admin)."""
    user = await service.get_user(session, name=name)
    await service.revoke_role(session, actor=principal.actor, user=user, grant_id=grant_id)
    _forget(request, user)
    return Response(status_code=204)


@router.get(
    "/users/{name}/tokens", summary="List a user's access tokens", response_model=list[TokenOut]
)
async def list_user_tokens(
    name: UserName, session: SessionDep, principal: AdminUser
) -> list[TokenOut]:
    """A user's API tokens, newest first (admin)."""
    user = await service.get_user(session, name=name)
    return [token_out(row) for row in await service.list_tokens(session, user=user)]


@router.delete(
    "/users/{name}/tokens/{token_id}",
    summary="Revoke a user's access token",
    status_code=204,
    response_class=Response,
)
async def revoke_user_token(
    name: UserName, token_id: TokenId, request: Request, session: SessionDep, principal: AdminUser
) -> Response:
    """Revoke one of a user's API tokens (admin)."""
    user = await service.get_user(session, name=name)
    row = await service.get_token(session, user=user, token_id=token_id)
    await service.revoke_token(session, actor=principal.actor, user=user, token=row)
    callers = callers_of(request)
    if callers is not None:
        callers.forget(row.digest)
    return Response(status_code=204)


@router.delete(
    "/users/{name}/sessions",
    summary="End a user's web sessions",
    status_code=204,
    response_class=Response,
)
async def end_user_sessions(
    name: UserName, request: Request, session: SessionDep, principal: AdminUser
) -> Response:
    """End every web session of a user (admin); their API tokens stay."""
    user = await service.get_user(session, name=name)
    await service.revoke_sessions(session, actor=principal.actor, user=user)
    _forget(request, user)
    return Response(status_code=204)
