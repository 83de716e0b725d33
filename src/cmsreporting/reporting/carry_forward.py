"""Carry-forward: a new workspace starts from the Party's latest submitted answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.core.document import iter_questions, question_shape
from cmsreporting.core.projection import concept_slot, native_slot
from cmsreporting.core.rows import with_row_ids
from cmsreporting.core.transforms import NO_IMAGE, apply_inverse, is_invertible
from cmsreporting.crosswalk import concept_service, link_service
from cmsreporting.db import orm_attr, utcnow
from cmsreporting.reporting.contexts import contexts
from cmsreporting.reporting.models import Answer, Submission, Workspace

# --- carry forward ----------------------------------------------------------------------------


async def carry_forward_answers(session: AsyncSession, *, actor: str, workspace: Workspace) -> int:
    """Start a new workspace from the Party's latest accepted submissions of other cycles.

    Values travel through concepts (approved exact/close mappings with invertible transforms)
    and through unchanged question ids of the same convention. Carried answers are marked as
    such until a focal point confirms or edits them. Submitted values carry no row ids: each
    carried table row gets a new one.
    """
    cycle_contexts = await contexts(session, workspace=workspace)
    own_cycles = {c.cycle.id for c in cycle_contexts}
    accepted = (
        (
            await session.scalars(
                select(Submission)
                .options(
                    joinedload(orm_attr(Submission.cycle)),
                    joinedload(orm_attr(Submission.template)),
                )
                .where(
                    col(Submission.party_iso3) == workspace.party_iso3,
                    col(Submission.status) == "accepted",
                    col(Submission.cycle_id).not_in(own_cycles),
                )
                .order_by(col(Submission.submitted_at).desc(), col(Submission.id).desc())
            )
        )
        .unique()
        .all()
    )
    if not accepted:
        return 0
    latest: dict[int, Submission] = {}
    for submission in accepted:
        latest.setdefault(submission.cycle_id, submission)
    wanted_concepts = {b.concept for c in cycle_contexts for b in c.bindings}
    old_bindings = await link_service.bindings_of(
        session, template_ids=[s.template_id for s in latest.values()]
    )
    concepts = await concept_service.concepts_by_key(session)
    carried: dict[str, tuple[Any, dict[str, Any]]] = {}
    for submission in sorted(latest.values(), key=lambda s: s.submitted_at, reverse=True):
        old_questions = {q["id"]: q for _, q in iter_questions(submission.template.document)}
        source = {"submission": submission.id, "cycle": submission.cycle.ref}
        propagated = set()
        for binding in old_bindings[submission.template_id]:
            if not binding.propagates or binding.concept not in wanted_concepts:
                continue
            propagated.add(binding.question)
            value = submission.values.get(binding.question)
            question = old_questions.get(binding.question)
            if value is None or question is None or not is_invertible(binding.transform):
                continue
            concept_value = apply_inverse(
                binding.transform, value, concepts[binding.concept], question
            )
            slot = concept_slot(binding.concept)
            if concept_value is not NO_IMAGE and slot not in carried:
                carried[slot] = (concept_value, source | {"question": binding.question})
        for context in cycle_contexts:
            if context.cycle.convention_code != submission.cycle.convention_code:
                continue
            fed = {b.question for b in context.bindings if b.propagates}
            for qid, question in context.questions.items():
                old = old_questions.get(qid)
                value = submission.values.get(qid)
                if (
                    old is None
                    or value is None
                    or qid in fed
                    or question_shape(old) != question_shape(question)
                ):
                    continue
                slot = native_slot(context.template.document, qid)
                if slot not in carried:
                    carried[slot] = (value, source | {"question": qid})
    now = utcnow()
    for slot, (value, source) in carried.items():
        session.add(
            Answer(
                workspace_id=workspace.id,
                slot=slot,
                value=with_row_ids(value),
                revision=1,
                updated_at=now,
                updated_by=actor,
                carried=source,
            )
        )
    if carried:
        await record(
            session,
            actor=actor,
            action="answer.carry_forward",
            target_type="workspace",
            target_id=str(workspace.id),
            after={
                "answers": len(carried),
                "from_submissions": sorted(s.id for s in latest.values()),
            },
        )
    await session.flush()
    return len(carried)
