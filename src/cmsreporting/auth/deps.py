"""Request dependencies that identify the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.auth.cache import CallerCache
from cmsreporting.auth.principal import Principal
from cmsreporting.auth.service import authenticate_digest, digest_token
from cmsreporting.db import SessionDep
from cmsreporting.errors import Forbidden, Unauthorized

# Declared so that the OpenAPI document names the scheme on every operation that reads the
# caller; the header itself is parsed below, where a malformed one is refused rather than ignored.
bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`")


async def caller(request: Request, session: AsyncSession) -> Principal | None:
    """The caller if a bearer token is given; a bad token is refused, not ignored."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    digest = digest_token(token)
    callers: CallerCache | None = getattr(request.app.state, "callers", None)
    principal = callers.get(digest) if callers is not None else None
    if principal is None:
        principal = await authenticate_digest(session, digest=digest)
        if principal is None:
            raise Unauthorized("the bearer token is unknown, revoked or expired")
        if callers is not None:
            callers.put(digest, principal)
    request.state.user_id = principal.user_id  # for the request's log line
    return principal


async def optional_principal(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    """The caller if a bearer token is given; a bad token is refused, not ignored."""
    return await caller(request, session)


async def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """The caller; anonymous requests are refused with 401."""
    if principal is None:
        raise Unauthorized()
    return principal


async def admin_principal(
    principal: Annotated[Principal, Depends(required_principal)],
) -> Principal:
    """The caller, who must be an admin."""
    if not principal.is_admin:
        raise Forbidden("this needs the admin role")
    return principal


MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(required_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
