"""Password sign-in, web sessions and the throttling of failed sign-ins.

A session is a random secret in an HttpOnly cookie; the database keeps only its SHA-256 digest,
with an absolute expiry (`session_absolute_seconds` after sign-in) and the time it was last
used (it ends `session_idle_seconds` after that). Its CSRF token is derived from the secret, so
it needs no storage: the page reads it from a second, script-readable cookie and sends it back
in the `X-CSRF-Token` header of every write.

Failed sign-ins are stored (per account name as typed and per client address) and counted over
`signin_window_seconds`; past `signin_account_failures` for the account or
`signin_address_failures` for the address, sign-in answers 429 with Retry-After, whatever the
password. An unknown account costs the same work as a known one, and every failure says the
same thing.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth import passwords
from cmsreporting.auth.models import RoleGrant, SigninFailure, User, UserSession
from cmsreporting.auth.principal import Grant, Principal
from cmsreporting.config import Settings
from cmsreporting.db import utcnow, valid_id
from cmsreporting.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)

SESSION_PREFIX = "cmss_"
TOUCH_EVERY = timedelta(seconds=60)
BAD_CREDENTIALS = "the name or e-mail address and password do not match an active account"


def digest_secret(secret: str) -> str:
    """The stored form of a session secret: its SHA-256 hex digest."""
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    """The CSRF token of a session (derived from its secret, never stored)."""
    return hmac.new(secret.encode(), b"cmsreporting csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str, presented: str | None) -> bool:
    """Whether a request's X-CSRF-Token is its session's."""
    return presented is not None and hmac.compare_digest(csrf_token(secret), presented)


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's secret (shown once), its row and the user."""

    secret: str
    row: UserSession
    user: User


async def _throttle(
    session: AsyncSession, *, account: str, address: str, settings: Settings
) -> None:
    """429 when the account or the address has too many recent failures."""
    since = utcnow() - timedelta(seconds=settings.signin_window_seconds)
    waits = []
    for column, value, limit in (
        (SigninFailure.account, account, settings.signin_account_failures),
        (SigninFailure.address, address, settings.signin_address_failures),
    ):
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(col(SigninFailure.at))).where(
                    col(column) == value, col(SigninFailure.at) > since
                )
            )
        ).one()
        if count >= limit and oldest is not None:
            if oldest.tzinfo is None:  # SQLite returns the aggregate without its column's type
                oldest = oldest.replace(tzinfo=since.tzinfo)
            waits.append((oldest - since).total_seconds())
    if waits:
        raise TooManyRequests(
            "too many failed sign-ins; wait before trying again",
            retry_after=math.ceil(max(waits)),
        )


async def sign_in(
    session: AsyncSession,
    *,
    login: str,
    password: str,
    address: str,
    user_agent: str | None,
    settings: Settings,
) -> SignedIn:
    """A new web session for the user named by `login` (name or e-mail address) if the password
    is theirs and they are active; a failure is remembered (and the refusal keeps it)."""
    account = login.strip().lower()[:254]
    address = address[:64]
    await _throttle(session, account=account, address=address, settings=settings)
    user = await session.scalar(
        select(User).where(or_(col(User.name) == login.strip(), col(User.email) == account))
    )
    matches, rehash = await passwords.verify_password(
        user.password_hash if user is not None else None, password
    )
    if user is None or not matches or not user.active:
        now = utcnow()
        await session.execute(
            delete(SigninFailure).where(
                col(SigninFailure.at) < now - timedelta(seconds=settings.signin_window_seconds)
            )
        )
        session.add(SigninFailure(account=account, address=address, at=now))
        await session.flush()
        refusal = Unauthorized(BAD_CREDENTIALS)
        refusal.keep_changes = True
        raise refusal
    if rehash:
        user.password_hash = await passwords.hash_password(password)
    await session.execute(delete(SigninFailure).where(col(SigninFailure.account) == account))
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        digest=digest_secret(secret),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_absolute_seconds),
        user_agent=(user_agent or "")[:200] or None,
        address=address,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        actor=f"user:{user.name}",
        action="user.signin",
        target_type="user",
        target_id=user.name,
        after={"session": row.id, "address": address},
    )
    return SignedIn(secret=secret, row=row, user=user)


async def confirm_password(
    session: AsyncSession, *, user: User, password: str, address: str, settings: Settings
) -> None:
    """Check a signed-in user's current password (before a change), counted and throttled as
    sign-ins are: a wrong one is a 422 naming the field, remembered like a failed sign-in."""
    account = user.name.lower()
    address = address[:64]
    await _throttle(session, account=account, address=address, settings=settings)
    matches, _ = await passwords.verify_password(user.password_hash, password)
    if not matches:
        session.add(SigninFailure(account=account, address=address))
        await session.flush()
        refusal = InvalidInput(
            "the current password is wrong",
            errors=[FieldError("/current_password", "wrong password")],
        )
        refusal.keep_changes = True
        raise refusal


def idle_end(row_last_seen: datetime, settings: Settings) -> datetime:
    """When a session last used at this time ends for idleness."""
    return row_last_seen + timedelta(seconds=settings.session_idle_seconds)


async def authenticate_session(
    session: AsyncSession, *, digest: str, settings: Settings
) -> Principal | None:
    """The principal of a live session with this digest (its last use noted), else None."""
    rows = (
        await session.execute(
            select(
                col(User.id),
                col(User.name),
                col(User.active),
                col(UserSession.id),
                col(UserSession.revoked_at),
                col(UserSession.expires_at),
                col(UserSession.last_seen_at),
                col(RoleGrant.role),
                col(RoleGrant.convention_code),
                col(RoleGrant.party_iso3),
            )
            .join(User, col(User.id) == UserSession.user_id)
            .outerjoin(RoleGrant, col(RoleGrant.user_id) == User.id)
            .where(col(UserSession.digest) == digest)
        )
    ).all()
    if not rows:
        return None
    user_id, name, active, session_id, revoked_at, expires_at, last_seen = rows[0][:7]
    now = utcnow()
    if not active or revoked_at is not None or expires_at <= now:
        return None
    if idle_end(last_seen, settings) <= now:
        return None
    if now - last_seen >= TOUCH_EVERY:
        await session.execute(
            update(UserSession).where(col(UserSession.id) == session_id).values(last_seen_at=now)
        )
        last_seen = now
    return Principal(
        user_id=user_id,
        name=name,
        grants=tuple(Grant(role, c, p) for *_, role, c, p in rows if role is not None),
        expires_at=min(expires_at, idle_end(last_seen, settings)),
        session_id=session_id,
    )


async def live_sessions(
    session: AsyncSession, *, user_id: int, settings: Settings
) -> list[UserSession]:
    """A user's sessions that have not ended, newest first."""
    now = utcnow()
    rows = await session.scalars(
        select(UserSession)
        .where(
            col(UserSession.user_id) == user_id,
            col(UserSession.revoked_at).is_(None),
            col(UserSession.expires_at) > now,
            col(UserSession.last_seen_at) > now - timedelta(seconds=settings.session_idle_seconds),
        )
        .order_by(col(UserSession.id).desc())
    )
    return list(rows)


async def end_session(
    session: AsyncSession, *, actor: str, user: User, session_id: int
) -> UserSession:
    """End one of a user's sessions (404 for another user's; again: nothing changes)."""
    row = await session.get(UserSession, session_id) if valid_id(session_id) else None
    if row is None or row.user_id != user.id:
        raise NotFound(f"no session {session_id} of yours")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
        await record(
            session,
            actor=actor,
            action="user.signout",
            target_type="user",
            target_id=user.name,
            after={"session": row.id},
        )
    return row
