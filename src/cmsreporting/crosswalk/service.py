"""Concepts, mappings, crosswalk queries, coverage, translation and carry-over."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.crosswalk import coverage as coverage_mod
from cmsreporting.crosswalk import transforms
from cmsreporting.crosswalk.checks import concept_errors, schema_errors
from cmsreporting.crosswalk.exchange import mapping_document, question_ref
from cmsreporting.crosswalk.models import Concept, ConceptTag, Mapping
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Cycle
from cmsreporting.registry.service import get_cycle, parse_cycle_ref
from cmsreporting.reporting.projection import PROPAGATING, Binding
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates.checks import iter_questions, question_shape, version_key
from cmsreporting.templates.models import Template

log = logging.getLogger(__name__)

MAX_BATCH_ERRORS = 50


def question_index(template: Template) -> dict[str, dict[str, Any]]:
    """Questions of a template by id (kept per process: a template's content never changes
    under the same digest)."""
    return template_cache.questions(template)


def parse_question_ref(ref: str, ptr: str = "/question") -> tuple[str, str, str]:
    """CONVENTION:CYCLE:QUESTION_ID into its parts."""
    parts = ref.split(":")
    if len(parts) != 3 or not all(parts):
        raise BadRequest(
            f"{ref!r} is not a question reference CONVENTION:CYCLE:QUESTION_ID",
            errors=[FieldError(ptr, "expected CONVENTION:CYCLE:QUESTION_ID")],
        )
    return parts[0], parts[1], parts[2]


# --- concepts -----------------------------------------------------------------------------


def _invalid(errors: list[FieldError], what: str) -> InvalidInput:
    return InvalidInput(f"{len(errors)} problem(s) in the {what}; see errors", errors=errors)


async def create_concepts(
    session: AsyncSession, *, actor: str, documents: Sequence[Any]
) -> list[Concept]:
    """Add concepts to the question bank: all of them or none."""
    errors: list[FieldError] = []
    keys: dict[str, int] = {}
    for i, document in enumerate(documents):
        found = concept_errors(document, f"/{i}")
        errors += found
        if not found:
            if document["key"] in keys:
                errors.append(
                    FieldError(f"/{i}/key", f"key repeated (first at /{keys[document['key']]})")
                )
            keys.setdefault(document["key"], i)
    if errors:
        raise _invalid(errors[:MAX_BATCH_ERRORS], "concepts")
    if keys:
        existing = (
            await session.scalars(select(col(Concept.key)).where(col(Concept.key).in_(keys)))
        ).all()
        if existing:
            raise Conflict(
                f"concepts exist: {', '.join(sorted(existing))}",
                errors=[
                    FieldError(f"/{keys[k]}/key", "a concept with this key exists")
                    for k in existing
                ],
            )
    created = []
    for document in documents:
        concept = Concept(
            key=document["key"],
            type=document["type"],
            document=document,
            created_by=actor,
            tags=[ConceptTag(tag=t) for t in document.get("tags", [])],
        )
        session.add(concept)
        created.append(concept)
    await session.flush()
    for concept in created:
        await record(
            session,
            actor=actor,
            action="concept.create",
            target_type="concept",
            target_id=concept.key,
            after=concept.document,
        )
    return created


async def get_concept(session: AsyncSession, *, key: str) -> Concept:
    """A concept by key."""
    concept = await session.scalar(
        select(Concept).options(selectinload(orm_attr(Concept.tags))).where(col(Concept.key) == key)
    )
    if concept is None:
        raise NotFound(f"no concept {key!r}")
    return concept


async def replace_concept(session: AsyncSession, *, actor: str, key: str, document: Any) -> Concept:
    """Replace a concept's definition; refused if an existing mapping would no longer apply."""
    concept = await get_concept(session, key=key)
    errors = concept_errors(document)
    if errors:
        raise _invalid(errors, "concept")
    if document["key"] != key:
        raise InvalidInput(
            "a concept keeps its key", errors=[FieldError("/key", f"must stay {key}")]
        )
    mappings = (
        await session.scalars(
            select(Mapping)
            .options(joinedload(orm_attr(Mapping.template)).joinedload(orm_attr(Template.cycle)))
            .where(col(Mapping.concept_id) == concept.id)
        )
    ).all()
    broken: list[FieldError] = []
    for mapping in mappings:
        question = question_index(mapping.template).get(mapping.question_id)
        if question is None:
            continue
        for problem in transforms.check(mapping.transform, document, question):
            broken.append(
                FieldError(
                    "",
                    f"mapping {mapping.id} to {_ref(mapping)}: {problem['detail']}",
                    mapping=mapping.id,
                )
            )
    if broken:
        raise Conflict(
            "the new definition breaks existing mappings; change or remove them first",
            errors=broken[:MAX_BATCH_ERRORS],
        )
    before = concept.document
    concept.document = document
    concept.type = document["type"]
    concept.tags = [ConceptTag(tag=t) for t in document.get("tags", [])]
    concept.updated_at = utcnow()
    await session.flush()
    await record(
        session,
        actor=actor,
        action="concept.replace",
        target_type="concept",
        target_id=key,
        before=before,
        after=document,
    )
    return concept


async def list_concepts(
    session: AsyncSession, *, tag: str | None, type_: str | None, limit: int, cursor: str | None
) -> Page[Concept]:
    """Concepts, optionally those serving one target tag."""
    stmt = select(Concept).options(selectinload(orm_attr(Concept.tags)))
    if tag:
        stmt = stmt.where(
            col(Concept.id).in_(
                select(col(ConceptTag.concept_id)).where(col(ConceptTag.tag) == tag)
            )
        )
    if type_:
        stmt = stmt.where(col(Concept.type) == type_)
    return await paginate(
        session, stmt, orm_attr(Concept.key), limit=limit, cursor=cursor, key_type=str
    )


class ConceptDocs(dict[str, dict[str, Any]]):
    """Concept definitions by key, with when each was last changed (`stamps`)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: dict[str, datetime] = {}


async def concepts_by_key(session: AsyncSession, *, keys: set[str] | None = None) -> ConceptDocs:
    """Concept definitions by key (all of them, or the given keys)."""
    stmt = select(col(Concept.key), col(Concept.document), col(Concept.updated_at))
    if keys is not None:
        stmt = stmt.where(col(Concept.key).in_(keys))
    found = ConceptDocs()
    for key, document, updated_at in await session.execute(stmt):
        found[key] = document
        found.stamps[key] = updated_at
    return found


async def linked_concepts(
    session: AsyncSession, *, keys: set[str], template_ids: Sequence[int]
) -> dict[str, dict[str, Any]]:
    """Definitions of those of the given concepts that a mapping links to one of the templates."""
    if not keys or not template_ids:
        return {}
    linked = (
        select(col(Mapping.id))
        .where(col(Mapping.concept_id) == Concept.id, col(Mapping.template_id).in_(template_ids))
        .exists()
    )
    rows = await session.execute(
        select(col(Concept.key), col(Concept.document)).where(col(Concept.key).in_(keys), linked)
    )
    return dict(rows.all())


# --- mappings ---------------------------------------------------------------------------


_ref = question_ref


def _visible(principal: Principal | None, template: Template) -> bool:
    """Mappings of a draft template are seen by admins and its convention's secretariat."""
    return template.status != "draft" or (
        principal is not None and principal.can_manage_convention(template.convention_code)
    )


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
        .join(Cycle, col(Cycle.id) == Template.cycle_id)
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
    errors: list[FieldError] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for i, document in enumerate(documents):
        found = schema_errors("mapping", document, f"/{i}")
        errors += found
        if not found:
            valid.append((i, document))
    if errors:
        raise _invalid(errors[:MAX_BATCH_ERRORS], "mappings")
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
        if template is not None and principal is not None and not _visible(principal, template):
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
        raise _invalid(errors[:MAX_BATCH_ERRORS], "mappings")
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
                Mapping.question_id == r.question["id"],
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
    created: list[Mapping] = []
    now = utcnow()
    for _, r in keep:
        d = r.document
        approved = d.get("status") == "approved"
        mapping = Mapping(
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
        session.add(mapping)
        created.append(mapping)
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


def _parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (UTC when no offset is given)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mapping_query() -> Select[Mapping]:
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
    mapping = await session.scalar(_mapping_query().where(col(Mapping.id) == mapping_id))
    if mapping is None or not _visible(principal, mapping.template):
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
        raise _invalid(errors, "mapping")
    question = question_index(mapping.template).get(mapping.question_id)
    if question is None:  # pragma: no cover - templates are immutable once mapped
        raise NotFound(f"{_ref(mapping)} no longer exists")
    errors = transforms.check(merged.get("transform", {}), mapping.concept.document, question)
    if errors:
        raise _invalid(errors, "mapping")
    if merged["status"] == "approved" and merged["relation"] in PROPAGATING:
        other = await _propagating_elsewhere(
            session,
            template_id=mapping.template_id,
            question_id=mapping.question_id,
            except_id=mapping.id,
        )
        if other is not None:
            raise Conflict(
                f"{_ref(mapping)} already takes its value from mapping {other.id}",
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
    stmt = _mapping_query()
    if principal is None or not principal.is_admin:
        own = sorted(principal.secretariat_of) if principal else []
        stmt = stmt.where(
            col(Mapping.template_id).in_(
                select(col(Template.id)).where(
                    (col(Template.status) != "draft") | col(Template.convention_code).in_(own)
                )
            )
        )
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
                .join(Cycle, col(Cycle.id) == Template.cycle_id)
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
    stmt = _mapping_query().where(
        col(Mapping.template_id).in_(
            select(col(Template.id)).where(col(Template.status) != "draft")
        )
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


# --- queries over templates ----------------------------------------------------------------


def binding(mapping: Mapping) -> Binding:
    """The projection's view of a mapping."""
    return Binding(
        concept=mapping.concept.key,
        question=mapping.question_id,
        relation=mapping.relation,
        status=mapping.status,
        transform=mapping.transform,
        mapping_id=mapping.id,
    )


async def bindings_of(
    session: AsyncSession, *, template_ids: Sequence[int]
) -> dict[int, list[Binding]]:
    """Bindings of each template."""
    result: dict[int, list[Binding]] = {tid: [] for tid in template_ids}
    if template_ids:
        rows = await session.execute(
            select(
                col(Mapping.template_id),
                col(Concept.key),
                col(Mapping.question_id),
                col(Mapping.relation),
                col(Mapping.status),
                col(Mapping.transform),
                col(Mapping.id),
                col(Mapping.updated_at),
            )
            .join(Concept, col(Concept.id) == Mapping.concept_id)
            .where(col(Mapping.template_id).in_(template_ids))
            .order_by(col(Mapping.id))
        )
        for template_id, key, question, relation, status, transform, mapping_id, at in rows:
            result[template_id].append(
                Binding(key, question, relation, status, transform, mapping_id, at)
            )
    return result


async def current_templates(
    session: AsyncSession, *, cycles: Sequence[Cycle]
) -> dict[int, Template]:
    """The newest published template of each cycle, documents loaded, by cycle id."""
    rows = await session.scalars(
        select(Template)
        .options(defer(orm_attr(Template.document), raiseload=True))
        .where(
            col(Template.cycle_id).in_([c.id for c in cycles]), col(Template.status) == "published"
        )
    )
    newest: dict[int, Template] = {}
    for template in rows:
        best = newest.get(template.cycle_id)
        if best is None or version_key(template.version) > version_key(best.version):
            newest[template.cycle_id] = template
    for cycle in cycles:
        chosen = newest.get(cycle.id)
        if chosen is None:
            raise NotFound(f"{cycle.ref} has no published template")
        set_committed_value(chosen, "cycle", cycle)
        await template_cache.load_document(session, chosen)
    return newest


async def current_template(
    session: AsyncSession,
    *,
    cycle_ref: str,
    version: str | None = None,
    principal: Principal | None = None,
) -> Template:
    """The newest published template of a cycle, or the given version if the caller may see
    it (drafts only for admins and the convention's secretariat)."""
    cycle = await get_cycle(session, ref=cycle_ref)
    stmt = (
        select(Template)
        .options(
            joinedload(orm_attr(Template.cycle)), defer(orm_attr(Template.document), raiseload=True)
        )
        .where(col(Template.cycle_id) == cycle.id)
    )
    if version is not None:
        template = await session.scalar(stmt.where(col(Template.version) == version))
        if (
            template is not None
            and template.status == "draft"
            and not (
                principal is not None and principal.can_manage_convention(template.convention_code)
            )
        ):
            template = None
    else:
        candidates = (await session.scalars(stmt.where(col(Template.status) == "published"))).all()
        template = max(candidates, key=lambda t: version_key(t.version), default=None)
    if template is None:
        raise NotFound(
            f"{cycle_ref} has no {'template ' + version if version else 'published template'}"
        )
    await template_cache.load_document(session, template)
    return template


async def question_links(
    session: AsyncSession, *, question_ref: str, version: str | None, principal: Principal | None
) -> dict[str, Any]:
    """Every question linked to this one through concepts, with relations and transforms."""
    convention, cycle, qid = parse_question_ref(question_ref)
    template = await current_template(
        session, cycle_ref=f"{convention}:{cycle}", version=version, principal=principal
    )
    question = question_index(template).get(qid)
    if question is None:
        raise NotFound(f"{convention}:{cycle} {template.version} has no question {qid!r}")
    own = (
        (
            await session.scalars(
                _mapping_query().where(
                    col(Mapping.template_id) == template.id, col(Mapping.question_id) == qid
                )
            )
        )
        .unique()
        .all()
    )
    concept_ids = {m.concept_id for m in own}
    others = (
        (
            await session.scalars(
                _mapping_query()
                .where(col(Mapping.concept_id).in_(concept_ids))
                .order_by(col(Mapping.id))
            )
        )
        .unique()
        .all()
        if concept_ids
        else []
    )
    links = []
    for mine in own:
        for other in others:
            if other.concept_id != mine.concept_id or other.id == mine.id:
                continue
            if not _visible(principal, other.template):
                continue
            links.append(
                {
                    "question": _ref(other),
                    "template_version": other.template.version,
                    "template_status": other.template.status,
                    "via": {
                        "concept": mine.concept.key,
                        "from_relation": mine.relation,
                        "to_relation": other.relation,
                    },
                    "relation": coverage_mod.combine(mine.relation, other.relation),
                    "propagates": binding(mine).propagates and binding(other).propagates,
                    "transform_from": mine.transform,
                    "transform_to": other.transform,
                    "invertible": transforms.is_invertible(mine.transform),
                    "mapping_ids": [mine.id, other.id],
                }
            )
    return {
        "question": f"{convention}:{cycle}:{qid}",
        "template_id": template.id,
        "template_version": template.version,
        "type": question["type"],
        "concepts": [
            {
                "concept": m.concept.key,
                "relation": m.relation,
                "status": m.status,
                "mapping_id": m.id,
                "transform": m.transform,
            }
            for m in own
        ],
        "links": links,
    }


async def coverage(session: AsyncSession, *, from_ref: str, to_ref: str) -> dict[str, Any]:
    """What of the `to` cycle's template can be filled from the `from` cycle's."""
    source = await current_template(session, cycle_ref=from_ref)
    target = await current_template(session, cycle_ref=to_ref)
    bindings = await bindings_of(session, template_ids=[source.id, target.id])
    concepts = await concepts_by_key(session)
    result = coverage_mod.coverage(
        source.document, target.document, bindings[source.id], bindings[target.id], concepts
    )
    return {
        "from": {"cycle": from_ref, "template_id": source.id, "version": source.version},
        "to": {"cycle": to_ref, "template_id": target.id, "version": target.version},
        **result,
    }


async def translate(
    session: AsyncSession, *, from_ref: str, to_ref: str, answers: dict[str, Any]
) -> dict[str, Any]:
    """The `to` report of answers given in the `from` template."""
    source = await current_template(session, cycle_ref=from_ref)
    target = await current_template(session, cycle_ref=to_ref)
    known = question_index(source)
    unknown = [
        FieldError(f"/answers/{_esc(q)}", f"{from_ref} has no question {q!r}")
        for q in answers
        if q not in known
    ]
    if unknown:
        raise InvalidInput("answers name unknown questions", errors=unknown[:MAX_BATCH_ERRORS])
    bindings = await bindings_of(session, template_ids=[source.id, target.id])
    concepts = await concepts_by_key(session)
    result = coverage_mod.translate(
        source.document,
        target.document,
        bindings[source.id],
        bindings[target.id],
        concepts,
        answers,
    )
    return {
        "from": {"cycle": from_ref, "template_id": source.id, "version": source.version},
        "to": {"cycle": to_ref, "template_id": target.id, "version": target.version},
        **result,
    }


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


# --- new template versions -----------------------------------------------------------------


@dataclass
class CarryOver:
    """What happened to the previous version's mappings when a new version was published."""

    carried: list[dict[str, Any]] = field(default_factory=list)
    needs_review: list[dict[str, Any]] = field(default_factory=list)


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
        if question_shape(old_questions.get(mapping.question_id)) != question_shape(new_q):
            report.needs_review.append(entry | {"reason": "the question's type or options changed"})
            continue
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
