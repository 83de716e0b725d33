"""Users, role grants and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import column, literal, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.models import ROLES, ApiToken, RoleGrant, User
from cmsreporting.auth.principal import Grant, Principal
from cmsreporting.db import utcnow
from cmsreporting.errors import Conflict, FieldError, InvalidInput, NotFound


async def _exists(session: AsyncSession, table_name: str, key: str, value: str) -> bool:
    """Whether the row a role grant's foreign key names exists. Grants refer to conventions and
    Parties by the tables' names, as their foreign keys do: auth sits below the registry."""
    target = table(table_name, column(key))
    found = await session.scalar(select(literal(1)).where(target.c[key] == value).limit(1))
    return found is not None


TOKEN_PREFIX = "cmsr_"  # noqa: S105 - a public prefix, not a secret


def digest_token(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest."""
    return hashlib.sha256(token.encode()).hexdigest()


async def authenticate(session: AsyncSession, *, token: str) -> Principal | None:
    """The principal a bearer token stands for, or None if it is unknown, revoked or expired."""
    return await authenticate_digest(session, digest=digest_token(token))


async def authenticate_digest(session: AsyncSession, *, digest: str) -> Principal | None:
    """The principal of the token with this digest, or None if unknown, revoked or expired."""
    rows = (
        await session.execute(
            select(
                col(User.id),
                col(User.name),
                col(User.active),
                col(ApiToken.revoked_at),
                col(ApiToken.expires_at),
                col(RoleGrant.role),
                col(RoleGrant.convention_code),
                col(RoleGrant.party_iso3),
            )
            .join(User, col(User.id) == ApiToken.user_id)
            .outerjoin(RoleGrant, col(RoleGrant.user_id) == User.id)
            .where(col(ApiToken.digest) == digest)
        )
    ).all()
    if not rows:
        return None
    user_id, name, active, revoked_at, expires_at = rows[0][:5]
    if not active or revoked_at is not None or (expires_at is not None and expires_at <= utcnow()):
        return None
    return Principal(
        user_id=user_id,
        name=name,
        grants=tuple(Grant(role, c, p) for *_, role, c, p in rows if role is not None),
        expires_at=expires_at,
    )


async def get_user(session: AsyncSession, *, name: str) -> User:
    """A user by name."""
    user = await session.scalar(select(User).where(col(User.name) == name))
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


async def create_user(session: AsyncSession, *, actor: str, name: str, demo: bool = False) -> User:
    """A new user without roles."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "a user name has 1 to 100 characters", errors=[FieldError("/name", "bad length")]
        )
    if await session.scalar(select(col(User.id)).where(col(User.name) == name)) is not None:
        raise Conflict(f"a user named {name!r} exists", errors=[FieldError("/name", "taken")])
    user = User(name=name, demo=demo)
    session.add(user)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=name,
        after={"name": name, "demo": demo},
    )
    return user


async def grant_role(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    role: str,
    convention: str | None = None,
    party: str | None = None,
) -> RoleGrant:
    """Give a user a role, checking that its scope fits the role and exists."""
    if role not in ROLES:
        raise InvalidInput(
            f"unknown role {role!r}; one of {', '.join(ROLES)}",
            errors=[FieldError("/role", "unknown role")],
        )
    needs_convention = role in ("secretariat", "focal_point")
    needs_party = role == "focal_point"
    if needs_convention != (convention is not None):
        raise InvalidInput(
            f"role {role} {'needs' if needs_convention else 'takes no'} convention",
            errors=[FieldError("/convention", "required" if needs_convention else "not allowed")],
        )
    if needs_party != (party is not None):
        raise InvalidInput(
            f"role {role} {'needs' if needs_party else 'takes no'} party",
            errors=[FieldError("/party", "required" if needs_party else "not allowed")],
        )
    if convention is not None and not await _exists(session, "conventions", "code", convention):
        raise InvalidInput(
            f"unknown convention {convention!r}", errors=[FieldError("/convention", "unknown")]
        )
    if party is not None:
        party = party.upper()
        if not await _exists(session, "parties", "iso3", party):
            raise InvalidInput(f"unknown Party {party!r}", errors=[FieldError("/party", "unknown")])
    existing = await session.scalar(
        select(RoleGrant).where(
            col(RoleGrant.user_id) == user.id,
            col(RoleGrant.role) == role,
            col(RoleGrant.convention_code).is_(None)
            if convention is None
            else col(RoleGrant.convention_code) == convention,
            col(RoleGrant.party_iso3).is_(None)
            if party is None
            else col(RoleGrant.party_iso3) == party,
        )
    )
    if existing is not None:
        return existing
    grant = RoleGrant(user_id=user.id, role=role, convention_code=convention, party_iso3=party)
    session.add(grant)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="user.grant",
        target_type="user",
        target_id=user.name,
        after={"role": role, "convention": convention, "party": party},
    )
    return grant


async def create_token(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    label: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new bearer token for the user; the clear text is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            digest=digest_token(token),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            label=label,
            expires_at=expires_at,
        )
    )
    await session.flush()
    await record(
        session,
        actor=actor,
        action="token.create",
        target_type="user",
        target_id=user.name,
        after={"prefix": token[: len(TOKEN_PREFIX) + 6], "label": label},
    )
    return token
