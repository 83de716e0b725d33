"""Mapping suggestions between two templates or against the concept bank: ranking (through the
pure engine of core/suggest.py), accepting one as mappings, rejecting one as a negative mapping.

The engine (and scikit-learn, numpy and scipy with it, about two seconds of imports) is imported
on first use, not when the app or the command line starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.core.coverage import combine
from cmsreporting.core.projection import PROPAGATING
from cmsreporting.crosswalk import mapping_service
from cmsreporting.crosswalk.exchange import concept_document
from cmsreporting.crosswalk.models import Concept, Mapping, NegativeMapping
from cmsreporting.crosswalk.questions import question_index
from cmsreporting.db import orm_attr
from cmsreporting.errors import BadRequest, Conflict, FieldError, Forbidden, NotFound
from cmsreporting.pagination import Page, paginate
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates import service as templates_service
from cmsreporting.templates.models import Template

if TYPE_CHECKING:
    from cmsreporting.core import suggest as engine

CONCEPTS = "concepts"
CONCEPT_PREFIX = "concept:"  # core.suggest.CONCEPT_PREFIX, without importing the engine
MAX_LIMIT = 500


@dataclass
class _Bank:
    """What the engine needs to know of the crosswalk: concepts, links, rejections."""

    concepts: dict[str, dict[str, Any]]
    links: dict[int, dict[str, list[tuple[str, str, bool]]]]
    """By template id, then question id: (concept key, relation, approved)."""
    linked_questions: dict[str, list[tuple[str, str, str]]]
    """By concept key: (question ref, wording, relation) of its approved mappings."""
    rejected: list[tuple[str, str]]


async def _template(
    session: AsyncSession,
    *,
    ref: str,
    version: str | None,
    principal: Principal | None,
    field: str,
) -> Template:
    """The template a `from`/`to` parameter names; a 404 naming the parameter otherwise."""
    try:
        return await templates_service.current_template(
            session, cycle_ref=ref, version=version, principal=principal
        )
    except (NotFound, BadRequest) as exc:
        raise type(exc)(exc.detail, errors=[FieldError(f"/{field}", exc.detail)]) from None


async def _bank(session: AsyncSession, principal: Principal | None) -> _Bank:
    from cmsreporting.core import suggest as engine

    concepts = {c.key: concept_document(c) for c in await mapping_service.all_concepts(session)}
    stmt = select(Mapping).options(
        joinedload(orm_attr(Mapping.concept)),
        joinedload(orm_attr(Mapping.template)).joinedload(orm_attr(Template.cycle)),
    )
    if (visible := templates_service.visible_to(principal)) is not None:
        stmt = stmt.where(col(Mapping.template_id).in_(select(col(Template.id)).where(visible)))
    mappings = (await session.scalars(stmt.order_by(col(Mapping.id)))).unique().all()
    links: dict[int, dict[str, list[tuple[str, str, bool]]]] = {}
    linked: dict[str, list[tuple[str, str, str]]] = {}
    questions: dict[int, dict[str, dict[str, Any]]] = {}
    for m in mappings:
        approved = m.status == "approved"
        links.setdefault(m.template_id, {}).setdefault(m.question_id, []).append(
            (m.concept.key, m.relation, approved)
        )
        if not approved:
            continue
        if m.template_id not in questions:
            questions[m.template_id] = await template_cache.questions_of(
                session, template_id=m.template_id, digest=m.template.digest
            )
        question = questions[m.template_id].get(m.question_id)
        if question is not None:
            ref = f"{m.template.cycle.ref}:{m.question_id}"
            linked.setdefault(m.concept.key, []).append(
                (ref, engine.texts_of(question), m.relation)
            )
    rejected = [
        (s, o)
        for s, o in await session.execute(
            select(col(NegativeMapping.subject), col(NegativeMapping.object))
        )
    ]
    return _Bank(concepts, links, linked, rejected)


def _items(template: Template, bank: _Bank) -> list[engine.Item]:
    from cmsreporting.core import suggest as engine

    return engine.template_items(
        template.document,
        template.cycle.ref,
        links=bank.links.get(template.id, {}),
        concepts=bank.concepts,
        linked_questions=bank.linked_questions,
    )


def _side(template: Template) -> dict[str, Any]:
    return {
        "cycle": template.cycle.ref,
        "template_id": template.id,
        "version": template.version,
        "status": template.status,
    }


@dataclass
class Ranking:
    """The candidates of one comparison, with what they were drawn from."""

    source: Template
    target: Template | None
    targets: list[engine.Item]
    sources: list[engine.Item]
    candidates: list[engine.Candidate]

    def as_dict(self) -> dict[str, Any]:
        """The API answer."""
        return {
            "from": _side(self.source),
            "to": (
                _side(self.target) if self.target is not None else {"concepts": len(self.targets)}
            ),
            "items": [c.as_dict() for c in self.candidates],
        }

    def labels(self) -> dict[str, str]:
        """The first-language wording of every compared item, by reference."""
        return {
            item.ref: next(iter(item.definition.get("text", {}).values()), "")
            for item in [*self.sources, *self.targets]
        }


async def rank(
    session: AsyncSession,
    *,
    from_ref: str,
    to_ref: str,
    from_version: str | None = None,
    to_version: str | None = None,
    limit: int,
    min_score: float,
    principal: Principal | None,
) -> Ranking:
    """Ranked candidate pairs from the `from` template to the `to` template or the concepts."""
    from cmsreporting.core import suggest as engine

    source = await _template(
        session, ref=from_ref, version=from_version, principal=principal, field="from"
    )
    target: Template | None = None
    if to_ref != CONCEPTS:
        target = await _template(
            session, ref=to_ref, version=to_version, principal=principal, field="to"
        )
        if target.cycle_id == source.cycle_id:
            raise BadRequest(
                "a template is not compared with itself (or another version of its cycle)",
                errors=[FieldError("/to", "the same cycle as `from`")],
            )
    bank = await _bank(session, principal)
    sources = _items(source, bank)
    if target is None:
        targets = engine.concept_items(
            bank.concepts.values(), linked_questions=bank.linked_questions
        )
    else:
        targets = _items(target, bank)
    candidates = engine.suggest(
        sources,
        targets,
        related_tags=engine.correspondences(bank.concepts.values()),
        rejected=bank.rejected,
        limit=limit,
        min_score=min_score,
    )
    return Ranking(source, target, targets, sources, candidates)


async def suggestions(session: AsyncSession, **kwargs: Any) -> dict[str, Any]:
    """`rank` in the API's form."""
    return (await rank(session, **kwargs)).as_dict()


# --- accepting and rejecting -------------------------------------------------------------------


@dataclass
class _Question:
    ref: str
    template: Template
    question: dict[str, Any]


async def _question(
    session: AsyncSession,
    *,
    ref: str,
    version: str | None,
    principal: Principal,
    field: str,
) -> _Question:
    parts = ref.split(":")
    if len(parts) != 3 or not all(parts):
        raise BadRequest(
            f"{ref!r} is not a question reference CONVENTION:CYCLE:QUESTION_ID",
            errors=[FieldError(f"/{field}", "expected CONVENTION:CYCLE:QUESTION_ID")],
        )
    template = await _template(
        session,
        ref=f"{parts[0]}:{parts[1]}",
        version=version,
        principal=principal,
        field=field,
    )
    question = question_index(template).get(parts[2])
    if question is None:
        raise NotFound(
            f"{template.cycle.ref} {template.version} has no question {parts[2]!r}",
            errors=[FieldError(f"/{field}", "no such question")],
        )
    return _Question(ref, template, question)


def _two_cycles(source: _Question, target: _Question) -> None:
    if target.template.cycle_id == source.template.cycle_id:
        raise BadRequest(
            "a pair links questions of two different cycles",
            errors=[FieldError("/to_question", "the same cycle as from_question")],
        )


async def _concept(session: AsyncSession, key: str, field: str) -> Concept:
    concept = await session.scalar(select(Concept).where(col(Concept.key) == key))
    if concept is None:
        raise NotFound(f"no concept {key!r}", errors=[FieldError(f"/{field}", "no such concept")])
    return concept


async def _rejection(session: AsyncSession, a: str, b: str) -> NegativeMapping | None:
    return await session.scalar(
        select(NegativeMapping).where(
            or_(
                (col(NegativeMapping.subject) == a) & (col(NegativeMapping.object) == b),
                (col(NegativeMapping.subject) == b) & (col(NegativeMapping.object) == a),
            )
        )
    )


async def _concepts_of(session: AsyncSession, q: _Question) -> list[Mapping]:
    """The mappings of a question, propagating approved ones first."""
    rows = (
        (
            await session.scalars(
                select(Mapping)
                .options(joinedload(orm_attr(Mapping.concept)))
                .where(
                    col(Mapping.template_id) == q.template.id,
                    col(Mapping.question_id) == q.question["id"],
                )
                .order_by(col(Mapping.id))
            )
        )
        .unique()
        .all()
    )
    return sorted(
        rows,
        key=lambda m: (m.status != "approved", m.relation not in PROPAGATING, m.id),
    )


def _status(principal: Principal, convention: str, asked: str | None) -> str:
    """What the caller's role allows unless they ask for less: approved for admins and the
    convention's secretariat, proposed for reviewers."""
    if asked is not None:
        return asked
    if mapping_service.can_write_mapping(principal, convention, "approved"):
        return "approved"
    return "proposed"


def _mapping_doc(
    *,
    concept: Concept,
    q: _Question,
    relation: str,
    transform: dict[str, Any] | None,
    status: str,
    justification: str | None,
    confidence: float | None,
) -> dict[str, Any]:
    if transform is None:
        from cmsreporting.core import suggest as engine

        proposal = engine.propose_transform(concept.document, q.question)
        if proposal is None:
            raise Conflict(
                f"no transform carries the concept's {concept.type} values to {q.ref} "
                f"({q.question['type']}); send one in `transform`",
                errors=[FieldError("/transform", "no transform could be proposed")],
            )
        transform = proposal
    doc: dict[str, Any] = {
        "concept": concept.key,
        "question": q.ref,
        "template_version": q.template.version,
        "relation": relation,
        "transform": transform,
        "status": status,
        "mapping_justification": "semapv:CompositeMatching",
    }
    if justification:
        doc["justification"] = justification
    if confidence is not None:
        doc["confidence"] = confidence
    return doc


async def accept(
    session: AsyncSession, *, principal: Principal, body: dict[str, Any]
) -> list[Mapping]:
    """Accept a suggestion: the mapping(s) that link the pair through a concept, checked and
    stored by the mapping rules (proposed or approved by role)."""
    source = await _question(
        session,
        ref=body["from_question"],
        version=body.get("from_version"),
        principal=principal,
        field="from_question",
    )
    to_ref: str = body["to_question"]
    if (rejected := await _rejection(session, source.ref, to_ref)) is not None:
        raise Conflict(
            f"this pair was rejected (negative mapping {rejected.id}); delete nothing, "
            "map it by hand if the rejection was wrong",
            errors=[FieldError("/to_question", "a rejected pair")],
        )
    relation: str = body["relation"]
    options = {
        "justification": body.get("justification"),
        "confidence": body.get("confidence"),
    }
    documents: list[dict[str, Any]] = []
    if to_ref.startswith(CONCEPT_PREFIX):
        concept = await _concept(session, to_ref.removeprefix(CONCEPT_PREFIX), "to_question")
        documents.append(
            _mapping_doc(
                concept=concept,
                q=source,
                relation=relation,
                transform=body.get("transform"),
                status=_status(principal, source.template.convention_code, body.get("status")),
                **options,
            )
        )
    else:
        target = await _question(
            session,
            ref=to_ref,
            version=body.get("to_version"),
            principal=principal,
            field="to_question",
        )
        _two_cycles(source, target)
        documents = await _pair_documents(session, principal, source, target, relation, body)
    mapping_service.authorize_mappings(principal, documents)
    return await mapping_service.create_mappings(
        session, actor=principal.actor, documents=documents, principal=principal
    )


async def _pair_documents(
    session: AsyncSession,
    principal: Principal,
    source: _Question,
    target: _Question,
    relation: str,
    body: dict[str, Any],
) -> list[dict[str, Any]]:
    """The mapping that links the question without the concept to the concept of the other
    (`concept` in the body, else the concept of `from`, else of `to`)."""
    from_maps = await _concepts_of(session, source)
    to_maps = await _concepts_of(session, target)
    shared = {m.concept_id for m in from_maps} & {m.concept_id for m in to_maps}
    if shared and "concept" not in body:
        raise Conflict(
            "the two questions are already linked through a concept",
            errors=[FieldError("/to_question", "already linked")],
        )
    concept: Concept
    anchor_from: Mapping | None
    anchor_to: Mapping | None
    if "concept" in body:
        concept = await _concept(session, body["concept"], "concept")
        anchor_from = next((m for m in from_maps if m.concept_id == concept.id), None)
        anchor_to = next((m for m in to_maps if m.concept_id == concept.id), None)
        if anchor_from is None and anchor_to is None:
            raise Conflict(
                f"neither question is mapped to concept {concept.key!r}",
                errors=[FieldError("/concept", "not linked to either question")],
            )
        if anchor_from is not None and anchor_to is not None:
            raise Conflict(
                "the two questions are already linked through this concept",
                errors=[FieldError("/concept", "already linked")],
            )
    elif from_maps:
        anchor_from, anchor_to, concept = from_maps[0], None, from_maps[0].concept
    elif to_maps:
        anchor_from, anchor_to, concept = None, to_maps[0], to_maps[0].concept
    else:
        raise Conflict(
            "neither question is linked to a concept yet: accept a suggestion against the "
            "concepts (to=concepts) for one of them first, or name a concept",
            errors=[FieldError("/concept", "neither question has a concept")],
        )
    anchor: Mapping | None = anchor_from or anchor_to
    assert anchor is not None
    mapped, inverse = (target, False) if anchor_from is not None else (source, True)
    # the pair's relation reads from -> to; the new mapping reads concept -> mapped question
    pair = _inverse(relation) if inverse else relation
    return [
        _mapping_doc(
            concept=concept,
            q=mapped,
            relation=combine(anchor.relation, pair),
            transform=body.get("transform"),
            status=_status(principal, mapped.template.convention_code, body.get("status")),
            justification=body.get("justification"),
            confidence=body.get("confidence"),
        )
    ]


def _inverse(relation: str) -> str:
    return {"broadMatch": "narrowMatch", "narrowMatch": "broadMatch"}.get(relation, relation)


async def reject(
    session: AsyncSession, *, principal: Principal, body: dict[str, Any]
) -> NegativeMapping:
    """Record that the pair is not related (a negative mapping); a pair is rejected once."""
    source = await _question(
        session,
        ref=body["from_question"],
        version=body.get("from_version"),
        principal=principal,
        field="from_question",
    )
    to_ref: str = body["to_question"]
    conventions = {source.template.convention_code}
    if to_ref.startswith(CONCEPT_PREFIX):
        await _concept(session, to_ref.removeprefix(CONCEPT_PREFIX), "to_question")
    else:
        target = await _question(
            session,
            ref=to_ref,
            version=body.get("to_version"),
            principal=principal,
            field="to_question",
        )
        _two_cycles(source, target)
        conventions.add(target.template.convention_code)
    if not any(mapping_service.can_write_mapping(principal, c, "proposed") for c in conventions):
        raise Forbidden(
            "only admins, reviewers and the secretariats of the two conventions reject suggestions"
        )
    existing = await _rejection(session, source.ref, to_ref)
    if existing is not None:
        raise Conflict(
            f"this pair is already rejected (negative mapping {existing.id})",
            errors=[FieldError("/to_question", "already rejected")],
        )
    negative = NegativeMapping(
        subject=source.ref,
        object=to_ref,
        relation=body.get("relation") or "relatedMatch",
        justification=body.get("justification"),
        confidence=body.get("confidence"),
        author=principal.actor,
        created_by=principal.actor,
    )
    session.add(negative)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="mapping.reject",
        target_type="negative_mapping",
        target_id=str(negative.id),
        after=negative_document(negative),
    )
    return negative


async def store_negatives(
    session: AsyncSession,
    *,
    actor: str,
    documents: list[dict[str, Any]],
    principal: Principal | None = None,
    skip_existing: bool = False,
) -> list[NegativeMapping]:
    """Rejected pairs read from SSSOM (predicate_modifier Not): stored once each (a pair
    already rejected either way round is a conflict, or skipped if asked)."""
    if principal is not None and documents:
        conventions = {d["subject"].split(":")[0] for d in documents}
        if not any(
            mapping_service.can_write_mapping(principal, c, "proposed") for c in conventions
        ):
            raise Forbidden("only admins, reviewers and secretariats record rejected pairs")
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    created = []
    for i, d in enumerate(documents):
        pair = (d["subject"], d["object"])
        existing = await _rejection(session, *pair)
        if pair in seen or pair[::-1] in seen or existing is not None:
            if not skip_existing:
                errors.append(FieldError(f"/{i}", "this pair is already rejected"))
            continue
        seen.add(pair)
        negative = NegativeMapping(
            subject=d["subject"],
            object=d["object"],
            relation=d["relation"],
            justification=d.get("justification"),
            author=d.get("author") or actor,
            created_by=actor,
        )
        session.add(negative)
        created.append(negative)
    if errors:
        raise Conflict("the file rejects pairs already rejected", errors=errors[:50])
    await session.flush()
    for negative in created:
        await record(
            session,
            actor=actor,
            action="mapping.reject",
            target_type="negative_mapping",
            target_id=str(negative.id),
            after=negative_document(negative),
        )
    return created


def negative_document(negative: NegativeMapping) -> dict[str, Any]:
    """The exchange form of a negative mapping."""
    doc: dict[str, Any] = {
        "subject": negative.subject,
        "object": negative.object,
        "relation": negative.relation,
        "predicate_modifier": "Not",
        "author": negative.author,
        "created_at": negative.created_at.isoformat(),
    }
    if negative.justification is not None:
        doc["justification"] = negative.justification
    if negative.confidence is not None:
        doc["confidence"] = negative.confidence
    return doc


async def list_rejections(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[NegativeMapping]:
    """Negative mappings, oldest first."""
    return await paginate(
        session, select(NegativeMapping), orm_attr(NegativeMapping.id), limit=limit, cursor=cursor
    )


async def all_rejections(session: AsyncSession) -> list[NegativeMapping]:
    """Every negative mapping, oldest first."""
    return list(
        (await session.scalars(select(NegativeMapping).order_by(col(NegativeMapping.id)))).all()
    )
