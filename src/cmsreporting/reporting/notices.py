"""E-mail about a submission to its Party's focal points for its convention, queued in the
transaction of the decision (cmsreporting.mail.outbox)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.auth.models import RoleGrant, User
from cmsreporting.config import get_settings
from cmsreporting.mail import messages, outbox
from cmsreporting.registry.models import Party
from cmsreporting.reporting.models import Submission


async def focal_points(session: AsyncSession, *, party: str, convention: str) -> list[User]:
    """The active focal points of a Party for a convention who have an e-mail address."""
    rows = await session.execute(
        select(User)
        .join(RoleGrant, col(RoleGrant.user_id) == col(User.id))
        .where(
            col(RoleGrant.role) == "focal_point",
            col(RoleGrant.party_iso3) == party,
            col(RoleGrant.convention_code) == convention,
            col(User.active).is_(True),
            col(User.email).is_not(None),
        )
        .order_by(col(User.id))
    )
    return list(rows.scalars().unique().all())


async def decision(
    session: AsyncSession,
    *,
    actor: str,
    submission: Submission,
    decided: str,
    comment: str | None,
) -> int:
    """Queue "returned" (with the reason) or "accepted" to each focal point; how many."""
    convention = submission.cycle.convention_code
    party = await session.get(Party, submission.party_iso3)
    link = f"{get_settings().public_url.rstrip('/')}/ui/#/w/{submission.workspace_id}"
    kind = "submission.returned" if decided == "return" else "submission.accepted"
    queued = 0
    for user in await focal_points(session, party=submission.party_iso3, convention=convention):
        fields = {
            "name": user.display_name or user.name,
            "convention": convention,
            "party": party.name if party else submission.party_iso3,
            "cycle": submission.cycle.code,
            "version": submission.version,
            "reason": (comment or "").strip(),
            "note": messages.note(user.language, (comment or "").strip() or None),
            "link": link,
        }
        queued += await outbox.enqueue(
            session,
            actor=actor,
            key=f"{kind}:{submission.id}:user:{user.id}",
            kind=kind,
            recipient=user.email or "",
            language=user.language,
            fields=fields,
        )
    return queued
