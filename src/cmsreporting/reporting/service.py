"""Workspaces, answers, the merged form, previews and carry-forward."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, column, select, text, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from cmsreporting.audit.models import AuditEvent
from cmsreporting.auth.principal import Principal
from cmsreporting.crosswalk import service as crosswalk
from cmsreporting.crosswalk.transforms import NO_IMAGE, apply_inverse, is_invertible
from cmsreporting.db import utcnow, valid_id
from cmsreporting.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound
from cmsreporting.i18n import choose_language
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Cycle, Membership, Party
from cmsreporting.registry.service import get_cycle, parse_cycle_ref
from cmsreporting.reporting.form import FormCycle, build_form
from cmsreporting.reporting.models import Answer, Submission, Workspace, WorkspaceCycle
from cmsreporting.reporting.projection import Binding, Report, concept_slot, native_slot, project
from cmsreporting.reporting.validation import value_issues
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates.checks import iter_questions, question_shape
from cmsreporting.templates.models import Template

MAX_BATCH = 500


@dataclass
class CycleContext:
    """A cycle of a workspace with its current template and that template's mappings."""

    cycle: Cycle
    template: Template
    bindings: list[Binding]

    @property
    def questions(self) -> dict[str, dict[str, Any]]:
        """The template's questions by id."""
        return template_cache.questions(self.template)


def can_use(principal: Principal, party: str) -> bool:
    """Admins and the Party's focal points (for any convention) use its workspaces."""
    return principal.is_admin or principal.is_focal_point(party)


# --- workspaces ---------------------------------------------------------------------------


async def get_workspace(
    session: AsyncSession, *, workspace_id: int, principal: Principal
) -> Workspace:
    """A workspace the caller may use; others are reported as missing."""
    if not valid_id(workspace_id):
        raise NotFound(f"no workspace {workspace_id}")
    workspace = (
        (
            await session.execute(
                select(Workspace)
                .options(joinedload(Workspace.cycles).joinedload(WorkspaceCycle.cycle))
                .where(Workspace.id == workspace_id)
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if workspace is None or not can_use(principal, workspace.party_iso3):
        raise NotFound(f"no workspace {workspace_id}")
    return workspace


async def list_workspaces(
    session: AsyncSession,
    *,
    principal: Principal,
    party: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Workspace]:
    """Workspaces the caller may use."""
    stmt = select(Workspace).options(
        selectinload(Workspace.cycles).joinedload(WorkspaceCycle.cycle)
    )
    if not principal.is_admin:
        parties = sorted({g.party for g in principal.grants if g.role == "focal_point" and g.party})
        stmt = stmt.where(Workspace.party_iso3.in_(parties))
    if party:
        stmt = stmt.where(Workspace.party_iso3 == party.upper())
    return await paginate(session, stmt, Workspace.id, limit=limit, cursor=cursor)


async def contexts(session: AsyncSession, *, workspace: Workspace) -> list[CycleContext]:
    """Each cycle of the workspace with its newest published template and its mappings."""
    newest = await crosswalk.current_templates(
        session, cycles=[link.cycle for link in workspace.cycles]
    )
    result = [
        CycleContext(cycle=link.cycle, template=newest[link.cycle_id], bindings=[])
        for link in workspace.cycles
    ]
    bindings = await crosswalk.bindings_of(session, template_ids=[c.template.id for c in result])
    for context in result:
        context.bindings = bindings[context.template.id]
    return result


async def create_workspace(
    session: AsyncSession,
    *,
    actor: str,
    party: str,
    cycle_refs: Sequence[str],
    title: str | None,
    carry_forward: bool,
) -> tuple[Workspace, int]:
    """A workspace for a Party's cycles (conventions it is a member of); returns it and the
    number of answers carried forward."""
    party_row = await session.get(Party, party.upper())
    if party_row is None:
        raise InvalidInput(
            f"unknown Party {party!r}", errors=[FieldError("/party", "unknown Party")]
        )
    errors: list[FieldError] = []
    cycles: list[Cycle] = []
    for i, ref in enumerate(cycle_refs):
        try:
            cycle = await get_cycle(session, ref=ref)
        except DomainError as exc:
            errors.append(FieldError(f"/cycles/{i}", exc.detail))
            continue
        member = await session.scalar(
            select(Membership.id).where(
                Membership.party_iso3 == party_row.iso3,
                Membership.convention_code == cycle.convention_code,
            )
        )
        if member is None:
            errors.append(
                FieldError(
                    f"/cycles/{i}", f"{party_row.iso3} is not a member of {cycle.convention_code}"
                )
            )
            continue
        if any(c.id == cycle.id for c in cycles):
            errors.append(FieldError(f"/cycles/{i}", f"{ref} is listed twice"))
            continue
        cycles.append(cycle)
    if errors:
        raise InvalidInput("the workspace cannot cover these cycles", errors=errors)
    taken = (
        await session.execute(
            select(WorkspaceCycle.workspace_id, WorkspaceCycle.cycle_id).where(
                WorkspaceCycle.party_iso3 == party_row.iso3,
                WorkspaceCycle.cycle_id.in_([c.id for c in cycles]),
            )
        )
    ).all()
    if taken:
        by_cycle = {cid: wid for wid, cid in taken}
        raise Conflict(
            f"{party_row.iso3} already reports on these cycles in another workspace",
            errors=[
                FieldError(
                    f"/cycles/{i}", f"in workspace {by_cycle[c.id]}", workspace=by_cycle[c.id]
                )
                for i, c in enumerate(cycles)
                if c.id in by_cycle
            ],
        )
    workspace = Workspace(
        party_iso3=party_row.iso3,
        title=title,
        created_by=actor,
        cycles=[
            WorkspaceCycle(party_iso3=party_row.iso3, cycle_id=c.id, position=i)
            for i, c in enumerate(cycles)
        ],
    )
    session.add(workspace)
    await session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action="workspace.create",
            target_type="workspace",
            target_id=str(workspace.id),
            after={"party": party_row.iso3, "cycles": [c.ref for c in cycles]},
        )
    )
    carried = 0
    if carry_forward:
        for link, cycle in zip(workspace.cycles, cycles, strict=True):
            link.cycle = cycle
        carried = await carry_forward_answers(session, actor=actor, workspace=workspace)
    return workspace, carried


# --- answers --------------------------------------------------------------------------------


async def list_answers(session: AsyncSession, *, workspace: Workspace) -> list[Answer]:
    """Every answer of a workspace, by slot."""
    return list(
        (
            await session.scalars(
                select(Answer).where(Answer.workspace_id == workspace.id).order_by(Answer.slot)
            )
        ).all()
    )


async def answer_values(session: AsyncSession, *, workspace_id: int) -> dict[str, Any]:
    """slot -> value of a workspace's answers."""
    rows = await session.execute(
        select(Answer.slot, Answer.value).where(Answer.workspace_id == workspace_id)
    )
    return dict(rows.all())


def _slot_definitions(
    items: Sequence[dict[str, Any]],
    contexts: list[CycleContext],
    concepts: dict[str, dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], list[FieldError]]:
    """The definition each written slot's value must fit, or errors naming bad slots."""
    by_cycle = {c.cycle.ref: c for c in contexts}
    linked_concepts = {b.concept for c in contexts for b in c.bindings}
    definitions: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    question_cache: dict[str, dict[str, dict[str, Any]]] = {}
    for i, item in enumerate(items):
        slot = item["slot"]
        ptr = f"/answers/{i}/slot"
        if slot.startswith("concept:"):
            key = slot.removeprefix("concept:")
            if key not in concepts or key not in linked_concepts:
                errors.append(FieldError(ptr, f"no concept {key!r} feeds this workspace's reports"))
                continue
            definitions[slot] = concepts[key]
            continue
        convention, sep, rest = slot.partition(":")
        code, sep2, qid = rest.partition(":")
        ref = f"{convention}:{code}"
        if not (sep and sep2) or ref not in by_cycle:
            errors.append(
                FieldError(
                    ptr, "expected concept:KEY or CONVENTION:CYCLE:QUESTION of this workspace"
                )
            )
            continue
        if ref not in question_cache:
            question_cache[ref] = by_cycle[ref].questions
        question = question_cache[ref].get(qid)
        if question is None:
            errors.append(FieldError(ptr, f"{ref} has no question {qid!r}"))
            continue
        definitions[slot] = question
    return definitions, errors


async def write_answers(
    session: AsyncSession,
    *,
    actor: str,
    workspace: Workspace,
    items: Sequence[dict[str, Any]],
) -> list[Answer]:
    """Write a batch of answers, each based on the revision it names: all of them or none.

    A stale base revision anywhere refuses the whole batch with 409, listing each conflicting
    slot with its current value and revision.
    """
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            f"at most {MAX_BATCH} answers per batch", errors=[FieldError("/answers", "too many")]
        )
    seen: dict[str, int] = {}
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        if item["slot"] in seen:
            errors.append(
                FieldError(
                    f"/answers/{i}/slot", f"slot repeated (first at /answers/{seen[item['slot']]})"
                )
            )
        seen.setdefault(item["slot"], i)
    if errors:
        raise InvalidInput("a batch names each slot once", errors=errors)
    cycle_contexts = await contexts(session, workspace=workspace)
    needed = {i["slot"].removeprefix("concept:") for i in items if i["slot"].startswith("concept:")}
    concepts = await crosswalk.concepts_by_key(session, keys=needed)
    definitions, errors = _slot_definitions(items, cycle_contexts, concepts)
    for i, item in enumerate(items):
        definition = definitions.get(item["slot"])
        value = item.get("value")
        if definition is None or value is None:
            continue
        for issue in value_issues(definition, value, item["slot"]):
            where = f"/answers/{i}/value"
            if issue.row is not None:
                where += f"/{issue.row}"
                if issue.column is not None:
                    where += f"/{issue.column}"
            errors.append(FieldError(where, issue.message, code=issue.code))
    if errors:
        raise InvalidInput("some answers do not fit their questions", errors=errors[:50])
    existing = {
        a.slot: a
        for a in (
            await session.scalars(
                select(Answer).where(
                    Answer.workspace_id == workspace.id, Answer.slot.in_(list(seen))
                )
            )
        ).all()
    }
    conflicts = []
    for i, item in enumerate(items):
        current = existing.get(item["slot"])
        current_revision = current.revision if current else 0
        if (item.get("base_revision") or 0) != current_revision:
            conflicts.append((i, item["slot"], current))
    if conflicts:
        raise _conflict(conflicts)
    now = utcnow()
    order = sorted(range(len(items)), key=lambda i: items[i]["slot"])
    raced: list[tuple[int, str]] = []
    updates = [(i, existing[items[i]["slot"]]) for i in order if items[i]["slot"] in existing]
    inserts = [i for i in order if items[i]["slot"] not in existing]
    if updates:
        done = await _update_answers(
            session, [(answer, items[i].get("value")) for i, answer in updates], now, actor
        )
        raced += [(i, answer.slot) for i, answer in updates if answer.id not in done]
    if inserts:
        created = await _insert_answers(
            session,
            workspace.id,
            [(items[i]["slot"], items[i].get("value")) for i in inserts],
            now,
            actor,
        )
        raced += [(i, items[i]["slot"]) for i in inserts if items[i]["slot"] not in created]
    if raced:
        fresh = {
            a.slot: a
            for a in (
                await session.scalars(
                    select(Answer)
                    .where(
                        Answer.workspace_id == workspace.id, Answer.slot.in_([s for _, s in raced])
                    )
                    .execution_options(populate_existing=True)
                )
            ).all()
        }
        raise _conflict([(i, slot, fresh.get(slot)) for i, slot in raced])
    stored = []
    events = []
    for i in order:
        slot, value = items[i]["slot"], items[i].get("value")
        previous = existing.get(slot)
        revision = previous.revision + 1 if previous else 1
        events.append(
            _answer_event(
                actor, workspace.id, slot, previous.value if previous else None, value, revision
            )
        )
        stored.append(
            Answer(slot=slot, value=value, revision=revision, updated_at=now, updated_by=actor)
        )
    await session.execute(sa_insert(AuditEvent), events)
    return stored


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# One statement for a whole batch, whatever its size, so PostgreSQL and SQLAlchemy reuse the
# prepared and compiled statement: the rows travel as arrays.
PG_UPDATE_ANSWERS = text(
    "UPDATE answers AS a SET value = CAST(i.value AS JSONB), revision = a.revision + 1,"
    " updated_at = :now, updated_by = :actor, carried = NULL"
    " FROM unnest(CAST(:ids AS INTEGER[]), CAST(:bases AS INTEGER[]), CAST(:vals AS TEXT[]))"
    " AS i(id, base, value)"
    " WHERE a.id = i.id AND a.revision = i.base"
    " RETURNING a.id"
).columns(column("id", Integer))
PG_INSERT_ANSWERS = text(
    "INSERT INTO answers (workspace_id, slot, value, revision, updated_at, updated_by)"
    " SELECT :workspace, i.slot, CAST(i.value AS JSONB), 1, :now, :actor"
    " FROM unnest(CAST(:slots AS TEXT[]), CAST(:vals AS TEXT[])) AS i(slot, value)"
    " ON CONFLICT (workspace_id, slot) DO NOTHING"
    " RETURNING slot"
).columns(column("slot", String))


async def _insert_answers(
    session: AsyncSession,
    workspace_id: int,
    rows: list[tuple[str, Any]],
    now: datetime,
    actor: str,
) -> set[str]:
    """Insert first answers of slots; the slots actually inserted (a concurrent writer may
    have inserted one first)."""
    if _dialect(session) == "postgresql":
        result = await session.execute(
            PG_INSERT_ANSWERS,
            {
                "workspace": workspace_id,
                "slots": [slot for slot, _ in rows],
                "vals": [json.dumps(value) for _, value in rows],
                "now": now,
                "actor": actor,
            },
        )
        return set(result.scalars().all())
    stmt = (
        sqlite_insert(Answer)
        .values(
            [
                {
                    "workspace_id": workspace_id,
                    "slot": slot,
                    "value": value,
                    "revision": 1,
                    "updated_at": now,
                    "updated_by": actor,
                }
                for slot, value in rows
            ]
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "slot"])
        .returning(Answer.slot)
    )
    return set((await session.execute(stmt)).scalars().all())


async def _update_answers(
    session: AsyncSession, changes: list[tuple[Answer, Any]], now: datetime, actor: str
) -> set[int]:
    """Write new values over answers still at the revision read; the ids actually written.

    PostgreSQL gets one UPDATE … FROM (VALUES …) for the whole batch; SQLite, whose writers
    are serialized anyway, one conditional UPDATE per answer.
    """
    if _dialect(session) == "postgresql":
        result = await session.execute(
            PG_UPDATE_ANSWERS,
            {
                "ids": [answer.id for answer, _ in changes],
                "bases": [answer.revision for answer, _ in changes],
                "vals": [json.dumps(value) for _, value in changes],
                "now": now,
                "actor": actor,
            },
        )
        return set(result.scalars().all())
    written = set()
    for answer, value in changes:
        result = await session.execute(
            update(Answer)
            .where(Answer.id == answer.id, Answer.revision == answer.revision)
            .values(
                value=value,
                revision=Answer.revision + 1,
                updated_at=now,
                updated_by=actor,
                carried=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            written.add(answer.id)
    return written


def _answer_event(
    actor: str, workspace_id: int, slot: str, before: Any, after: Any, revision: int
) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": "answer.write",
        "target_type": "workspace",
        "target_id": str(workspace_id),
        "before": {"slot": slot, "value": before},
        "after": {"slot": slot, "value": after, "revision": revision},
    }


def _conflict(conflicts: list[tuple[int, str, Answer | None]]) -> Conflict:
    return Conflict(
        f"{len(conflicts)} answer(s) changed since they were read; nothing was saved",
        errors=[
            FieldError(
                f"/answers/{i}/base_revision",
                "stale revision",
                slot=slot,
                current_revision=current.revision if current else 0,
                current_value=current.value if current else None,
                updated_by=current.updated_by if current else None,
            )
            for i, slot, current in conflicts
        ],
    )


# --- previews and the form --------------------------------------------------------------------


def context_for(cycle_contexts: list[CycleContext], ref: str) -> CycleContext:
    """The context of one cycle of the workspace."""
    parse_cycle_ref(ref)
    for context in cycle_contexts:
        if context.cycle.ref == ref:
            return context
    raise NotFound(f"this workspace does not report on {ref}")


async def preview(
    session: AsyncSession, *, workspace: Workspace, cycle_ref: str
) -> tuple[CycleContext, Report]:
    """Exactly what would be submitted for one cycle: values, provenance and issues."""
    cycle_contexts = await contexts(session, workspace=workspace)
    context = context_for(cycle_contexts, cycle_ref)
    answers = await answer_values(session, workspace_id=workspace.id)
    concepts = await crosswalk.concepts_by_key(session, keys={b.concept for b in context.bindings})
    return context, project(context.template.document, context.bindings, concepts, answers)


async def form(
    session: AsyncSession, *, workspace: Workspace, lang: str | None, accept: str | None
) -> dict[str, Any]:
    """The merged form of a workspace in one language: ?lang=, else Accept-Language, among
    the languages of its templates (the first template's first language by default)."""
    cycle_contexts = await contexts(session, workspace=workspace)
    languages: list[str] = []
    for context in cycle_contexts:
        languages += [x for x in context.template.languages if x not in languages]
    chosen = choose_language(languages or ["en"], lang, accept)
    keys = {b.concept for c in cycle_contexts for b in c.bindings}
    concepts = await crosswalk.concepts_by_key(session, keys=keys)
    return build_form(
        [
            FormCycle(
                ref=c.cycle.ref,
                template_id=c.template.id,
                version=c.template.version,
                document=c.template.document,
                bindings=c.bindings,
                due_on=c.cycle.due_on.isoformat(),
            )
            for c in cycle_contexts
        ],
        concepts,
        chosen,
    )


# --- carry forward ----------------------------------------------------------------------------


async def carry_forward_answers(session: AsyncSession, *, actor: str, workspace: Workspace) -> int:
    """Start a new workspace from the Party's latest accepted submissions of other cycles.

    Values travel through concepts (approved exact/close mappings with invertible transforms)
    and through unchanged question ids of the same convention. Carried answers are marked as
    such until a focal point confirms or edits them.
    """
    cycle_contexts = await contexts(session, workspace=workspace)
    own_cycles = {c.cycle.id for c in cycle_contexts}
    accepted = (
        (
            await session.scalars(
                select(Submission)
                .options(joinedload(Submission.cycle), joinedload(Submission.template))
                .where(
                    Submission.party_iso3 == workspace.party_iso3,
                    Submission.status == "accepted",
                    Submission.cycle_id.not_in(own_cycles),
                )
                .order_by(Submission.submitted_at.desc(), Submission.id.desc())
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
    old_bindings = await crosswalk.bindings_of(
        session, template_ids=[s.template_id for s in latest.values()]
    )
    concepts = await crosswalk.concepts_by_key(session)
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
                value=value,
                revision=1,
                updated_at=now,
                updated_by=actor,
                carried=source,
            )
        )
    if carried:
        session.add(
            AuditEvent(
                actor=actor,
                action="answer.carry_forward",
                target_type="workspace",
                target_id=str(workspace.id),
                after={
                    "answers": len(carried),
                    "from_submissions": sorted(s.id for s in latest.values()),
                },
            )
        )
    await session.flush()
    return len(carried)
