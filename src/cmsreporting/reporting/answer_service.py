"""Answers: read, and the two write paths of a save (PostgreSQL in one statement, SQLite
in a few), with their revisions and conflicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, column, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import insert_events_sql, record_many
from cmsreporting.auth.principal import Principal
from cmsreporting.core.document import newest
from cmsreporting.core.rows import ROW_ID, row_id_errors, with_row_ids, without_row_ids
from cmsreporting.core.validation import value_issues
from cmsreporting.crosswalk import concept_service
from cmsreporting.db import utcnow, valid_id
from cmsreporting.documents import citations
from cmsreporting.errors import Conflict, FieldError, InvalidInput, NotFound
from cmsreporting.registry.models import Cycle
from cmsreporting.reporting.access import can_use, contributes
from cmsreporting.reporting.models import Answer, Workspace, WorkspaceCycle
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates.models import Template

MAX_BATCH = 500

# --- answers --------------------------------------------------------------------------------


async def list_answers(
    session: AsyncSession, *, workspace: Workspace, since: datetime | None = None
) -> list[Answer]:
    """Every answer of a workspace, by slot; with `since`, only those written at or after it."""
    stmt = select(Answer).where(col(Answer.workspace_id) == workspace.id)
    if since is not None:
        stmt = stmt.where(col(Answer.updated_at) >= since)
    return list((await session.scalars(stmt.order_by(col(Answer.slot)))).all())


async def answer_values(session: AsyncSession, *, workspace_id: int) -> dict[str, Any]:
    """slot -> value of a workspace's answers, as the pure core reads them (tables without
    their row ids: see `core.rows`)."""
    rows = await session.execute(
        select(col(Answer.slot), col(Answer.value)).where(col(Answer.workspace_id) == workspace_id)
    )
    return {slot: without_row_ids(value) for slot, value in rows.all()}


async def answer_citations(session: AsyncSession, *, workspace_id: int) -> dict[str, list[int]]:
    """slot -> the documents its answer cites (answers that cite some)."""
    rows = await session.execute(
        select(col(Answer.slot), col(Answer.documents)).where(
            col(Answer.workspace_id) == workspace_id, col(Answer.documents).is_not(None)
        )
    )
    return {slot: list(documents) for slot, documents in rows.all() if documents}


async def reused_sources(session: AsyncSession, *, workspace_id: int) -> dict[str, dict[str, Any]]:
    """slot -> where its value, taken from a suggestion, came from (answers that have one)."""
    rows = await session.execute(
        select(col(Answer.slot), col(Answer.reused_from)).where(
            col(Answer.workspace_id) == workspace_id, col(Answer.reused_from).is_not(None)
        )
    )
    return {slot: source for slot, source in rows.all() if source is not None}


@dataclass(frozen=True)
class SaveTarget:
    """What saving answers needs of a workspace: its Party and each cycle's current template."""

    workspace_id: int
    party: str
    templates: dict[str, tuple[int, str]]  # cycle ref -> (template id, digest)
    contributor: bool = False  # the caller writes only in the sections assigned to them


@dataclass(frozen=True)
class Written:
    """An answer as a save left it."""

    slot: str
    value: Any
    revision: int
    updated_at: datetime
    updated_by: str
    carried: dict[str, Any] | None = None
    reused_from: dict[str, Any] | None = None
    documents: list[int] | None = None


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
    .outerjoin(WorkspaceCycle, col(WorkspaceCycle.workspace_id) == col(Workspace.id))
    .outerjoin(Cycle, col(Cycle.id) == col(WorkspaceCycle.cycle_id))
    .outerjoin(
        Template, (col(Template.cycle_id) == col(Cycle.id)) & (col(Template.status) == "published")
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
    if not rows:
        raise NotFound(f"no workspace {workspace_id}")
    contributor = contributes(principal, rows[0][0])
    if not (contributor or can_use(principal, rows[0][0])):
        raise NotFound(f"no workspace {workspace_id}")
    published: dict[str, list[tuple[int, str, str]]] = {}
    for _, convention, code, template_id, version, digest in rows:
        if convention is None:
            continue
        versions = published.setdefault(f"{convention}:{code}", [])
        if template_id is not None:
            versions.append((template_id, version, digest))
    templates: dict[str, tuple[int, str]] = {}
    for ref, versions in published.items():
        chosen = newest(versions, version=lambda v: v[1])
        if chosen is None:
            raise NotFound(f"{ref} has no published template")
        templates[ref] = (chosen[0], chosen[2])
    return SaveTarget(
        workspace_id=workspace_id, party=rows[0][0], templates=templates, contributor=contributor
    )


async def _slot_definitions(
    session: AsyncSession, items: Sequence[dict[str, Any]], target: SaveTarget
) -> tuple[dict[str, dict[str, Any]], list[FieldError]]:
    """The definition each written slot's value must fit, or errors naming bad slots."""
    wanted = {i["slot"].removeprefix("concept:") for i in items if i["slot"].startswith("concept:")}
    concepts = await concept_service.linked_concepts(
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
    reused: dict[str, dict[str, Any]] | None = None,
) -> list[Written]:
    """Write a batch of answers, each based on the revision it names: all of them or none.

    A stale base revision anywhere refuses the whole batch with 409, listing each conflicting
    slot with its current value and revision. `reused` gives, by slot, where a value taken
    from a suggestion came from (kept on the answer until a write without it). Each row of a
    table keeps its `@id`, and a row without one gets a new one (`core.rows`); ids that are
    not strings, too long or repeated in one table are refused. Returns the written answers
    by slot, with the values as stored.
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
    stored: dict[str, Any] = {}  # slot -> the value to store: a table's rows with their ids
    for i, item in enumerate(items):
        definition = definitions.get(item["slot"])
        value = item.get("value")
        if definition is None or value is None:
            continue
        if definition["type"] == "table":
            for row, message in row_id_errors(value):
                errors.append(FieldError(f"/answers/{i}/value/{row}/{ROW_ID}", message))
            stored[item["slot"]] = with_row_ids(value)
            value = without_row_ids(value)
        for issue in value_issues(definition, value, item["slot"]):
            where = f"/answers/{i}/value"
            if issue.row is not None:
                where += f"/{issue.row}"
                if issue.column is not None:
                    where += f"/{issue.column}"
            errors.append(FieldError(where, issue.message, code=issue.code))
    errors += await _citation_errors(session, items, definitions, target.party)
    if errors:
        raise InvalidInput("some answers do not fit their questions", errors=errors[:50])
    ordered = sorted(items, key=lambda item: item["slot"])
    batch = [
        (item["slot"], item.get("base_revision") or 0, stored.get(item["slot"], item.get("value")))
        for item in ordered
    ]
    cited = {
        item["slot"]: list(item["documents"])
        for item in ordered
        if item.get("documents") is not None
    }
    sources = reused or {}
    now = utcnow()
    if _dialect(session) == "postgresql":
        revisions = await _write_pg(
            session, target.workspace_id, batch, sources, cited, now, actor, seen
        )
    else:
        revisions = await _write_sqlite(
            session, target.workspace_id, batch, sources, cited, now, actor, seen
        )
    return [
        Written(
            slot=slot,
            value=value,
            revision=revisions[slot][0],
            updated_at=now,
            updated_by=actor,
            reused_from=sources.get(slot),
            documents=revisions[slot][1],
        )
        for slot, _, value in batch
    ]


async def _citation_errors(
    session: AsyncSession,
    items: Sequence[dict[str, Any]],
    definitions: dict[str, dict[str, Any]],
    party: str,
) -> list[FieldError]:
    """Errors of the documents each answer cites, and of the ids a `documents` question's
    value lists: each must be an active document of the workspace's Party."""
    wanted: list[tuple[str, Any]] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        first: dict[Any, int] = {}
        for j, document_id in enumerate(item.get("documents") or []):
            if document_id in first:
                errors.append(
                    FieldError(
                        f"/answers/{i}/documents/{j}",
                        f"cited twice (first at /answers/{i}/documents/{first[document_id]})",
                    )
                )
            first.setdefault(document_id, j)
            wanted.append((f"/answers/{i}/documents/{j}", document_id))
        definition = definitions.get(item["slot"])
        value = item.get("value")
        if definition is not None and definition["type"] == "documents" and isinstance(value, list):
            for j, document_id in enumerate(value):
                wanted.append((f"/answers/{i}/value/{j}", document_id))
    if not wanted:
        return errors
    usable = await citations.citable(session, party=party, ids=[d for _, d in wanted])
    for where, document_id in wanted:
        if not citations.is_document_id(document_id):
            continue  # a value's shape is checked with the value
        if document_id not in usable:
            errors.append(
                FieldError(
                    where,
                    f"no active document {document_id} in {party}'s library",
                    code="document",
                )
            )
    return errors


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


Current = tuple[int, Any, str]  # a stored answer's revision, value and author


# The whole write of a batch in one statement, whatever its size (PostgreSQL and SQLAlchemy
# reuse the prepared and compiled statement; the rows travel as arrays): read the current rows,
# and only if every base revision matches them, update those still at their base revision,
# insert the new slots, and record an audit event per answer written. It returns each slot of
# the batch with the revision written (NULL if not written) and what was current before.
# (S608: the text is constant; every value travels as a bound parameter)
PG_WRITE_ANSWERS = text(
    "WITH i AS ("  # noqa: S608
    " SELECT * FROM unnest(CAST(:slots AS TEXT[]), CAST(:bases AS INTEGER[]),"
    " CAST(:vals AS TEXT[]), CAST(:reused AS TEXT[]), CAST(:docs AS TEXT[]))"
    " AS i(slot, base, value, reused, docs)),"
    " cur AS (SELECT a.id, a.slot, a.revision, a.value, a.updated_by FROM answers AS a"
    " WHERE a.workspace_id = :workspace AND a.slot = ANY(CAST(:slots AS TEXT[]))),"
    " stale AS (SELECT i.slot FROM i LEFT JOIN cur ON cur.slot = i.slot"
    " WHERE COALESCE(cur.revision, 0) <> i.base),"
    " upd AS (UPDATE answers AS a SET value = CAST(i.value AS JSONB), revision = a.revision + 1,"
    " updated_at = :now, updated_by = :actor, carried = NULL,"
    " reused_from = CAST(i.reused AS JSONB),"
    " documents = COALESCE(CAST(i.docs AS JSONB), a.documents)"
    " FROM i JOIN cur ON cur.slot = i.slot"
    " WHERE a.id = cur.id AND a.revision = i.base AND NOT EXISTS (SELECT 1 FROM stale)"
    " RETURNING a.slot, a.revision, a.documents),"
    " ins AS (INSERT INTO answers"
    " (workspace_id, slot, value, revision, updated_at, updated_by, reused_from, documents)"
    " SELECT :workspace, i.slot, CAST(i.value AS JSONB), 1, :now, :actor,"
    " CAST(i.reused AS JSONB), CAST(i.docs AS JSONB) FROM i"
    " WHERE i.base = 0 AND NOT EXISTS (SELECT 1 FROM stale)"
    " AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.slot = i.slot)"
    " ON CONFLICT (workspace_id, slot) DO NOTHING"
    " RETURNING slot, revision, documents),"
    " written AS (SELECT slot, revision, documents FROM upd"
    " UNION ALL SELECT slot, revision, documents FROM ins),"
    " audit AS ("
    + insert_events_sql(
        "SELECT :now, :actor, 'answer.write', 'workspace', :target,"
        " jsonb_build_object('slot', w.slot, 'value', cur.value),"
        " jsonb_build_object('slot', w.slot, 'value', CAST(i.value AS JSONB),"
        " 'revision', w.revision)"
        " || CASE WHEN i.reused IS NULL THEN CAST('{}' AS JSONB)"
        " ELSE jsonb_build_object('reused_from', CAST(i.reused AS JSONB)) END"
        " || CASE WHEN i.docs IS NULL THEN CAST('{}' AS JSONB)"
        " ELSE jsonb_build_object('documents', CAST(i.docs AS JSONB)) END"
        " FROM written AS w JOIN i ON i.slot = w.slot LEFT JOIN cur ON cur.slot = w.slot"
        " ORDER BY w.slot"
    )
    + ")"
    " SELECT i.slot, w.revision, cur.revision, cur.value, cur.updated_by, w.documents"
    " FROM i LEFT JOIN written AS w ON w.slot = i.slot LEFT JOIN cur ON cur.slot = i.slot"
).columns(
    column("slot", String),
    column("written", Integer),
    column("current_revision", Integer),
    column("current_value", JSONB),
    column("current_by", String),
    column("documents", JSONB),
)


async def _write_pg(
    session: AsyncSession,
    workspace_id: int,
    batch: list[tuple[str, int, Any]],
    reused: dict[str, dict[str, Any]],
    cited: dict[str, list[int]],
    now: datetime,
    actor: str,
    positions: dict[str, int],
) -> dict[str, tuple[int, list[int] | None]]:
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
                "reused": [
                    json.dumps(reused[slot]) if slot in reused else None for slot, _, _ in batch
                ],
                "docs": [
                    json.dumps(cited[slot]) if slot in cited else None for slot, _, _ in batch
                ],
                "now": now,
                "actor": actor,
            },
        )
    ).all()
    current: dict[str, Current | None] = {
        slot: (revision, value, by) if revision is not None else None
        for slot, _, revision, value, by, _ in rows
    }
    stale = [
        (positions[slot], slot, current[slot])
        for slot, base, _ in batch
        if (current[slot] or (0, None, None))[0] != base
    ]
    if stale:
        raise _conflict(stale)
    written = {
        slot: (revision, documents)
        for slot, revision, _, _, _, documents in rows
        if revision is not None
    }
    raced = [slot for slot, _, _ in batch if slot not in written]
    if raced:
        raise await _raced(session, workspace_id, raced, positions)
    return written


async def _write_sqlite(
    session: AsyncSession,
    workspace_id: int,
    batch: list[tuple[str, int, Any]],
    reused: dict[str, dict[str, Any]],
    cited: dict[str, list[int]],
    now: datetime,
    actor: str,
    positions: dict[str, int],
) -> dict[str, tuple[int, list[int] | None]]:
    """The same write on SQLite, whose writers are serialized (BEGIN IMMEDIATE): read the
    current rows, then one conditional UPDATE per answer and one INSERT for the new slots."""
    existing = {
        slot: (answer_id, (revision, value, by), documents)
        for answer_id, slot, revision, value, by, documents in (
            await session.execute(
                select(
                    col(Answer.id),
                    col(Answer.slot),
                    col(Answer.revision),
                    col(Answer.value),
                    col(Answer.updated_by),
                    col(Answer.documents),
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
    written: dict[str, tuple[int, list[int] | None]] = {}
    for slot, base, value in batch:
        if slot not in existing:
            continue
        documents = cited[slot] if slot in cited else existing[slot][2]
        result = await session.execute(
            update(Answer)
            .where(col(Answer.id) == existing[slot][0], col(Answer.revision) == base)
            .values(
                value=value,
                revision=col(Answer.revision) + 1,
                updated_at=now,
                updated_by=actor,
                carried=None,
                reused_from=reused.get(slot),
                documents=documents,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            written[slot] = (base + 1, documents)
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
                        "reused_from": reused.get(slot),
                        "documents": cited.get(slot),
                    }
                    for slot, value in new
                ]
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "slot"])
            .returning(col(Answer.slot))
        )
        written.update(
            (slot, (1, cited.get(slot))) for slot in (await session.execute(stmt)).scalars().all()
        )
    raced = [slot for slot, _, _ in batch if slot not in written]
    if raced:
        raise await _raced(session, workspace_id, raced, positions)
    await record_many(
        session,
        [
            _answer_event(
                actor,
                workspace_id,
                slot,
                existing[slot][1][1] if slot in existing else None,
                value,
                written[slot][0],
                reused.get(slot),
                cited.get(slot),
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
    actor: str,
    workspace_id: int,
    slot: str,
    before: Any,
    after: Any,
    revision: int,
    reused_from: dict[str, Any] | None = None,
    documents: list[int] | None = None,
) -> dict[str, Any]:
    written: dict[str, Any] = {"slot": slot, "value": after, "revision": revision}
    if reused_from is not None:
        written["reused_from"] = reused_from
    if documents is not None:
        written["documents"] = documents
    return {
        "actor": actor,
        "action": "answer.write",
        "target_type": "workspace",
        "target_id": str(workspace_id),
        "before": {"slot": slot, "value": before},
        "after": written,
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
