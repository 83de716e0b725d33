"""A Party's document library: upload (the request body is the file, streamed), list, read,
replace with a new version, withdraw, download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from cmsreporting.auth.deps import CurrentUser, optional_principal, settings_of
from cmsreporting.db import SessionDep
from cmsreporting.documents import service
from cmsreporting.documents.models import Document, DocumentVersion
from cmsreporting.documents.schemas import (
    DocumentDetailOut,
    DocumentLinks,
    DocumentOut,
    DocumentVersionOut,
)
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.storage import BlobStore

router = APIRouter(prefix="/api/v1", tags=["documents"], dependencies=[Depends(optional_principal)])

DocumentId = Annotated[int, Path(openapi_examples={"a document": {"value": 7}})]
Iso3 = Annotated[str, Path(openapi_examples={"Kenya": {"value": "KEN"}})]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes (streamed; its Content-Type is kept as its media type)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def upload_meta(
    title: Annotated[str | None, Query(max_length=1000)] = None,
    description: Annotated[str | None, Query(max_length=10000)] = None,
    language: Annotated[str | None, Query(max_length=20, description="ISO 639-1")] = None,
    document_date: Annotated[str | None, Query(max_length=20, description="YYYY-MM-DD")] = None,
    type: Annotated[
        str | None, Query(max_length=20, description="law, policy_plan, report, data, map, other")
    ] = None,
    file_name: Annotated[str | None, Query(max_length=1000)] = None,
    concepts: Annotated[list[str] | None, Query(max_length=100)] = None,
    targets: Annotated[list[str] | None, Query(max_length=100)] = None,
    questions: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> service.Meta:
    """The metadata of an upload, in query parameters (the body is the file)."""
    return service.Meta(
        title=title,
        description=description,
        language=language,
        document_date=document_date,
        type=type,
        file_name=file_name,
        concepts=concepts or [],
        targets=targets or [],
        questions=questions or [],
    )


UploadMeta = Annotated[service.Meta, Depends(upload_meta)]


def store_of(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.documents
    return store


def version_out(document: Document, v: DocumentVersion) -> DocumentVersionOut:
    return DocumentVersionOut(
        version=v.version,
        sha256=v.sha256,
        size=v.size,
        media_type=v.media_type,
        file_name=v.file_name,
        created_at=v.created_at,
        created_by=v.created_by,
        download=f"/api/v1/documents/{document.id}/versions/{v.version}/download",
    )


def document_out(document: Document, current: DocumentVersion) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        party=document.party_iso3,
        title=document.title,
        description=document.description,
        language=document.language,
        document_date=document.document_date,
        type=document.type,
        links=DocumentLinks(**document.links),
        status=document.status,
        version=document.version,
        current=version_out(document, current),
        created_at=document.created_at,
        created_by=document.created_by,
        updated_at=document.updated_at,
        updated_by=document.updated_by,
    )


async def _detail(session: SessionDep, document: Document) -> DocumentDetailOut:
    versions = await service.versions_of(session, document.id)
    current = next(v for v in versions if v.version == document.version)
    return DocumentDetailOut(
        **document_out(document, current).model_dump(),
        versions=[version_out(document, v) for v in versions],
    )


def _media_type(request: Request) -> str:
    raw = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return raw[:200] or "application/octet-stream"


@router.post(
    "/parties/{iso3}/documents", summary="Upload a document to a Party's library",
    response_model=DocumentDetailOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
)
async def upload_document(
    iso3: Iso3,
    meta: UploadMeta,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentUser,
) -> DocumentDetailOut:
    """Add a document to the Party's library: the body is the file (streamed, hashed, stored
    once per SHA-256), the metadata are query parameters (the Party's focal points and
    contributors; 413 over CMSREPORTING_DOCUMENT_MAX_BYTES)."""
    party = await service.check_party_write(session, party=iso3, principal=principal)
    clean = await service.check_meta(session, meta)
    with service.temporary_file() as path:
        received = await service.receive(
            request.stream(), path, max_bytes=settings_of(request).document_max_bytes
        )
        document, _ = await service.create_document(
            session,
            party=party,
            meta=clean,
            received=received,
            media_type=_media_type(request),
            store=store_of(request),
            principal=principal,
        )
    response.headers["Location"] = f"/api/v1/documents/{document.id}"
    return await _detail(session, document)


@router.get("/parties/{iso3}/documents", summary="List a Party's documents", response_model=PageOut[DocumentOut])
async def list_documents(
    iso3: Iso3,
    session: SessionDep,
    principal: CurrentUser,
    paging: Paging,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in title or description")
    ] = None,
    type: Annotated[str | None, Query(max_length=20)] = None,
    withdrawn: Annotated[bool, Query(description="Include withdrawn documents")] = False,
) -> PageOut[DocumentOut]:
    """The Party's documents, newest first (its focal points and contributors)."""
    page = await service.list_documents(
        session,
        party=iso3,
        principal=principal,
        q=q,
        type=type,
        withdrawn=withdrawn,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    items = []
    for document in page.items:
        current = await service.version_of(session, document, document.version)
        items.append(document_out(document, current))
    return PageOut(items=items, next_cursor=page.next_cursor)


@router.get("/documents/{document_id}", summary="Get a document and its versions", response_model=DocumentDetailOut)
async def get_document(
    document_id: DocumentId, session: SessionDep, principal: CurrentUser
) -> DocumentDetailOut:
    """A document with its versions."""
    document = await service.get_document(session, document_id=document_id, principal=principal)
    return await _detail(session, document)


@router.post(
    "/documents/{document_id}/versions", summary="Upload a new version of a document",
    response_model=DocumentDetailOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
)
async def replace_document(
    document_id: DocumentId,
    meta: UploadMeta,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
) -> DocumentDetailOut:
    """Replace a document with a new version (the body is the file; the metadata, given
    whole again, replace the document's); earlier versions stay downloadable."""
    document = await service.get_document(
        session, document_id=document_id, principal=principal, write=True
    )
    service.check_replaceable(document)
    clean = await service.check_meta(session, meta)
    with service.temporary_file() as path:
        received = await service.receive(
            request.stream(), path, max_bytes=settings_of(request).document_max_bytes
        )
        await service.replace_document(
            session,
            document=document,
            meta=clean,
            received=received,
            media_type=_media_type(request),
            store=store_of(request),
            principal=principal,
        )
    return await _detail(session, document)


@router.post("/documents/{document_id}/withdraw", summary="Withdraw a document", response_model=DocumentDetailOut)
async def withdraw_document(
    document_id: DocumentId, session: SessionDep, principal: CurrentUser
) -> DocumentDetailOut:
    """Withdraw a document: kept with its versions, no longer listed (its Party's focal
    points and contributors)."""
    document = await service.get_document(
        session, document_id=document_id, principal=principal, write=True
    )
    await service.withdraw_document(session, document=document, principal=principal)
    return await _detail(session, document)


@router.get(
    "/documents/{document_id}/versions/{version}/download", summary="Download a version of a document",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file (served with its media type, or as octet-stream)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def download_document(
    document_id: DocumentId,
    version: int,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
) -> StreamingResponse:
    """A version's file, streamed, as an attachment."""
    document = await service.get_document(session, document_id=document_id, principal=principal)
    found = await service.version_of(session, document, version)
    store = store_of(request)
    return StreamingResponse(
        store.chunks(found.sha256),
        media_type=service.served_type(found.media_type),
        headers={
            "Content-Length": str(found.size),
            "Content-Disposition": service.content_disposition(found.file_name),
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{found.sha256}"',
        },
    )
