"""Workspaces, answers, the merged form, previews and carry-forward."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy import Integer, String, bindparam, column, select, text, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import col

from cmsreporting.audit.models import AuditEvent
from cmsreporting.auth.principal import Principal
from cmsreporting.crosswalk import service as crosswalk
from cmsreporting.crosswalk.transforms import NO_IMAGE, apply_inverse, is_invertible
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound
from cmsreporting.i18n import choose_language
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Cycle, Membership, Party
from cmsreporting.registry.service import get_cycle, parse_cycle_ref
from cmsreporting.reporting.form import FormCycle, build_form
from cmsreporting.reporting.models import Answer, Submission, Workspace, WorkspaceCycle
from cmsreporting.reporting.projection import Binding, Plan, Report, concept_slot, native_slot
from cmsreporting.reporting.validation import value_issues
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates.checks import iter_questions, question_shape, version_key
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


# --- compiled projections ------------------------------------------------------------------

MAX_PLANS = 64
_plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()
_plans_lock = Lock()


def plan_for(
    template: Template, bindings: Sequence[Binding], concepts: dict[str, dict[str, Any]]
) -> Plan:
    """The compiled projection of a template with its bindings and their concepts, kept per
    process: keyed by the template's content (id, digest), each mapping's id and last change,
    and each concept's last change, so a changed mapping or concept compiles a new plan."""
    stamps = getattr(concepts, "stamps", None)
    if stamps is None or any(b.mapping_id is None or b.updated_at is None for b in bindings):
        return Plan(template.document, bindings, concepts)
    used = sorted({b.concept for b in bindings})
    key = (
        template.id,
        template.digest,
        tuple((b.mapping_id, b.updated_at) for b in bindings),
        tuple((k, stamps.get(k)) for k in used),
    )
    with _plans_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    plan = Plan(template.document, bindings, concepts)
    with _plans_lock:
        _plans[key] = plan
        while len(_plans) > MAX_PLANS:
            _plans.popitem(last=False)
    return plan


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
                .options(
                    joinedload(orm_attr(Workspace.cycles)).joinedload(
                        orm_attr(WorkspaceCycle.cycle)
                    )
                )
                .where(col(Workspace.id) == workspace_id)
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
        selectinload(orm_attr(Workspace.cycles)).joinedload(orm_attr(WorkspaceCycle.cycle))
    )
    if not principal.is_admin:
        parties = sorted({g.party for g in principal.grants if g.role == "focal_point" and g.party})
        stmt = stmt.where(col(Workspace.party_iso3).in_(parties))
    if party:
        stmt = stmt.where(col(Workspace.party_iso3) == party.upper())
    return await paginate(session, stmt, orm_attr(Workspace.id), limit=limit, cursor=cursor)


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
            select(col(Membership.id)).where(
                col(Membership.party_iso3) == party_row.iso3,
                col(Membership.convention_code) == cycle.convention_code,
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
            select(col(WorkspaceCycle.workspace_id), col(WorkspaceCycle.cycle_id)).where(
                col(WorkspaceCycle.party_iso3) == party_row.iso3,
                col(WorkspaceCycle.cycle_id).in_([c.id for c in cycles]),
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
                select(Answer)
                .where(col(Answer.workspace_id) == workspace.id)
                .order_by(col(Answer.slot))
            )
        ).all()
    )


async def answer_values(session: AsyncSession, *, workspace_id: int) -> dict[str, Any]:
    """slot -> value of a workspace's answers."""
    rows = await session.execute(
        select(col(Answer.slot), col(Answer.value)).where(col(Answer.workspace_id) == workspace_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class SaveTarget:
    """What saving answers needs of a workspace: its Party and each cycle's current template."""

    workspace_id: int
    party: str
    templates: dict[str, tuple[int, str]]  # cycle ref -> (template id, digest)


@dataclass(frozen=True)
class Written:
    """An answer as a save left it."""

    slot: str
    value: Any
    revision: int
    updated_at: datetime
    updated_by: str
    carried: dict[str, Any] | None = None


# Built once: the statement of every save (Core, no ORM loading).
_SAVE_TARGET = (
    select(
        col(Workspace.party_iso3),
        col(Cycle.convention_code),
        col(Cycle.code),
        col(Template.id),
        col(Template.version),
        col(Template.digest),
    )
    .select_from(Workspace)
    .outerjoin(WorkspaceCycle, col(WorkspaceCycle.workspace_id) == Workspace.id)
    .outerjoin(Cycle, col(Cycle.id) == WorkspaceCycle.cycle_id)
    .outerjoin(
        Template, (col(Template.cycle_id) == Cycle.id) & (col(Template.status) == "published")
    )
    .where(col(Workspace.id) == bindparam("workspace_id"))
)


async def save_target(
    session: AsyncSession, *, workspace_id: int, principal: Principal
) -> SaveTarget:
    """A workspace the caller may use, with its cycles' current templates, in one query (the
    path of every autosave: no ORM objects, template documents from the per-process cache)."""
    if not valid_id(workspace_id):
        raise NotFound(f"no workspace {workspace_id}")
    connection = await session.connection()
    rows = (await connection.execute(_SAVE_TARGET, {"workspace_id": workspace_id})).all()
    if not rows or not can_use(principal, rows[0][0]):
        raise NotFound(f"no workspace {workspace_id}")
    newest: dict[str, tuple[str, int, str] | None] = {}
    for _, convention, code, template_id, version, digest in rows:
        if convention is None:
            continue
        ref = f"{convention}:{code}"
        best = newest.get(ref)
        if template_id is None:
            newest.setdefault(ref, None)
        elif best is None or version_key(version) > version_key(best[0]):
            newest[ref] = (version, template_id, digest)
    templates: dict[str, tuple[int, str]] = {}
    for ref, chosen in newest.items():
        if chosen is None:
            raise NotFound(f"{ref} has no published template")
        templates[ref] = (chosen[1], chosen[2])
    return SaveTarget(workspace_id=workspace_id, party=rows[0][0], templates=templates)


async def _slot_definitions(
    session: AsyncSession, items: Sequence[dict[str, Any]], target: SaveTarget
) -> tuple[dict[str, dict[str, Any]], list[FieldError]]:
    """The definition each written slot's value must fit, or errors naming bad slots."""
    wanted = {i["slot"].removeprefix("concept:") for i in items if i["slot"].startswith("concept:")}
    concepts = await crosswalk.linked_concepts(
        session, keys=wanted, template_ids=[tid for tid, _ in target.templates.values()]
    )
    definitions: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    question_cache: dict[str, dict[str, dict[str, Any]]] = {}
    for i, item in enumerate(items):
        slot = item["slot"]
        ptr = f"/answers/{i}/slot"
        if slot.startswith("concept:"):
            key = slot.removeprefix("concept:")
            if key not in concepts:
                errors.append(FieldError(ptr, f"no concept {key!r} feeds this workspace's reports"))
                continue
            definitions[slot] = concepts[key]
            continue
        convention, sep, rest = slot.partition(":")
        code, sep2, qid = rest.partition(":")
        ref = f"{convention}:{code}"
        if not (sep and sep2) or ref not in target.templates:
            errors.append(
                FieldError(
                    ptr, "expected concept:KEY or CONVENTION:CYCLE:QUESTION of this workspace"
                )
            )
            continue
        if ref not in question_cache:
            template_id, digest = target.templates[ref]
            question_cache[ref] = await template_cache.questions_of(
                session, template_id=template_id, digest=digest
            )
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
    target: SaveTarget,
    items: Sequence[dict[str, Any]],
) -> list[Written]:
    """Write a batch of answers, each based on the revision it names: all of them or none.

    A stale base revision anywhere refuses the whole batch with 409, listing each conflicting
    slot with its current value and revision. Returns the written answers by slot.
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
    definitions, errors = await _slot_definitions(session, items, target)
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
    ordered = sorted(items, key=lambda item: item["slot"])
    batch = [(item["slot"], item.get("base_revision") or 0, item.get("value")) for item in ordered]
    now = utcnow()
    if _dialect(session) == "postgresql":
        revisions = await _write_pg(session, target.workspace_id, batch, now, actor, seen)
    else:
        revisions = await _write_sqlite(session, target.workspace_id, batch, now, actor, seen)
    return [
        Written(slot=slot, value=value, revision=revisions[slot], updated_at=now, updated_by=actor)
        for slot, _, value in batch
    ]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


Current = tuple[int, Any, str]  # a stored answer's revision, value and author


# The whole write of a batch in one statement, whatever its size (PostgreSQL and SQLAlchemy
# reuse the prepared and compiled statement; the rows travel as arrays): read the current rows,
# and only if every base revision matches them, update those still at their base revision,
# insert the new slots, and record an audit event per answer written. It returns each slot of
# the batch with the revision written (NULL if not written) and what was current before.
PG_WRITE_ANSWERS = text(
    "WITH i AS ("
    " SELECT * FROM unnest(CAST(:slots AS TEXT[]), CAST(:bases AS INTEGER[]),"
    " CAST(:vals AS TEXT[])) AS i(slot, base, value)),"
    " cur AS (SELECT a.id, a.slot, a.revision, a.value, a.updated_by FROM answers AS a"
    " WHERE a.workspace_id = :workspace AND a.slot = ANY(CAST(:slots AS TEXT[]))),"
    " stale AS (SELECT i.slot FROM i LEFT JOIN cur ON cur.slot = i.slot"
    " WHERE COALESCE(cur.revision, 0) <> i.base),"
    " upd AS (UPDATE answers AS a SET value = CAST(i.value AS JSONB), revision = a.revision + 1,"
    " updated_at = :now, updated_by = :actor, carried = NULL"
    " FROM i JOIN cur ON cur.slot = i.slot"
    " WHERE a.id = cur.id AND a.revision = i.base AND NOT EXISTS (SELECT 1 FROM stale)"
    " RETURNING a.slot, a.revision),"
    " ins AS (INSERT INTO answers (workspace_id, slot, value, revision, updated_at, updated_by)"
    " SELECT :workspace, i.slot, CAST(i.value AS JSONB), 1, :now, :actor FROM i"
    " WHERE i.base = 0 AND NOT EXISTS (SELECT 1 FROM stale)"
    " AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.slot = i.slot)"
    " ON CONFLICT (workspace_id, slot) DO NOTHING"
    " RETURNING slot, revision),"
    " written AS (SELECT slot, revision FROM upd UNION ALL SELECT slot, revision FROM ins),"
    " audit AS (INSERT INTO audit_events (at, actor, action, target_type, target_id, before, after)"
    " SELECT :now, :actor, 'answer.write', 'workspace', :target,"
    " jsonb_build_object('slot', w.slot, 'value', cur.value),"
    " jsonb_build_object('slot', w.slot, 'value', CAST(i.value AS JSONB), 'revision', w.revision)"
    " FROM written AS w JOIN i ON i.slot = w.slot LEFT JOIN cur ON cur.slot = w.slot"
    " ORDER BY w.slot)"
    " SELECT i.slot, w.revision, cur.revision, cur.value, cur.updated_by"
    " FROM i LEFT JOIN written AS w ON w.slot = i.slot LEFT JOIN cur ON cur.slot = i.slot"
).columns(
    column("slot", String),
    column("written", Integer),
    column("current_revision", Integer),
    column("current_value", JSONB),
    column("current_by", String),
)


async def _write_pg(
    session: AsyncSession,
    workspace_id: int,
    batch: list[tuple[str, int, Any]],
    now: datetime,
    actor: str,
    positions: dict[str, int],
) -> dict[str, int]:
    connection = await session.connection()
    rows = (
        await connection.execute(
            PG_WRITE_ANSWERS,
            {
                "workspace": workspace_id,
                "target": str(workspace_id),
                "slots": [slot for slot, _, _ in batch],
                "bases": [base for _, base, _ in batch],
                "vals": [json.dumps(value) for _, _, value in batch],
                "now": now,
                "actor": actor,
            },
        )
    ).all()
    current: dict[str, Current | None] = {
        slot: (revision, value, by) if revision is not None else None
        for slot, _, revision, value, by in rows
    }
    stale = [
        (positions[slot], slot, current[slot])
        for slot, base, _ in batch
        if (current[slot] or (0, None, None))[0] != base
    ]
    if stale:
        raise _conflict(stale)
    written = {slot: revision for slot, revision, *_ in rows if revision is not None}
    raced = [slot for slot, _, _ in batch if slot not in written]
    if raced:
        raise await _raced(session, workspace_id, raced, positions)
    return written


async def _write_sqlite(
    session: AsyncSession,
    workspace_id: int,
    batch: list[tuple[str, int, Any]],
    now: datetime,
    actor: str,
    positions: dict[str, int],
) -> dict[str, int]:
    """The same write on SQLite, whose writers are serialized (BEGIN IMMEDIATE): read the
    current rows, then one conditional UPDATE per answer and one INSERT for the new slots."""
    existing = {
        slot: (answer_id, (revision, value, by))
        for answer_id, slot, revision, value, by in (
            await session.execute(
                select(
                    col(Answer.id),
                    col(Answer.slot),
                    col(Answer.revision),
                    col(Answer.value),
                    col(Answer.updated_by),
                )
                .where(col(Answer.workspace_id) == workspace_id)
                .where(col(Answer.slot).in_([slot for slot, _, _ in batch]))
            )
        ).all()
    }
    stale = [
        (positions[slot], slot, existing[slot][1] if slot in existing else None)
        for slot, base, _ in batch
        if (existing[slot][1][0] if slot in existing else 0) != base
    ]
    if stale:
        raise _conflict(stale)
    written: dict[str, int] = {}
    for slot, base, value in batch:
        if slot not in existing:
            continue
        result = await session.execute(
            update(Answer)
            .where(Answer.id == existing[slot][0], col(Answer.revision) == base)
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
            written[slot] = base + 1
    new = [(slot, value) for slot, _, value in batch if slot not in existing]
    if new:
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
                    for slot, value in new
                ]
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "slot"])
            .returning(col(Answer.slot))
        )
        written.update((slot, 1) for slot in (await session.execute(stmt)).scalars().all())
    raced = [slot for slot, _, _ in batch if slot not in written]
    if raced:
        raise await _raced(session, workspace_id, raced, positions)
    await session.execute(
        sa_insert(AuditEvent),
        [
            _answer_event(
                actor,
                workspace_id,
                slot,
                existing[slot][1][1] if slot in existing else None,
                value,
                written[slot],
            )
            | {"at": now}
            for slot, _, value in batch
        ],
    )
    return written


async def _raced(
    session: AsyncSession, workspace_id: int, slots: list[str], positions: dict[str, int]
) -> Conflict:
    """The conflict of slots another writer changed between the read and the write."""
    fresh: dict[str, Current] = {
        slot: (revision, value, by)
        for slot, revision, value, by in (
            await session.execute(
                select(
                    col(Answer.slot),
                    col(Answer.revision),
                    col(Answer.value),
                    col(Answer.updated_by),
                ).where(col(Answer.workspace_id) == workspace_id, col(Answer.slot).in_(slots))
            )
        ).all()
    }
    return _conflict([(positions[slot], slot, fresh.get(slot)) for slot in slots])


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


def _conflict(conflicts: list[tuple[int, str, Current | None]]) -> Conflict:
    return Conflict(
        f"{len(conflicts)} answer(s) changed since they were read; nothing was saved",
        errors=[
            FieldError(
                f"/answers/{i}/base_revision",
                "stale revision",
                slot=slot,
                current_revision=current[0] if current else 0,
                current_value=current[1] if current else None,
                updated_by=current[2] if current else None,
            )
            for i, slot, current in sorted(conflicts)
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
    return context, plan_for(context.template, context.bindings, concepts).project(answers)


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
