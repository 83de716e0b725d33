"""Request dependencies that identify the caller: a bearer token or a web session cookie.

A bearer token (scripts) is read from the Authorization header and needs nothing else. Without
one, the session cookie is read; a request that may write (any method but GET, HEAD and
OPTIONS) must then carry the session's CSRF token in `X-CSRF-Token`, else it is refused with
403 and nothing is done. A bad, revoked or expired credential is refused with 401, never
ignored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.auth.cache import CallerCache
from cmsreporting.auth.principal import Principal
from cmsreporting.auth.service import authenticate_digest, digest_token
from cmsreporting.auth.session_service import (
    authenticate_session,
    csrf_matches,
    digest_secret,
)
from cmsreporting.config import Settings, get_settings
from cmsreporting.db import SessionDep
from cmsreporting.errors import Forbidden, Unauthorized

SESSION_COOKIE = "cmsr_session"
CSRF_COOKIE = "cmsr_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared so that the OpenAPI document names the schemes on every operation that reads the
# caller; the credentials themselves are parsed below, where a malformed one is refused.
bearer = HTTPBearer(
    auto_error=False,
    description=(
        "An access token (`cmsr_…`), sent as `Authorization: Bearer <token>` (in Authorize, "
        "paste the token alone). To get one: sign in to the web interface at `/ui/`, open "
        '"My account" (your name in the top bar) and create an access token; or, signed in, '
        "`POST /api/v1/me/tokens`; or, on the server, `cmsreporting tokens create NAME`. "
        "`cmsreporting serve --demo` prints one for each demo user. The secret is shown once."
    ),
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=(
        "A web sign-in (POST /api/v1/auth/signin); writes also need its CSRF token in the "
        f"`{CSRF_HEADER}` header"
    ),
)


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or get_settings()


def callers_of(request: Request) -> CallerCache | None:
    """The application's cache of authenticated callers, if it keeps one."""
    callers: CallerCache | None = getattr(request.app.state, "callers", None)
    return callers


async def caller(request: Request, session: AsyncSession) -> Principal | None:
    """The caller if a bearer token or a session cookie is given; a bad one is refused."""
    header = request.headers.get("authorization")
    callers = callers_of(request)
    if header is None:
        secret = request.cookies.get(SESSION_COOKIE)
        if not secret:
            return None
        if request.method not in SAFE_METHODS and not csrf_matches(
            secret, request.headers.get(CSRF_HEADER)
        ):
            raise Forbidden(
                f"a write signed in by cookie needs the session's CSRF token in {CSRF_HEADER}"
            )
        key = "session:" + digest_secret(secret)
        principal = callers.get(key) if callers is not None else None
        if principal is None:
            principal = await authenticate_session(
                session, digest=key.removeprefix("session:"), settings=settings_of(request)
            )
            if principal is None:
                raise Unauthorized("the session has ended; sign in again")
            if callers is not None:
                callers.put(key, principal)
        request.state.user_id = principal.user_id  # for the request's log line
        return principal
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    digest = digest_token(token)
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
    _cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal | None:
    """The caller if a credential is given; a bad one is refused, not ignored."""
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


UserName = Annotated[
    str, Path(max_length=100, openapi_examples={"a focal point": {"value": "ken_fp"}})
]
SessionId = Annotated[int, Path(openapi_examples={"a session": {"value": 41}})]
TokenId = Annotated[int, Path(openapi_examples={"a token": {"value": 7}})]
GrantId = Annotated[int, Path(openapi_examples={"a grant": {"value": 9}})]
CsrfHeader = Annotated[
    str | None,
    Header(
        alias=CSRF_HEADER,
        description="The session's CSRF token (cookie sign-in only)",
        openapi_examples={"a session's": {"value": "9f86d081884c7d659a2feaa0c55ad015"}},
    ),
]

MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(required_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
