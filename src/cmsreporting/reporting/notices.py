"""E-mail about a submission to its Party's focal points for its convention, queued in the
transaction of the decision (cmsreporting.mail.outbox)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import User
from cmsreporting.config import get_settings
from cmsreporting.mail import messages, outbox
from cmsreporting.registry.models import Party
from cmsreporting.reporting.models import Comment, Submission


async def focal_points(session: AsyncSession, *, party: str, convention: str) -> list[User]:
    """The active focal points of a Party for a convention who have an e-mail address."""
    found = await auth_service.role_holders(
        session, role="focal_point", convention=convention, parties=[party], mailable=True
    )
    return [user for user, _ in found]


async def secretariat(session: AsyncSession, *, convention: str) -> list[User]:
    """The active members of a convention's secretariat who have an e-mail address."""
    found = await auth_service.role_holders(
        session, role="secretariat", convention=convention, mailable=True
    )
    return list({user.id: user for user, _ in found}.values())


async def comment_posted(
    session: AsyncSession,
    *,
    author: str,
    author_id: int,
    from_party: bool,
    submission: Submission,
    comment: Comment,
) -> int:
    """Queue "new comment" to the other side of the thread: the convention's secretariat for
    a comment by the Party's focal point, the Party's focal points for the convention for one
    by the secretariat (or an admin); how many."""
    convention = submission.cycle.convention_code
    party = await session.get(Party, submission.party_iso3)
    if from_party:
        recipients = await secretariat(session, convention=convention)
        link = f"{get_settings().public_url.rstrip('/')}/ui/#/s/{submission.id}"
    else:
        recipients = await focal_points(session, party=submission.party_iso3, convention=convention)
        link = f"{get_settings().public_url.rstrip('/')}/ui/#/w/{submission.workspace_id}"
    queued = 0
    for user in recipients:
        if user.id == author_id:
            continue
        queued += await outbox.enqueue(
            session,
            actor=author,
            key=f"comment:{comment.id}:user:{user.id}",
            kind="comment",
            recipient=user.email or "",
            language=user.language,
            fields={
                "name": user.display_name or user.name,
                "author": author.removeprefix("user:"),
                "convention": convention,
                "party": party.name if party else submission.party_iso3,
                "cycle": submission.cycle.code,
                "version": submission.version,
                "about": messages.about(user.language, comment.question_id),
                "body": comment.body,
                "link": link,
            },
        )
    return queued


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
