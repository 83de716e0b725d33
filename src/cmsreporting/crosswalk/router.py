"""Concepts, mappings, crosswalk queries, coverage, translation and exports."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from cmsreporting.auth.deps import AdminUser, CurrentUser, MaybeUser, optional_principal
from cmsreporting.auth.principal import Principal
from cmsreporting.core import transforms
from cmsreporting.crosswalk import (
    concept_service,
    exchange,
    link_service,
    mapping_service,
    suggest_service,
)
from cmsreporting.crosswalk.models import Concept, Mapping
from cmsreporting.crosswalk.schemas import (
    CONCEPT_DOCUMENT_REF,
    CROSSWALK_DOCUMENT_REF,
    MAPPING_DOCUMENT_REF,
    ConceptOut,
    CoverageOut,
    MappingOut,
    MappingPatch,
    MappingStatus,
    NegativeMappingOut,
    QuestionLinksOut,
    Relation,
    SuggestionAcceptIn,
    SuggestionDecisionIn,
    SuggestionsOut,
    TranslateIn,
    TranslateOut,
)
from cmsreporting.db import SessionDep
from cmsreporting.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    InvalidInput,
    UnsupportedMediaType,
)
from cmsreporting.pagination import PageOut, Paging

router = APIRouter(prefix="/api/v1", tags=["crosswalk"], dependencies=[Depends(optional_principal)])


def concept_out(concept: Concept) -> ConceptOut:
    """API form of a concept."""
    return ConceptOut(
        **concept.document | {"tags": [t.tag for t in concept.tags]},
        created_at=concept.created_at,
        updated_at=concept.updated_at,
    )


def mapping_out(m: Mapping) -> MappingOut:
    """API form of a mapping."""
    doc = exchange.mapping_document(m)
    return MappingOut(
        id=m.id,
        concept=m.concept.key,
        question=doc["question"],
        template_id=m.template_id,
        template_version=m.template.version,
        relation=m.relation,
        transform=m.transform,
        invertible=transforms.is_invertible(m.transform),
        propagates=link_service.binding(m).propagates,
        justification=m.justification,
        mapping_justification=m.mapping_justification,
        confidence=m.confidence,
        author=m.author,
        status=m.status,
        approved_by=m.approved_by,
        approved_at=m.approved_at,
        created_at=m.created_at,
        created_by=m.created_by,
        updated_at=m.updated_at,
    )


# --- concepts -----------------------------------------------------------------------------


@router.get(
    "/concepts",
    summary="List the concepts of the question bank",
    response_model=PageOut[ConceptOut],
)
async def list_concepts(
    session: SessionDep,
    paging: Paging,
    tag: Annotated[
        str | None,
        Query(max_length=60, description="Only concepts serving this target, e.g. GBF:T3"),
    ] = None,
    type: Annotated[str | None, Query(max_length=20, description="Only this type")] = None,
) -> PageOut[ConceptOut]:
    """The shared question bank, by key."""
    page = await concept_service.list_concepts(
        session, tag=tag, type_=type, limit=paging.limit, cursor=paging.cursor
    )
    return PageOut(items=[concept_out(c) for c in page.items], next_cursor=page.next_cursor)


@router.post("/concepts", summary="Add concepts", response_model=list[ConceptOut], status_code=201)
async def create_concepts(
    body: Annotated[
        dict[str, Any] | list[Any],
        Body(
            description="One concept (schemas/crosswalk.schema.json) or a list of them",
            json_schema_extra={
                "anyOf": [
                    {"$ref": CONCEPT_DOCUMENT_REF},
                    {"type": "array", "items": {"$ref": CONCEPT_DOCUMENT_REF}},
                ]
            },
            openapi_examples={
                "one concept": {
                    "value": {
                        "key": "coordination.national_committee",
                        "type": "boolean",
                        "text": {"en": "Is there a national committee coordinating biodiversity?"},
                    }
                }
            },
        ),
    ],
    session: SessionDep,
    principal: AdminUser,
) -> list[ConceptOut]:
    """Add concepts (admin): all of them or none."""
    documents = body if isinstance(body, list) else [body]
    _bounded(documents, MAX_CONCEPTS, "concepts")
    created = await concept_service.create_concepts(
        session, actor=principal.actor, documents=documents
    )
    return [concept_out(c) for c in created]


@router.get("/concepts/{key}", summary="Get a concept", response_model=ConceptOut)
async def get_concept(key: str, session: SessionDep) -> ConceptOut:
    """One concept."""
    return concept_out(await concept_service.get_concept(session, key=key))


@router.put("/concepts/{key}", summary="Replace a concept's definition", response_model=ConceptOut)
async def replace_concept(
    key: str,
    document: Annotated[
        dict[str, Any],
        Body(
            description="The concept's new definition (schemas/crosswalk.schema.json)",
            json_schema_extra={"$ref": CONCEPT_DOCUMENT_REF},
            openapi_examples={
                "boolean": {
                    "value": {
                        "key": "coordination.national_committee",
                        "type": "boolean",
                        "text": {"en": "Is there a national committee coordinating biodiversity?"},
                    }
                }
            },
        ),
    ],
    session: SessionDep,
    principal: AdminUser,
) -> ConceptOut:
    """Replace a concept's definition (admin); refused if it breaks existing mappings."""
    concept = await concept_service.replace_concept(
        session, actor=principal.actor, key=key, document=document
    )
    return concept_out(concept)


# --- mappings ---------------------------------------------------------------------------


# Per request: a batch is checked whole within one request; larger crosswalks load with
# `cmsreporting load`, which takes files of any size.
MAX_CONCEPTS = 1000
MAX_MAPPINGS = 2000


def _bounded(documents: list[Any], most: int, what: str) -> None:
    if len(documents) > most:
        raise InvalidInput(
            f"at most {most} {what} per request ({len(documents)} sent); split the batch, or "
            "load larger files with `cmsreporting load`",
            errors=[FieldError("", f"more than {most} {what}")],
        )


async def _mapping_documents(request: Request) -> tuple[list[Any], list[dict[str, Any]]]:
    """The mapping documents of the body, and (SSSOM only) its rejected pairs."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type == "text/tab-separated-values":
        rows = exchange.read_sssom(raw)
        return (
            [d for d in rows if not exchange.is_negative(d)],
            [d for d in rows if exchange.is_negative(d)],
        )
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType("send application/json or text/tab-separated-values (SSSOM)")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(
            "the body is not valid JSON", errors=[FieldError("", str(exc)[:200])]
        ) from None
    if isinstance(body, dict) and isinstance(body.get("mappings"), list):
        body = body["mappings"]
    if not isinstance(body, list):
        raise BadRequest(
            "expected a JSON list of mappings",
            errors=[FieldError("", "expected a list")],
        )
    return body, []


@router.get("/mappings", summary="List the mappings", response_model=PageOut[MappingOut])
async def list_mappings(
    session: SessionDep,
    principal: MaybeUser,
    paging: Paging,
    concept: Annotated[str | None, Query(max_length=100)] = None,
    cycle: Annotated[str | None, Query(max_length=81, description="CONVENTION:CYCLE")] = None,
    question: Annotated[
        str | None, Query(max_length=200, description="CONVENTION:CYCLE:QUESTION_ID")
    ] = None,
    status: MappingStatus | None = None,
    relation: Relation | None = None,
) -> PageOut[MappingOut]:
    """Mappings, filtered by concept, cycle, question, status or relation."""
    page = await mapping_service.list_mappings(
        session,
        concept=concept,
        cycle=cycle,
        question=question,
        status=status.value if status else None,
        relation=relation.value if relation else None,
        limit=paging.limit,
        cursor=paging.cursor,
        principal=principal,
    )
    return PageOut(items=[mapping_out(m) for m in page.items], next_cursor=page.next_cursor)


@router.post(
    "/mappings",
    summary="Add mappings (JSON or SSSOM)",
    response_model=list[MappingOut],
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "description": "Mapping documents (schemas/crosswalk.schema.json)",
                        "items": {"$ref": MAPPING_DOCUMENT_REF},
                    },
                    "examples": {
                        "one mapping": {
                            "value": [
                                {
                                    "concept": "coordination.national_committee",
                                    "question": "CMS:COP15:I(a).3",
                                    "template_version": "1.0.0",
                                    "relation": "closeMatch",
                                    "transform": {},
                                    "mapping_justification": "semapv:ManualMappingCuration",
                                }
                            ]
                        }
                    },
                },
                "text/tab-separated-values": {"schema": {"type": "string"}},
            },
        }
    },
)
async def create_mappings(
    request: Request, session: SessionDep, principal: CurrentUser
) -> list[MappingOut]:
    """Add mappings from a JSON list or an SSSOM TSV file: all of them or none. SSSOM rows
    with predicate_modifier Not are stored as rejected pairs (GET /crosswalk/rejections).

    Secretariats propose and approve mappings of their convention's questions; reviewers
    propose; admins do anything.
    """
    documents, negatives = await _mapping_documents(request)
    _bounded([*documents, *negatives], MAX_MAPPINGS, "mappings")
    mapping_service.authorize_mappings(principal, documents)
    created = await mapping_service.create_mappings(
        session, actor=principal.actor, documents=documents, principal=principal
    )
    await suggest_service.store_negatives(
        session, actor=principal.actor, documents=negatives, principal=principal
    )
    return [mapping_out(m) for m in created]


def _authorize_change(principal: Principal, mapping: Mapping) -> None:
    convention = mapping.template.convention_code
    if not (principal.is_admin or principal.is_secretariat(convention)):
        raise Forbidden(f"only admins and the {convention} secretariat change its mappings")


@router.get("/mappings/{mapping_id}", summary="Get a mapping", response_model=MappingOut)
async def get_mapping(mapping_id: int, session: SessionDep, principal: MaybeUser) -> MappingOut:
    """One mapping (those of a draft only for admins and its secretariat)."""
    return mapping_out(
        await mapping_service.get_mapping(session, mapping_id=mapping_id, principal=principal)
    )


@router.patch(
    "/mappings/{mapping_id}", summary="Change or approve a mapping", response_model=MappingOut
)
async def update_mapping(
    mapping_id: int, body: MappingPatch, session: SessionDep, principal: CurrentUser
) -> MappingOut:
    """Change or approve a mapping (admin or the question's convention's secretariat)."""
    mapping = await mapping_service.get_mapping(session, mapping_id=mapping_id, principal=principal)
    _authorize_change(principal, mapping)
    updated = await mapping_service.update_mapping(
        session,
        actor=principal.actor,
        mapping=mapping,
        changes=body.model_dump(mode="json", exclude_unset=True),
    )
    return mapping_out(updated)


@router.delete("/mappings/{mapping_id}", summary="Remove a mapping", status_code=204)
async def delete_mapping(
    mapping_id: Annotated[int, Path(openapi_examples={"a mapping": {"value": 4096}})],
    session: SessionDep,
    principal: CurrentUser,
) -> Response:
    """Remove a mapping (admin or the question's convention's secretariat)."""
    mapping = await mapping_service.get_mapping(session, mapping_id=mapping_id, principal=principal)
    _authorize_change(principal, mapping)
    await mapping_service.delete_mapping(session, actor=principal.actor, mapping=mapping)
    return Response(status_code=204)


# --- crosswalk queries --------------------------------------------------------------------


@router.get(
    "/crosswalk/coverage",
    summary="Which questions of one template another fills",
    response_model=CoverageOut,
)
async def get_crosswalk_coverage(
    session: SessionDep,
    from_: Annotated[str, Query(alias="from", max_length=81, description="CONVENTION:CYCLE")],
    to: Annotated[str, Query(max_length=81, description="CONVENTION:CYCLE")],
) -> dict[str, Any]:
    """For each question of `to`: can it be filled from `from`, by which relation and concept."""
    return await link_service.coverage(session, from_ref=from_, to_ref=to)


@router.post(
    "/crosswalk/translate",
    summary="Translate answers from one template to another",
    response_model=TranslateOut,
    response_model_exclude_unset=True,  # an issue's row and column only where they apply
)
async def translate_answers(body: TranslateIn, session: SessionDep) -> dict[str, Any]:
    """The `to` report of answers given in `from`, through invertible transforms."""
    return await link_service.translate(
        session, from_ref=body.from_, to_ref=body.to, answers=body.answers
    )


@router.get(
    "/crosswalk/export",
    summary="Download the crosswalk (JSON, SSSOM, SKOS)",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {
                    "schema": {"$ref": CROSSWALK_DOCUMENT_REF},
                    "example": {
                        "metadata": {"exported_at": "2026-05-02T12:00:00+00:00"},
                        "concepts": [
                            {
                                "key": "coordination.national_committee",
                                "type": "boolean",
                                "text": {"en": "Is there a national coordinating committee?"},
                            }
                        ],
                        "mappings": [
                            {
                                "concept": "coordination.national_committee",
                                "question": "CMS:COP15:I(a).3",
                                "template_version": "1.0.0",
                                "relation": "closeMatch",
                                "transform": {},
                                "mapping_justification": "semapv:ManualMappingCuration",
                            }
                        ],
                    },
                },
                "text/tab-separated-values": {
                    "schema": {"type": "string"},
                    "example": "subject_id\tpredicate_id\tobject_id\tmapping_justification\n"
                    "cmsr:concept/coordination.national_committee\tskos:closeMatch\t"
                    "cmsr:question/CMS/COP15/I(a).3\tsemapv:ManualMappingCuration\n",
                },
                "text/turtle": {
                    "schema": {"type": "string"},
                    "example": "<https://cmsreporting.org/id/concept/coordination.national_committee>"
                    " skos:closeMatch <https://cmsreporting.org/id/question/CMS/COP15/I(a).3> .\n",
                },
                "application/ld+json": {
                    "schema": {
                        "type": "object",
                        "description": "SKOS as JSON-LD: the Turtle export's graph",
                        "properties": {
                            "@context": {"type": "object"},
                            "@graph": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                    "example": {
                        "@context": {"skos": "http://www.w3.org/2004/02/skos/core#"},
                        "@graph": [
                            {
                                "@id": "https://cmsreporting.org/id/concept/coordination.national_committee",
                                "@type": "skos:Concept",
                            }
                        ],
                    },
                },
            }
        }
    },
)
async def export_crosswalk(
    session: SessionDep,
    format: Literal["json", "sssom", "skos", "jsonld"] = "json",
    status: MappingStatus | None = None,
) -> Response:
    """The whole crosswalk as JSON (concepts and mappings), SSSOM TSV (with the rejected pairs,
    predicate_modifier Not), or SKOS as Turtle or JSON-LD."""
    concepts = await mapping_service.all_concepts(session)
    mappings = await mapping_service.all_mappings(session)
    if status:
        mappings = [m for m in mappings if m.status == status]
    if format == "json":
        return Response(
            json.dumps(exchange.crosswalk_document(concepts, mappings), ensure_ascii=False),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="crosswalk.json"'},
        )
    if format == "sssom":
        negatives = await suggest_service.all_rejections(session)
        return PlainTextResponse(
            exchange.write_sssom(concepts, mappings, negatives),
            media_type="text/tab-separated-values; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="crosswalk.sssom.tsv"'},
        )
    if format == "jsonld":
        return Response(
            exchange.write_skos(concepts, mappings, rdf_format="json-ld"),
            media_type="application/ld+json",
            headers={"Content-Disposition": 'attachment; filename="crosswalk.jsonld"'},
        )
    return PlainTextResponse(
        exchange.write_skos(concepts, mappings),
        media_type="text/turtle; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="crosswalk.ttl"'},
    )


# --- suggestions -----------------------------------------------------------------------------


@router.get(
    "/crosswalk/suggestions",
    summary="Suggested mappings between two templates",
    response_model=SuggestionsOut,
    response_model_exclude_unset=True,
)
async def list_suggestions(
    session: SessionDep,
    principal: MaybeUser,
    from_: Annotated[str, Query(alias="from", max_length=81, description="CONVENTION:CYCLE")],
    to: Annotated[
        str, Query(max_length=81, description="CONVENTION:CYCLE, or `concepts` for the bank")
    ],
    limit: Annotated[int, Query(ge=1, le=suggest_service.MAX_LIMIT)] = 50,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.3,
    from_version: Annotated[
        str | None, Query(max_length=20, description="Template version (default: newest published)")
    ] = None,
    to_version: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    """Candidate pairs between two templates (or a template and the concepts), best first,
    with their evidence: never approved by being suggested; rejected pairs never come back."""
    return await suggest_service.suggestions(
        session,
        from_ref=from_,
        to_ref=to,
        from_version=from_version,
        to_version=to_version,
        limit=limit,
        min_score=min_score,
        principal=principal,
    )


@router.post(
    "/crosswalk/suggestions/accept",
    summary="Accept a suggested mapping",
    response_model=list[MappingOut],
    status_code=201,
)
async def accept_suggestion(
    body: SuggestionAcceptIn, session: SessionDep, principal: CurrentUser
) -> list[MappingOut]:
    """Accept a suggested pair: the mapping that links it through a concept, checked by the
    mapping rules; approved for admins and the question's secretariat, proposed for reviewers."""
    created = await suggest_service.accept(
        session, principal=principal, body=body.model_dump(mode="json", exclude_none=True)
    )
    return [mapping_out(m) for m in created]


@router.post(
    "/crosswalk/suggestions/reject",
    summary="Reject a suggested mapping",
    response_model=NegativeMappingOut,
    status_code=201,
)
async def reject_suggestion(
    body: SuggestionDecisionIn, session: SessionDep, principal: CurrentUser
) -> dict[str, Any]:
    """Reject a suggested pair: a negative mapping (SSSOM predicate_modifier Not); the pair is
    never suggested again, and rejecting it twice is a conflict."""
    negative = await suggest_service.reject(
        session, principal=principal, body=body.model_dump(mode="json", exclude_none=True)
    )
    return {"id": negative.id, **suggest_service.negative_document(negative)}


@router.get(
    "/crosswalk/rejections",
    summary="List the rejected pairs",
    response_model=PageOut[NegativeMappingOut],
)
async def list_rejections(session: SessionDep, paging: Paging) -> PageOut[NegativeMappingOut]:
    """Rejected pairs (negative mappings), oldest first."""
    page = await suggest_service.list_rejections(session, limit=paging.limit, cursor=paging.cursor)
    return PageOut(
        items=[
            NegativeMappingOut(id=n.id, **suggest_service.negative_document(n)) for n in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/crosswalk/{question_ref}",
    summary="Everything linked to one question",
    response_model=QuestionLinksOut,
)
async def get_question_links(
    question_ref: str,
    session: SessionDep,
    principal: MaybeUser,
    version: Annotated[
        str | None, Query(max_length=20, description="Template version (default: newest published)")
    ] = None,
) -> dict[str, Any]:
    """Everything linked to one question across conventions, with relations and transforms."""
    return await link_service.question_links(
        session, question_ref=question_ref, version=version, principal=principal
    )
