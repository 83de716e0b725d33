"""Who am I; password sign-in and sign-out; the caller's own sessions and tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from fastapi import APIRouter, Request, Response

from cmsreporting.auth import service, session_service
from cmsreporting.auth.deps import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    CsrfHeader,
    CurrentUser,
    SessionId,
    TokenId,
    callers_of,
    settings_of,
)
from cmsreporting.auth.models import ApiToken, User, UserSession
from cmsreporting.auth.principal import Grant, Principal
from cmsreporting.auth.schemas import (
    GrantOut,
    Language,
    MeOut,
    MeUpdate,
    PasswordChange,
    SessionOut,
    SignInIn,
    SignInOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from cmsreporting.auth.service import LANGUAGES
from cmsreporting.db import SessionDep, utcnow
from cmsreporting.errors import Forbidden

router = APIRouter(prefix="/api/v1", tags=["account"])


def me_out(principal: Principal, user: User) -> MeOut:
    """The caller as /me shows them."""
    return MeOut(
        name=user.name,
        display_name=user.display_name,
        email=user.email,
        language=cast(Language, user.language if user.language in LANGUAGES else "en"),
        signed_in_with="session" if principal.session_id is not None else "token",
        roles=[
            GrantOut(role=g.role, convention=g.convention, party=g.party) for g in principal.grants
        ],
    )


def token_out(row: ApiToken) -> TokenOut:
    """A token as lists show it."""
    return TokenOut(
        id=row.id,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None and (row.expires_at is None or row.expires_at > utcnow()),
    )


def _secure(request: Request) -> bool:
    configured = settings_of(request).cookie_secure
    return configured if configured is not None else request.url.scheme == "https"


def _clear_cookies(request: Request, response: Response) -> None:
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(
            name, path="/", secure=_secure(request), httponly=http_only, samesite="lax"
        )


@router.post(
    "/auth/signin", summary="Sign in with a password (web session)", response_model=SignInOut
)
async def sign_in(
    body: SignInIn, request: Request, response: Response, session: SessionDep
) -> SignInOut:
    """Sign in with a password: sets the HttpOnly session cookie and the CSRF cookie. Failures
    all say the same; too many for the account or the address answer 429 with Retry-After."""
    settings = settings_of(request)
    signed = await session_service.sign_in(
        session,
        login=body.login,
        password=body.password,
        address=request.client.host if request.client else "unknown",
        user_agent=request.headers.get("user-agent"),
        settings=settings,
    )
    csrf = session_service.csrf_token(signed.secret)
    for name, value, http_only in (
        (SESSION_COOKIE, signed.secret, True),
        (CSRF_COOKIE, csrf, False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=settings.session_absolute_seconds,
            path="/",
            secure=_secure(request),
            httponly=http_only,
            samesite="lax",
        )
    grants = (await service.grants_of(session, user_ids=[signed.user.id]))[signed.user.id]
    principal = Principal(
        user_id=signed.user.id,
        name=signed.user.name,
        grants=tuple(Grant(g.role, g.convention_code, g.party_iso3) for g in grants),
        session_id=signed.row.id,
    )
    return SignInOut(
        user=me_out(principal, signed.user),
        csrf_token=csrf,
        expires_at=signed.row.expires_at,
        idle_seconds=settings.session_idle_seconds,
    )


@router.post(
    "/auth/signout", summary="Sign out of this browser", status_code=204, response_class=Response
)
async def sign_out(request: Request, session: SessionDep, csrf: CsrfHeader = None) -> Response:
    """End this browser's web session and clear its cookies (a bearer token is not touched;
    without a session there is nothing to end)."""
    response = Response(status_code=204)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret and request.headers.get("authorization") is None:
        if not session_service.csrf_matches(secret, csrf):
            raise Forbidden(
                f"a write signed in by cookie needs the session's CSRF token in {CSRF_HEADER}"
            )
        digest = session_service.digest_secret(secret)
        principal = await session_service.authenticate_session(
            session, digest=digest, settings=settings_of(request)
        )
        if principal is not None and principal.session_id is not None:
            user = await service.get_user_by_id(session, user_id=principal.user_id)
            await session_service.end_session(
                session, actor=principal.actor, user=user, session_id=principal.session_id
            )
        callers = callers_of(request)
        if callers is not None:
            callers.forget("session:" + digest)
    _clear_cookies(request, response)
    return response


@router.post(
    "/auth/signout-everywhere",
    summary="Sign out of every browser",
    status_code=204,
    response_class=Response,
)
async def sign_out_everywhere(
    principal: CurrentUser, request: Request, session: SessionDep, csrf: CsrfHeader = None
) -> Response:
    """End every web session of the caller, this one included (API tokens stay)."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    await service.revoke_sessions(session, actor=principal.actor, user=user)
    callers = callers_of(request)
    if callers is not None:
        callers.forget_user(user.id)
    response = Response(status_code=204)
    _clear_cookies(request, response)
    return response


@router.get("/me", summary="Who am I", response_model=MeOut)
async def get_me(principal: CurrentUser, session: SessionDep) -> MeOut:
    """The caller's account and roles."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    return me_out(principal, user)


@router.patch("/me", summary="Change my name or language", response_model=MeOut)
async def update_me(body: MeUpdate, principal: CurrentUser, session: SessionDep) -> MeOut:
    """Change the caller's display name or interface language."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    await service.update_user(
        session,
        actor=principal.actor,
        user=user,
        display_name=body.display_name,
        language=body.language,
    )
    return me_out(principal, user)


@router.put("/me/password", summary="Change my password", status_code=204, response_class=Response)
async def change_my_password(
    body: PasswordChange, principal: CurrentUser, request: Request, session: SessionDep
) -> Response:
    """Change the caller's password (the current one confirms it; wrong ones are throttled as
    sign-ins are); every other web session of the caller ends."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    await session_service.confirm_password(
        session,
        user=user,
        password=body.current_password,
        address=request.client.host if request.client else "unknown",
        settings=settings_of(request),
    )
    await service.set_password(
        session,
        actor=principal.actor,
        user=user,
        password=body.new_password,
        min_length=settings_of(request).password_min_length,
        keep_session=principal.session_id,
    )
    callers = callers_of(request)
    if callers is not None:
        callers.forget_user(user.id)
    return Response(status_code=204)


def session_out(row: UserSession, principal: Principal) -> SessionOut:
    """A session as the list shows it."""
    return SessionOut(
        id=row.id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
        address=row.address,
        current=row.id == principal.session_id,
    )


@router.get("/me/sessions", summary="List my web sessions", response_model=list[SessionOut])
async def list_my_sessions(
    principal: CurrentUser, request: Request, session: SessionDep
) -> list[SessionOut]:
    """The caller's web sessions that have not ended, newest first."""
    rows = await session_service.live_sessions(
        session, user_id=principal.user_id, settings=settings_of(request)
    )
    return [session_out(row, principal) for row in rows]


@router.delete(
    "/me/sessions/{session_id}",
    summary="End one of my web sessions",
    status_code=204,
    response_class=Response,
)
async def end_my_session(
    session_id: SessionId, principal: CurrentUser, request: Request, session: SessionDep
) -> Response:
    """End one of the caller's web sessions (another browser, say)."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    row = await session_service.end_session(
        session, actor=principal.actor, user=user, session_id=session_id
    )
    callers = callers_of(request)
    if callers is not None:
        callers.forget("session:" + row.digest)
    return Response(status_code=204)


@router.get("/me/tokens", summary="List my access tokens", response_model=list[TokenOut])
async def list_my_tokens(principal: CurrentUser, session: SessionDep) -> list[TokenOut]:
    """The caller's API tokens, newest first (revoked and expired ones too)."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    return [token_out(row) for row in await service.list_tokens(session, user=user)]


@router.post(
    "/me/tokens", summary="Create an access token", status_code=201, response_model=TokenCreated
)
async def create_my_token(
    body: TokenIn, principal: CurrentUser, request: Request, session: SessionDep
) -> TokenCreated:
    """A new API token for the caller's scripts; it expires (by default after the service's
    token lifetime) and its secret is shown only in this answer."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    days = body.expires_in_days or settings_of(request).token_default_days
    token, row = await service.issue_token(
        session,
        actor=principal.actor,
        user=user,
        label=body.label,
        expires_at=utcnow() + timedelta(days=days),
    )
    return TokenCreated(**token_out(row).model_dump(), token=token)


@router.delete(
    "/me/tokens/{token_id}",
    summary="Revoke one of my access tokens",
    status_code=204,
    response_class=Response,
)
async def revoke_my_token(
    token_id: TokenId, principal: CurrentUser, request: Request, session: SessionDep
) -> Response:
    """Revoke one of the caller's API tokens."""
    user = await service.get_user_by_id(session, user_id=principal.user_id)
    row = await service.get_token(session, user=user, token_id=token_id)
    await service.revoke_token(session, actor=principal.actor, user=user, token=row)
    callers = callers_of(request)
    if callers is not None:
        callers.forget(row.digest)
    return Response(status_code=204)
