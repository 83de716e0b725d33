"""Answers the Party already gave (in the workspace, or in its latest report of another cycle),
offered to the questions they could also answer, and the provenance of a value taken from one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlmodel import col

from cmsreporting.auth.principal import Principal
from cmsreporting.core.projection import native_slot
from cmsreporting.core.reuse import ReuseCycle
from cmsreporting.core.reuse import suggestions as reuse_suggestions
from cmsreporting.core.rows import without_row_ids
from cmsreporting.crosswalk import concept_service, link_service
from cmsreporting.db import orm_attr
from cmsreporting.errors import FieldError, InvalidInput
from cmsreporting.reporting import workspace_service
from cmsreporting.reporting.answer_service import answer_values
from cmsreporting.reporting.contexts import contexts
from cmsreporting.reporting.models import Submission, Workspace


async def latest_reports(
    session: AsyncSession, *, party: str, other_than: set[int]
) -> list[Submission]:
    """The Party's latest submitted or accepted report of each cycle not in `other_than`."""
    rows = (
        (
            await session.scalars(
                select(Submission)
                .options(
                    joinedload(orm_attr(Submission.cycle)),
                    joinedload(orm_attr(Submission.template)),
                )
                .where(
                    col(Submission.party_iso3) == party,
                    col(Submission.status).in_(("submitted", "accepted")),
                    col(Submission.cycle_id).not_in(other_than),
                )
                .order_by(col(Submission.cycle_id), col(Submission.version).desc())
            )
        )
        .unique()
        .all()
    )
    latest: dict[int, Submission] = {}
    for submission in rows:
        latest.setdefault(submission.cycle_id, submission)
    return list(latest.values())


async def suggestions(
    session: AsyncSession,
    *,
    workspace: Workspace,
    pending: dict[str, Any] | None = None,
    keep_equal: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """slot -> the answers offered to it, from the workspace's answers (and `pending` values
    about to be written over them); one equal to the slot's answer only with `keep_equal`."""
    cycle_contexts = await contexts(session, workspace=workspace)
    cycles = [
        ReuseCycle(ref=c.cycle.ref, document=c.template.document, bindings=c.bindings)
        for c in cycle_contexts
    ]
    reports = await latest_reports(
        session, party=workspace.party_iso3, other_than={c.cycle.id for c in cycle_contexts}
    )
    answers: dict[str, Any] = {}
    if reports:
        earlier = await link_service.bindings_of(
            session, template_ids=[r.template_id for r in reports]
        )
        for report in reports:
            document = report.template.document
            cycles.append(
                ReuseCycle(report.cycle.ref, document, earlier[report.template_id], report.id)
            )
            answers |= {native_slot(document, qid): v for qid, v in report.values.items()}
    concepts = await concept_service.concepts_by_key(
        session, keys={b.concept for c in cycles for b in c.bindings}
    )
    answers |= await answer_values(session, workspace_id=workspace.id)
    if pending:
        answers |= pending
    return reuse_suggestions(cycles, concepts, answers, keep_equal=keep_equal)


async def resolve_reused(
    session: AsyncSession,
    *,
    workspace_id: int,
    principal: Principal,
    items: Sequence[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """slot -> provenance of each answer of a batch that names `reused_from`: the source must
    be one the workspace offers for that slot (the value may differ: it was edited)."""
    named = [(i, item) for i, item in enumerate(items) if item.get("reused_from") is not None]
    if not named:
        return {}
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    offered = await suggestions(
        session,
        workspace=workspace,
        pending={item["slot"]: without_row_ids(item.get("value")) for item in items},
        keep_equal=True,
    )
    result: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    for i, item in named:
        slot, source = item["slot"], item["reused_from"]
        if item.get("value") is None:
            errors.append(FieldError(f"/answers/{i}/reused_from", "a cleared answer has no source"))
            continue
        found = next((s for s in offered.get(slot, []) if s["source"]["slot"] == source), None)
        if found is None:
            errors.append(
                FieldError(
                    f"/answers/{i}/reused_from",
                    f"{source!r} offers no answer for {slot!r} in this workspace",
                )
            )
            continue
        result[slot] = found["source"] | {
            "value": found["value"],
            "edited": found["value"] != without_row_ids(item["value"]),
        }
    if errors:
        raise InvalidInput("some answers name a source that offers them nothing", errors=errors)
    return result
