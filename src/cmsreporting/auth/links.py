"""Invitations and password resets: single-use links sent by e-mail through the outbox.

An invitation makes the account if the address has none (without a password, so it signs in
with nothing yet), grants the role at once, and mails a link that lets the person choose a
password; a newer invitation of the same person replaces the older link. A reset request gets
the same answer whether or not the address has an account; only an active account gets a link.
Each link's secret is mailed once and stored only as its SHA-256 digest; it works once, until it
expires.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import column, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth import service
from cmsreporting.auth.models import AccountLink, User
from cmsreporting.auth.principal import Principal
from cmsreporting.config import Settings
from cmsreporting.db import utcnow
from cmsreporting.errors import Conflict, FieldError, Forbidden, InvalidInput
from cmsreporting.mail import messages, outbox

RESET_PAUSE = timedelta(minutes=1)
GONE = "this link is unknown, expired or already used; ask for a new one"


def _link(settings: Settings, page: str, secret: str) -> str:
    return f"{settings.public_url.rstrip('/')}/ui/#/{page}/{secret}"


async def _party_name(session: AsyncSession, iso3: str | None) -> str:
    if iso3 is None:
        return ""
    parties = table("parties", column("iso3"), column("name"))
    name = await session.scalar(select(parties.c.name).where(parties.c.iso3 == iso3))
    return str(name or iso3)


async def _free_name(session: AsyncSession, email: str) -> str:
    base = re.sub(r"[^a-z0-9._-]+", "_", email.split("@")[0].lower()).strip("._-")[:80] or "user"
    name, n = base, 1
    while await session.scalar(select(col(User.id)).where(col(User.name) == name)) is not None:
        n += 1
        name = f"{base}{n}"
    return name


async def _new_link(
    session: AsyncSession, *, purpose: str, user: User, actor: str, lasts: timedelta
) -> tuple[AccountLink, str]:
    # an older unused link of the same purpose stops working: only the newest one does
    now = utcnow()
    await session.execute(
        update(AccountLink)
        .where(
            col(AccountLink.user_id) == user.id,
            col(AccountLink.purpose) == purpose,
            col(AccountLink.used_at).is_(None),
        )
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    link = AccountLink(
        purpose=purpose,
        user_id=user.id,
        digest=service.digest_token(secret),
        created_by=actor,
        created_at=now,
        expires_at=now + lasts,
    )
    session.add(link)
    await session.flush()
    return link, secret


def may_invite(
    principal: Principal, *, role: str, convention: str | None, party: str | None = None
) -> bool:
    """Admins invite to any role; a convention's secretariat invites its focal points; a
    Party's focal point invites contributors of that Party."""
    if principal.is_admin:
        return True
    if role == "contributor":
        return party is not None and principal.is_focal_point(party.upper())
    return role == "focal_point" and convention is not None and principal.is_secretariat(convention)


async def invite(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: Settings,
    email: str,
    role: str,
    convention: str | None,
    party: str | None,
    display_name: str | None,
    language: str | None,
) -> tuple[User, AccountLink]:
    """Invite a person by e-mail to a role: their account (made if needed), the role granted,
    and a link to choose a password queued in the outbox."""
    if not may_invite(principal, role=role, convention=convention, party=party):
        raise Forbidden(
            "admins invite to any role; a convention's secretariat invites its focal points; "
            "a Party's focal point invites its contributors"
        )
    address = service.normalize_email(email)
    user = await session.scalar(select(User).where(col(User.email) == address))
    if user is None:
        user = await service.create_user(
            session,
            actor=principal.actor,
            name=await _free_name(session, address),
            email=address,
            display_name=display_name,
            language=language or "en",
        )
    elif not user.active:
        raise Conflict(
            "the account with this address is deactivated; an admin activates it first",
            errors=[FieldError("/email", "deactivated")],
        )
    await service.grant_role(
        session,
        actor=principal.actor,
        user=user,
        role=role,
        convention=convention,
        party=party.upper() if party else None,
    )
    link, secret = await _new_link(
        session,
        purpose="invitation",
        user=user,
        actor=principal.actor,
        lasts=timedelta(days=settings.invitation_days),
    )
    await record(
        session,
        actor=principal.actor,
        action="user.invite",
        target_type="user",
        target_id=user.name,
        after={
            "email": address,
            "role": role,
            "convention": convention,
            "party": party.upper() if party else None,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    await outbox.enqueue(
        session,
        actor=principal.actor,
        key=f"invitation:{link.id}",
        kind="invitation",
        recipient=address,
        language=user.language,
        fields={
            "inviter": principal.name,
            "role": messages.role_phrase(
                user.language,
                role,
                convention=convention,
                party=await _party_name(session, party.upper() if party else None),
            ),
            "expires": link.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "link": _link(settings, "invitation", secret),
        },
    )
    return user, link


async def request_reset(session: AsyncSession, *, settings: Settings, email: str) -> None:
    """Mail a reset link to the active account with this address, if there is one; nothing
    tells the caller whether there is. One link a minute at most per account."""
    address = service.normalize_email(email)
    user = await session.scalar(
        select(User).where(col(User.email) == address, col(User.active).is_(True))
    )
    if user is None:
        return
    recent = await session.scalar(
        select(col(AccountLink.id)).where(
            col(AccountLink.user_id) == user.id,
            col(AccountLink.purpose) == "reset",
            col(AccountLink.created_at) > utcnow() - RESET_PAUSE,
        )
    )
    if recent is not None:
        return
    actor = f"user:{user.name}"
    link, secret = await _new_link(
        session,
        purpose="reset",
        user=user,
        actor=actor,
        lasts=timedelta(minutes=settings.reset_minutes),
    )
    await record(
        session,
        actor=actor,
        action="user.reset_requested",
        target_type="user",
        target_id=user.name,
        after={"expires_at": link.expires_at.isoformat()},
    )
    await outbox.enqueue(
        session,
        actor=actor,
        key=f"password.reset:{link.id}",
        kind="password.reset",
        recipient=address,
        language=user.language,
        fields={
            "name": user.display_name or user.name,
            "expires": link.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "link": _link(settings, "reset", secret),
        },
    )


async def use_link(
    session: AsyncSession,
    *,
    settings: Settings,
    purpose: str,
    secret: str,
    password: str,
    display_name: str | None = None,
) -> User:
    """Set the password through a link, which then stops working (as do the user's web
    sessions); an unknown, expired or used link is refused the same way."""
    link = await session.scalar(
        select(AccountLink)
        .where(
            col(AccountLink.digest) == service.digest_token(secret),
            col(AccountLink.purpose) == purpose,
        )
        .with_for_update()
    )
    now = utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise InvalidInput(GONE, errors=[FieldError("/token", "unknown, expired or used")])
    user = await service.get_user_by_id(session, user_id=link.user_id)
    if not user.active:
        raise InvalidInput(GONE, errors=[FieldError("/token", "unknown, expired or used")])
    actor = f"user:{user.name}"
    await service.set_password(
        session, actor=actor, user=user, password=password, min_length=settings.password_min_length
    )
    if display_name is not None and display_name.strip():
        user.display_name = display_name.strip()[:200]
    link.used_at = now
    await session.flush()
    await record(
        session,
        actor=actor,
        action=f"user.{purpose}_used",
        target_type="user",
        target_id=user.name,
        after={"link": link.id},
    )
    return user
