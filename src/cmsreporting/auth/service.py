"""Users, role grants and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, column, literal, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth import passwords
from cmsreporting.auth.models import ROLES, ApiToken, RoleGrant, User, UserSession
from cmsreporting.auth.principal import Grant, Principal
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import Conflict, FieldError, InvalidInput, NotFound
from cmsreporting.pagination import Page, paginate


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


async def role_holders(
    session: AsyncSession,
    *,
    role: str,
    convention: str | None = None,
    parties: list[str] | None = None,
    mailable: bool = False,
) -> list[tuple[User, str | None]]:
    """The active users holding `role`, each with the Party of the grant, ordered by Party then
    user: for one convention and/or some Parties when given, and only those with an e-mail
    address when `mailable`. The one query behind every "who holds this role here" question
    (notices, reminders, contributors)."""
    query = (
        select(User, col(RoleGrant.party_iso3))
        .join(RoleGrant, col(RoleGrant.user_id) == col(User.id))
        .where(col(RoleGrant.role) == role, col(User.active).is_(True))
    )
    if convention is not None:
        query = query.where(col(RoleGrant.convention_code) == convention)
    if parties is not None:
        query = query.where(col(RoleGrant.party_iso3).in_(parties))
    if mailable:
        query = query.where(col(User.email).is_not(None))
    rows = await session.execute(query.order_by(col(RoleGrant.party_iso3), col(User.id)))
    seen: set[tuple[int, str | None]] = set()
    found: list[tuple[User, str | None]] = []
    for user, party in rows.all():
        if (user.id, party) not in seen:
            seen.add((user.id, party))
            found.append((user, party))
    return found


async def get_user(session: AsyncSession, *, name: str) -> User:
    """A user by name."""
    user = await session.scalar(select(User).where(col(User.name) == name))
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


LANGUAGES = ("en", "fr", "es")


def normalize_email(value: str, pointer: str = "/email") -> str:
    """An e-mail address checked for its syntax (not its deliverability), in lower case."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(
            f"{value!r} is not an e-mail address: {exc}", errors=[FieldError(pointer, str(exc))]
        ) from None
    return checked.normalized.lower()


def check_language(language: str, pointer: str = "/language") -> str:
    """One of the interface languages."""
    if language not in LANGUAGES:
        raise InvalidInput(
            f"unknown language {language!r}; one of {', '.join(LANGUAGES)}",
            errors=[FieldError(pointer, "unknown language")],
        )
    return language


async def _email_free(session: AsyncSession, email: str, user_id: int | None = None) -> None:
    other = await session.scalar(select(col(User.id)).where(col(User.email) == email))
    if other is not None and other != user_id:
        raise Conflict(
            "another user has this e-mail address", errors=[FieldError("/email", "taken")]
        )


async def create_user(
    session: AsyncSession,
    *,
    actor: str,
    name: str,
    demo: bool = False,
    email: str | None = None,
    display_name: str | None = None,
    language: str = "en",
) -> User:
    """A new user without roles (and without a password until one is set)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "a user name has 1 to 100 characters", errors=[FieldError("/name", "bad length")]
        )
    if "@" in name:
        raise InvalidInput(
            "a user name has no @ (that signs in with an e-mail address)",
            errors=[FieldError("/name", "no @ allowed")],
        )
    if await session.scalar(select(col(User.id)).where(col(User.name) == name)) is not None:
        raise Conflict(f"a user named {name!r} exists", errors=[FieldError("/name", "taken")])
    if email is not None:
        email = normalize_email(email)
        await _email_free(session, email)
    user = User(
        name=name,
        demo=demo,
        email=email,
        display_name=display_name,
        language=check_language(language),
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=name,
        after={"name": name, "demo": demo, "email": email},
    )
    return user


def _user_state(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "language": user.language,
        "active": user.active,
    }


async def update_user(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    email: str | None = None,
    display_name: str | None = None,
    language: str | None = None,
    active: bool | None = None,
) -> bool:
    """Change a user's profile or activity (None leaves a field as it is); whether anything
    changed. Deactivating ends the user's web sessions; their tokens stop working while the
    user is inactive."""
    before = _user_state(user)
    if email is not None:
        email = normalize_email(email)
        await _email_free(session, email, user.id)
        user.email = email
    if display_name is not None:
        user.display_name = display_name.strip() or None
    if language is not None:
        user.language = check_language(language)
    if active is not None:
        user.active = active
    after = _user_state(user)
    if after == before:
        return False
    if active is False and before["active"]:
        await revoke_sessions(session, actor=actor, user=user, audit=False)
    await session.flush()
    changed = [key for key in after if after[key] != before[key]]
    action = "user.update"
    if changed == ["active"]:
        action = "user.activate" if user.active else "user.deactivate"
    await record(
        session,
        actor=actor,
        action=action,
        target_type="user",
        target_id=user.name,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return True


async def set_password(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    password: str,
    min_length: int,
    keep_session: int | None = None,
) -> None:
    """Give a user a new password (checked against the rules) and end their other web
    sessions (all but `keep_session`)."""
    why = passwords.weakness(
        password, min_length=min_length, avoid=(user.name, (user.email or "").split("@")[0])
    )
    if why is not None:
        raise InvalidInput(why, errors=[FieldError("/new_password", why)])
    user.password_hash = await passwords.hash_password(password)
    user.password_changed_at = utcnow()
    await revoke_sessions(session, actor=actor, user=user, keep=keep_session, audit=False)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="user.password",
        target_type="user",
        target_id=user.name,
        after={"password_changed_at": user.password_changed_at.isoformat()},
    )


async def list_users(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[User]:
    """Users by id."""
    return await paginate(session, select(User), orm_attr(User.id), limit=limit, cursor=cursor)


async def grants_of(session: AsyncSession, *, user_ids: list[int]) -> dict[int, list[RoleGrant]]:
    """The role grants of some users, by user id."""
    found: dict[int, list[RoleGrant]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = await session.scalars(
            select(RoleGrant)
            .where(col(RoleGrant.user_id).in_(user_ids))
            .order_by(col(RoleGrant.id))
        )
        for grant in rows:
            found[grant.user_id].append(grant)
    return found


async def get_user_by_id(session: AsyncSession, *, user_id: int) -> User:
    """A user by id."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
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
    needs_party = role in ("focal_point", "contributor")
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
    return await _grant(
        session, actor=actor, user=user, role=role, convention=convention, party=party
    )


async def _grant(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    role: str,
    convention: str | None,
    party: str | None,
) -> RoleGrant:
    existing = await session.scalar(_grant_of(user, role, convention, party))
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


def _grant_of(
    user: User, role: str, convention: str | None, party: str | None
) -> Select[RoleGrant]:
    """The query of a user's grant of a role in one scope (no convention or Party: none)."""
    return select(RoleGrant).where(
        col(RoleGrant.user_id) == user.id,
        col(RoleGrant.role) == role,
        col(RoleGrant.convention_code).is_(None)
        if convention is None
        else col(RoleGrant.convention_code) == convention,
        col(RoleGrant.party_iso3).is_(None)
        if party is None
        else col(RoleGrant.party_iso3) == party,
    )


async def revoke_role(session: AsyncSession, *, actor: str, user: User, grant_id: int) -> None:
    """Take one role grant from a user."""
    grant = await session.get(RoleGrant, grant_id) if valid_id(grant_id) else None
    if grant is None or grant.user_id != user.id:
        raise NotFound(f"user {user.name!r} has no role grant {grant_id}")
    before = {"role": grant.role, "convention": grant.convention_code, "party": grant.party_iso3}
    await session.delete(grant)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="user.revoke",
        target_type="user",
        target_id=user.name,
        before=before,
    )


async def find_grant(
    session: AsyncSession, *, user: User, role: str, convention: str | None, party: str | None
) -> RoleGrant:
    """A user's grant of this role and scope."""
    grant = await session.scalar(
        _grant_of(user, role, convention, party.upper() if party else party)
    )
    if grant is None:
        scope = " ".join(x for x in (convention, party) if x)
        raise NotFound(f"user {user.name!r} has no {role} role {scope}".strip())
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
    token, _ = await issue_token(
        session, actor=actor, user=user, label=label, expires_at=expires_at
    )
    return token


async def issue_token(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    label: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new bearer token and its stored row; the clear text is never stored."""
    if label is not None and len(label) > 100:
        raise InvalidInput(
            "a token label has at most 100 characters", errors=[FieldError("/label", "too long")]
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        digest=digest_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        label=label,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="token.create",
        target_type="user",
        target_id=user.name,
        after={
            "id": row.id,
            "prefix": row.prefix,
            "label": label,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, row


async def list_tokens(session: AsyncSession, *, user: User) -> list[ApiToken]:
    """A user's tokens, newest first (revoked and expired ones too)."""
    rows = await session.scalars(
        select(ApiToken).where(col(ApiToken.user_id) == user.id).order_by(col(ApiToken.id).desc())
    )
    return list(rows)


async def get_token(session: AsyncSession, *, user: User, token_id: int) -> ApiToken:
    """One of a user's tokens (404 for another user's)."""
    row = await session.get(ApiToken, token_id) if valid_id(token_id) else None
    if row is None or row.user_id != user.id:
        raise NotFound(f"user {user.name!r} has no token {token_id}")
    return row


async def revoke_token(session: AsyncSession, *, actor: str, user: User, token: ApiToken) -> bool:
    """Revoke a token (again: nothing changes); whether it was active until now."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    await session.flush()
    await record(
        session,
        actor=actor,
        action="token.revoke",
        target_type="user",
        target_id=user.name,
        after={"id": token.id, "prefix": token.prefix},
    )
    return True


async def revoke_sessions(
    session: AsyncSession,
    *,
    actor: str,
    user: User,
    keep: int | None = None,
    audit: bool = True,
) -> list[str]:
    """End every web session of a user (but `keep`); the digests of those ended."""
    stmt = select(UserSession).where(
        col(UserSession.user_id) == user.id, col(UserSession.revoked_at).is_(None)
    )
    if keep is not None:
        stmt = stmt.where(col(UserSession.id) != keep)
    rows = list(await session.scalars(stmt))
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    await session.flush()
    if audit and rows:
        await record(
            session,
            actor=actor,
            action="user.signout_all",
            target_type="user",
            target_id=user.name,
            after={"sessions": len(rows)},
        )
    return [row.digest for row in rows]
