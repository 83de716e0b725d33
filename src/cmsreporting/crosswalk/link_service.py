"""Queries over templates through the crosswalk: bindings, question links, coverage and
translation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.auth.principal import Principal
from cmsreporting.core import coverage as coverage_mod
from cmsreporting.core import transforms
from cmsreporting.core.projection import Binding
from cmsreporting.crosswalk.concept_service import concepts_by_key
from cmsreporting.crosswalk.exchange import question_ref as mapping_ref
from cmsreporting.crosswalk.mapping_service import mapping_query
from cmsreporting.crosswalk.models import Concept, Mapping
from cmsreporting.crosswalk.questions import MAX_BATCH_ERRORS, parse_question_ref, question_index
from cmsreporting.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    escape,
)
from cmsreporting.templates import service as templates_service
from cmsreporting.templates.service import current_template

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
            .join(Concept, col(Concept.id) == col(Mapping.concept_id))
            .where(col(Mapping.template_id).in_(template_ids))
            .order_by(col(Mapping.id))
        )
        for template_id, key, question, relation, status, transform, mapping_id, at in rows:
            result[template_id].append(
                Binding(key, question, relation, status, transform, mapping_id, at)
            )
    return result


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
                mapping_query().where(
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
                mapping_query()
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
            if not templates_service.can_see(principal, other.template):
                continue
            links.append(
                {
                    "question": mapping_ref(other),
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
        FieldError(f"/answers/{escape(q)}", f"{from_ref} has no question {q!r}")
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
