"""Mappings between concepts and template questions: rules, writes, reads, and their
carry-over to a new template version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.core import transforms
from cmsreporting.core.crosswalk_document import schema_errors
from cmsreporting.core.document import iter_questions, question_shape
from cmsreporting.core.projection import PROPAGATING
from cmsreporting.core.template_diff import diff_templates
from cmsreporting.crosswalk.exchange import mapping_document, question_ref
from cmsreporting.crosswalk.models import Concept, Mapping
from cmsreporting.crosswalk.questions import (
    MAX_BATCH_ERRORS,
    invalid_batch,
    parse_question_ref,
    question_index,
)
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
)
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Cycle
from cmsreporting.registry.service import parse_cycle_ref
from cmsreporting.templates import service as templates_service
from cmsreporting.templates.models import Template
from cmsreporting.templates.service import CarryOver

# --- mappings ---------------------------------------------------------------------------


def can_write_mapping(principal: Principal, convention: str, status: str) -> bool:
    """Admins and the convention's secretariat propose and approve; reviewers propose."""
    if principal.is_admin or principal.is_secretariat(convention):
        return True
    return principal.is_reviewer and status == "proposed"


def authorize_mappings(principal: Principal, documents: Sequence[Any]) -> None:
    """Refuse a batch that holds a mapping the caller may not write."""
    denied = []
    for i, document in enumerate(documents):
        if not isinstance(document, dict) or not isinstance(document.get("question"), str):
            continue
        convention = document["question"].split(":")[0]
        status = document.get("status", "proposed")
        if not can_write_mapping(principal, convention, str(status)):
            denied.append(
                FieldError(f"/{i}", f"you may not write {status} mappings for {convention}")
            )
    if denied:
        raise Forbidden("the batch holds mappings you may not write", errors=denied)


@dataclass
class _Resolved:
    document: dict[str, Any]
    concept: Concept
    template: Template
    question: dict[str, Any]


async def _templates_for(
    session: AsyncSession, refs: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Template]:
    if not refs:
        return {}
    conditions = [
        and_(col(Cycle.convention_code) == c, col(Cycle.code) == y, col(Template.version) == v)
        for c, y, v in refs
    ]
    rows = await session.scalars(
        select(Template)
        .options(joinedload(orm_attr(Template.cycle)))
        .join(Cycle, col(Cycle.id) == col(Template.cycle_id))
        .where(or_(*conditions))
    )
    return {(t.convention_code, t.cycle.code, t.version): t for t in rows}


async def _propagating_elsewhere(
    session: AsyncSession, *, template_id: int, question_id: str, except_id: int | None
) -> Mapping | None:
    stmt = select(Mapping).where(
        col(Mapping.template_id) == template_id,
        col(Mapping.question_id) == question_id,
        col(Mapping.status) == "approved",
        col(Mapping.relation).in_(PROPAGATING),
    )
    if except_id is not None:
        stmt = stmt.where(col(Mapping.id) != except_id)
    return await session.scalar(stmt)


async def create_mappings(
    session: AsyncSession,
    *,
    actor: str,
    documents: Sequence[Any],
    skip_existing: bool = False,
    principal: Principal | None = None,
) -> list[Mapping]:
    """Add mappings, each checked against its concept and question: all of them or none."""
    valid = _schema_valid(documents)
    resolved = await _resolve(session, valid, principal=principal)
    keep = await _without_conflicts(session, resolved, skip_existing=skip_existing)
    now = utcnow()
    created = [_new_mapping(r, actor=actor, now=now) for _, r in keep]
    session.add_all(created)
    await session.flush()
    for mapping in created:
        await record(
            session,
            actor=actor,
            action="mapping.create",
            target_type="mapping",
            target_id=str(mapping.id),
            after=mapping_document(mapping),
        )
    return created


def _schema_valid(documents: Sequence[Any]) -> list[tuple[int, dict[str, Any]]]:
    """The documents with their positions, if every one fits the mapping schema."""
    errors: list[FieldError] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for i, document in enumerate(documents):
        found = schema_errors("mapping", document, f"/{i}")
        errors += found
        if not found:
            valid.append((i, document))
    if errors:
        raise invalid_batch(errors[:MAX_BATCH_ERRORS], "mappings")
    return valid


async def _resolve(
    session: AsyncSession,
    valid: list[tuple[int, dict[str, Any]]],
    *,
    principal: Principal | None,
) -> list[tuple[int, _Resolved]]:
    """Each document with its concept, template and question, its transform checked against
    both (InvalidInput naming every document that names something unknown or unfit)."""
    errors: list[FieldError] = []
    concept_keys = {d["concept"] for _, d in valid}
    concepts = {
        c.key: c
        for c in (
            await session.scalars(select(Concept).where(col(Concept.key).in_(concept_keys)))
        ).all()
    }
    refs = {(*d["question"].split(":")[:2], d["template_version"]) for _, d in valid}
    templates = await _templates_for(session, {(a, b, c) for a, b, c in refs})
    resolved: list[tuple[int, _Resolved]] = []
    for i, document in valid:
        convention, cycle, qid = document["question"].split(":")
        concept = concepts.get(document["concept"])
        template = templates.get((convention, cycle, document["template_version"]))
        if (
            template is not None
            and principal is not None
            and not templates_service.can_see(principal, template)
        ):
            template = None
        if concept is None:
            errors.append(FieldError(f"/{i}/concept", f"no concept {document['concept']!r}"))
            continue
        if template is None:
            errors.append(
                FieldError(
                    f"/{i}/template_version",
                    f"no template {convention}:{cycle} version {document['template_version']}",
                )
            )
            continue
        question = question_index(template).get(qid)
        if question is None:
            errors.append(
                FieldError(f"/{i}/question", f"{convention}:{cycle} has no question {qid!r}")
            )
            continue
        errors += transforms.check(
            document.get("transform", {}), concept.document, question, f"/{i}/transform"
        )
        if "approved_at" in document and _parse_time(document["approved_at"]) is None:
            errors.append(FieldError(f"/{i}/approved_at", "not an ISO 8601 date and time"))
        resolved.append((i, _Resolved(document, concept, template, question)))
    if errors:
        raise invalid_batch(errors[:MAX_BATCH_ERRORS], "mappings")
    return resolved


async def _without_conflicts(
    session: AsyncSession, resolved: list[tuple[int, _Resolved]], *, skip_existing: bool
) -> list[tuple[int, _Resolved]]:
    """The mappings to create: none twice, none already stored (skipped if asked), and at most
    one propagating mapping per question (Conflict naming every clash)."""
    errors: list[FieldError] = []
    seen: dict[tuple[int, int, str], int] = {}
    propagating: dict[tuple[int, str], int] = {}
    keep: list[tuple[int, _Resolved]] = []
    for i, r in resolved:
        identity = (r.concept.id, r.template.id, r.question["id"])
        if identity in seen:
            errors.append(FieldError(f"/{i}", f"same concept and question as /{seen[identity]}"))
            continue
        seen[identity] = i
        exists = await session.scalar(
            select(col(Mapping.id)).where(
                col(Mapping.concept_id) == r.concept.id,
                col(Mapping.template_id) == r.template.id,
                col(Mapping.question_id) == r.question["id"],
            )
        )
        if exists is not None:
            if skip_existing:
                continue
            errors.append(
                FieldError(f"/{i}", f"mapping {exists} already links this concept and question")
            )
            continue
        if r.document.get("status") == "approved" and r.document["relation"] in PROPAGATING:
            slot = (r.template.id, r.question["id"])
            other = await _propagating_elsewhere(
                session, template_id=slot[0], question_id=slot[1], except_id=None
            )
            if other is not None or slot in propagating:
                where = f"mapping {other.id}" if other is not None else f"/{propagating[slot]}"
                errors.append(
                    FieldError(
                        f"/{i}/status",
                        f"{r.document['question']} already has a propagating mapping ({where}); "
                        "a question takes values from one concept only",
                    )
                )
                continue
            propagating[slot] = i
        keep.append((i, r))
    if errors:
        raise Conflict(
            "the batch conflicts with existing mappings", errors=errors[:MAX_BATCH_ERRORS]
        )
    return keep


def _new_mapping(r: _Resolved, *, actor: str, now: datetime) -> Mapping:
    """The row of one checked mapping document (approved ones stamped by whom and when)."""
    d = r.document
    approved = d.get("status") == "approved"
    return Mapping(
        concept=r.concept,
        template=r.template,
        question_id=r.question["id"],
        relation=d["relation"],
        transform=d.get("transform", {}),
        justification=d.get("justification"),
        mapping_justification=d.get("mapping_justification", "semapv:ManualMappingCuration"),
        confidence=d.get("confidence"),
        author=d.get("author", actor),
        status="approved" if approved else "proposed",
        approved_by=(d.get("approved_by") or actor) if approved else None,
        approved_at=_parse_time(d.get("approved_at")) or now if approved else None,
        created_by=actor,
    )


def _parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (UTC when no offset is given)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def mapping_query() -> Select[Mapping]:
    return select(Mapping).options(
        joinedload(orm_attr(Mapping.concept)),
        joinedload(orm_attr(Mapping.template)).joinedload(orm_attr(Template.cycle)),
    )


async def get_mapping(
    session: AsyncSession, *, mapping_id: int, principal: Principal | None = None
) -> Mapping:
    """A mapping with its concept and template, if the caller may see its template."""
    if not valid_id(mapping_id):
        raise NotFound(f"no mapping {mapping_id}")
    mapping = await session.scalar(mapping_query().where(col(Mapping.id) == mapping_id))
    if mapping is None or not templates_service.can_see(principal, mapping.template):
        raise NotFound(f"no mapping {mapping_id}")
    return mapping


UPDATABLE = (
    "relation",
    "transform",
    "justification",
    "mapping_justification",
    "confidence",
    "status",
)


async def update_mapping(
    session: AsyncSession, *, actor: str, mapping: Mapping, changes: dict[str, Any]
) -> Mapping:
    """Change a mapping's relation, transform, notes or status, checked like a new one."""
    before = mapping_document(mapping)
    merged = before | changes
    merged.pop("approved_by", None)
    merged.pop("approved_at", None)
    for optional in ("justification", "confidence"):
        if merged.get(optional) is None:
            merged.pop(optional, None)
    errors = schema_errors("mapping", merged)
    if errors:
        raise invalid_batch(errors, "mapping")
    question = question_index(mapping.template).get(mapping.question_id)
    if question is None:  # pragma: no cover - templates are immutable once mapped
        raise NotFound(f"{question_ref(mapping)} no longer exists")
    errors = transforms.check(merged.get("transform", {}), mapping.concept.document, question)
    if errors:
        raise invalid_batch(errors, "mapping")
    if merged["status"] == "approved" and merged["relation"] in PROPAGATING:
        other = await _propagating_elsewhere(
            session,
            template_id=mapping.template_id,
            question_id=mapping.question_id,
            except_id=mapping.id,
        )
        if other is not None:
            raise Conflict(
                f"{question_ref(mapping)} already takes its value from mapping {other.id}",
                errors=[FieldError("/status", "a question takes values from one concept only")],
            )
    if merged["status"] == "approved" and mapping.status != "approved":
        mapping.approved_by, mapping.approved_at = actor, utcnow()
    if merged["status"] == "proposed":
        mapping.approved_by, mapping.approved_at = None, None
    mapping.relation = merged["relation"]
    mapping.transform = merged.get("transform", {})
    mapping.justification = merged.get("justification")
    mapping.mapping_justification = merged["mapping_justification"]
    mapping.confidence = merged.get("confidence")
    mapping.status = merged["status"]
    mapping.updated_at = utcnow()
    await session.flush()
    await record(
        session,
        actor=actor,
        action="mapping.update",
        target_type="mapping",
        target_id=str(mapping.id),
        before=before,
        after=mapping_document(mapping),
    )
    return mapping


async def delete_mapping(session: AsyncSession, *, actor: str, mapping: Mapping) -> None:
    """Remove a mapping."""
    before = mapping_document(mapping)
    await session.delete(mapping)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="mapping.delete",
        target_type="mapping",
        target_id=str(before.get("question")),
        before=before,
    )


async def list_mappings(
    session: AsyncSession,
    *,
    concept: str | None,
    cycle: str | None,
    question: str | None,
    status: str | None,
    relation: str | None,
    limit: int,
    cursor: str | None,
    principal: Principal | None,
) -> Page[Mapping]:
    """Mappings the caller may see (those of drafts only for their secretariat), filtered."""
    stmt = mapping_query()
    if (visible := templates_service.visible_to(principal)) is not None:
        stmt = stmt.where(col(Mapping.template_id).in_(select(col(Template.id)).where(visible)))
    if concept:
        stmt = stmt.where(
            col(Mapping.concept_id).in_(select(col(Concept.id)).where(col(Concept.key) == concept))
        )
    if cycle or question:
        if question:
            conv, code, qid = parse_question_ref(question)
            stmt = stmt.where(col(Mapping.question_id) == qid)
        else:
            conv, code = parse_cycle_ref(cycle or "")
        stmt = stmt.where(
            col(Mapping.template_id).in_(
                select(col(Template.id))
                .join(Cycle, col(Cycle.id) == col(Template.cycle_id))
                .where(col(Cycle.convention_code) == conv, col(Cycle.code) == code)
            )
        )
    if status:
        stmt = stmt.where(col(Mapping.status) == status)
    if relation:
        stmt = stmt.where(col(Mapping.relation) == relation)
    return await paginate(session, stmt, orm_attr(Mapping.id), limit=limit, cursor=cursor)


async def all_mappings(session: AsyncSession) -> list[Mapping]:
    """Every mapping of a published or retired template, with its concept and template."""
    stmt = mapping_query().where(
        col(Mapping.template_id).in_(select(col(Template.id)).where(templates_service.public()))
    )
    return list((await session.scalars(stmt.order_by(col(Mapping.id)))).unique().all())


async def all_concepts(session: AsyncSession) -> list[Concept]:
    """Every concept, by key."""
    return list(
        (
            await session.scalars(
                select(Concept)
                .options(selectinload(orm_attr(Concept.tags)))
                .order_by(col(Concept.key))
            )
        ).all()
    )


# --- new template versions -----------------------------------------------------------------


def _shape_change(fields: list[dict[str, Any]]) -> str:
    """Why a mapping needs review when its question takes other values: the diff's words."""
    parts = []
    for entry in fields:
        if entry["field"] == "options":
            codes = [
                f"{kind} {', '.join(entry[kind])}"
                for kind in ("added", "removed")
                if entry.get(kind)
            ]
            parts.append("options changed" + (f" ({'; '.join(codes)})" if codes else ""))
        elif entry["field"] in ("type", "columns"):
            parts.append(f"{entry['field']} changed")
    return "the question's " + (", ".join(parts) or "type or options changed")


@templates_service.after_publish
async def carry_over(
    session: AsyncSession, *, actor: str, previous: Template, current: Template
) -> CarryOver:
    """Copy the previous version's mappings whose question is unchanged, as proposed."""
    report = CarryOver()
    old = (
        await session.scalars(
            select(Mapping)
            .options(joinedload(orm_attr(Mapping.concept)))
            .where(col(Mapping.template_id) == previous.id)
            .order_by(col(Mapping.id))
        )
    ).all()
    previous_document = await session.scalar(
        select(col(Template.document)).where(col(Template.id) == previous.id)
    )
    old_questions = {q["id"]: q for _, q in iter_questions(previous_document or {"sections": []})}
    new_questions = question_index(current)
    # what changed in each kept question (the same diff as GET /templates/{id}/diff)
    changed = {
        c["question"]: c["fields"]
        for c in diff_templates(previous_document or {"sections": []}, current.document)
        if c["change"] == "changed"
    }
    existing = {
        (m.concept_id, m.question_id)
        for m in (
            await session.scalars(select(Mapping).where(col(Mapping.template_id) == current.id))
        ).all()
    }
    created = []
    for mapping in old:
        entry = {
            "mapping": mapping.id,
            "concept": mapping.concept.key,
            "question": mapping.question_id,
            "relation": mapping.relation,
        }
        new_q = new_questions.get(mapping.question_id)
        if new_q is None:
            report.needs_review.append(
                entry | {"reason": "the question is gone from the new version"}
            )
            continue
        problems = transforms.check(mapping.transform, mapping.concept.document, new_q)
        if problems:
            report.needs_review.append(entry | {"reason": "; ".join(p["detail"] for p in problems)})
            continue
        fields = changed.get(mapping.question_id, [])
        if question_shape(old_questions.get(mapping.question_id)) != question_shape(new_q):
            report.needs_review.append(entry | {"reason": _shape_change(fields)})
            continue
        if fields:
            # carried, with what changed in the question for the reviewer to see
            entry = entry | {"question_changed": [f["field"] for f in fields]}
        if (mapping.concept_id, mapping.question_id) in existing:
            continue
        copy = Mapping(
            concept_id=mapping.concept_id,
            template_id=current.id,
            question_id=mapping.question_id,
            relation=mapping.relation,
            transform=mapping.transform,
            justification=mapping.justification,
            mapping_justification=mapping.mapping_justification,
            confidence=mapping.confidence,
            author=mapping.author,
            status="proposed",
            created_by=actor,
        )
        session.add(copy)
        created.append((copy, entry))
    await session.flush()
    for copy, entry in created:
        report.carried.append(entry | {"new_mapping": copy.id, "status": "proposed"})
        await record(
            session,
            actor=actor,
            action="mapping.carry_over",
            target_type="mapping",
            target_id=str(copy.id),
            after=entry | {"template_id": current.id},
        )
    return report
