"""The concept bank: create, replace, read concepts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.core import transforms
from cmsreporting.core.crosswalk_document import concept_errors
from cmsreporting.crosswalk.exchange import question_ref
from cmsreporting.crosswalk.models import Concept, ConceptTag, Mapping
from cmsreporting.crosswalk.questions import MAX_BATCH_ERRORS, invalid_batch, question_index
from cmsreporting.db import orm_attr, utcnow
from cmsreporting.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
)
from cmsreporting.pagination import Page, paginate
from cmsreporting.templates.models import Template

# --- concepts -----------------------------------------------------------------------------


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
        raise invalid_batch(errors[:MAX_BATCH_ERRORS], "concepts")
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
        raise invalid_batch(errors, "concept")
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
                    f"mapping {mapping.id} to {question_ref(mapping)}: {problem['detail']}",
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
        .where(
            col(Mapping.concept_id) == col(Concept.id), col(Mapping.template_id).in_(template_ids)
        )
        .exists()
    )
    rows = await session.execute(
        select(col(Concept.key), col(Concept.document)).where(col(Concept.key).in_(keys), linked)
    )
    return dict(rows.all())
