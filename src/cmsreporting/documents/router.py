"""A Party's document library: upload (the request body is the file, streamed), list, read,
replace with a new version, withdraw, download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from cmsreporting.auth.deps import CurrentUser, optional_principal, settings_of
from cmsreporting.config import Settings
from cmsreporting.db import SessionDep
from cmsreporting.documents import safety, service, uploads
from cmsreporting.documents.models import Document, DocumentUpload, DocumentVersion
from cmsreporting.documents.schemas import (
    DocumentDetailOut,
    DocumentLinks,
    DocumentOut,
    DocumentVersionOut,
    UploadOut,
)
from cmsreporting.errors import DomainError, FieldError, UnsupportedMediaType
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


def limits_of(settings: Settings) -> service.Limits:
    return service.Limits(
        max_bytes=settings.document_max_bytes,
        party_max_bytes=settings.document_party_max_bytes,
        zips=safety.ZipLimits(settings.document_zip_max_bytes, settings.document_zip_max_ratio),
    )


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


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
    "/parties/{iso3}/documents",
    summary="Upload a document to a Party's library",
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
    limits = limits_of(settings_of(request))
    declared = _declared_length(request)
    if declared:
        await service.check_party_room(session, party, declared, limits)
    await session.commit()  # no transaction (nor SQLite's write lock) while the bytes arrive
    with service.temporary_file() as path:
        received = await service.receive(request.stream(), path, max_bytes=limits.max_bytes)
        media_type = await service.accept_file(
            session,
            party=party,
            received=received,
            claimed=_media_type(request),
            claim_field="Content-Type",
            file_name=clean.file_name,
            limits=limits,
        )
        document, _ = await service.create_document(
            session,
            party=party,
            meta=clean,
            received=received,
            media_type=media_type,
            store=store_of(request),
            principal=principal,
        )
    response.headers["Location"] = f"/api/v1/documents/{document.id}"
    return await _detail(session, document)


@router.get(
    "/parties/{iso3}/documents",
    summary="List a Party's documents",
    response_model=PageOut[DocumentOut],
)
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


@router.get(
    "/documents/{document_id}",
    summary="Get a document and its versions",
    response_model=DocumentDetailOut,
)
async def get_document(
    document_id: DocumentId, session: SessionDep, principal: CurrentUser
) -> DocumentDetailOut:
    """A document with its versions."""
    document = await service.get_document(session, document_id=document_id, principal=principal)
    return await _detail(session, document)


@router.post(
    "/documents/{document_id}/versions",
    summary="Upload a new version of a document",
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
    limits = limits_of(settings_of(request))
    declared = _declared_length(request)
    if declared:
        await service.check_party_room(session, document.party_iso3, declared, limits)
    await session.commit()  # no transaction (nor SQLite's write lock) while the bytes arrive
    with service.temporary_file() as path:
        received = await service.receive(request.stream(), path, max_bytes=limits.max_bytes)
        await session.refresh(document)  # as it is now (withdrawn meanwhile: 409)
        media_type = await service.accept_file(
            session,
            party=document.party_iso3,
            received=received,
            claimed=_media_type(request),
            claim_field="Content-Type",
            file_name=clean.file_name,
            limits=limits,
        )
        await service.replace_document(
            session,
            document=document,
            meta=clean,
            received=received,
            media_type=media_type,
            store=store_of(request),
            principal=principal,
        )
    return await _detail(session, document)


@router.post(
    "/documents/{document_id}/withdraw",
    summary="Withdraw a document",
    response_model=DocumentDetailOut,
)
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
    "/documents/{document_id}/versions/{version}/download",
    summary="Download a version of a document",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file (served with its media type, or as octet-stream)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        206: {
            "description": "The byte range asked for (Range: bytes=START-END)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
    },
)
async def download_document(
    document_id: DocumentId,
    version: int,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    range: Annotated[
        str | None,
        Header(max_length=200, description="One byte range, e.g. bytes=0-1023 (206)"),
    ] = None,
) -> StreamingResponse:
    """A version's file, streamed, as an attachment; one byte range of it with `Range`
    (206; 416 for a range past its end)."""
    document = await service.get_document(session, document_id=document_id, principal=principal)
    found = await service.version_of(session, document, version)
    store = store_of(request)
    etag = f'"{found.sha256}"'
    headers = {
        "Content-Disposition": service.content_disposition(found.file_name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": etag,
        "Accept-Ranges": "bytes",
    }
    if_range = request.headers.get("if-range")
    wanted = service.byte_range(range, found.size) if if_range in (None, etag) else None
    if wanted is None:
        return StreamingResponse(
            store.chunks(found.sha256),
            media_type=service.served_type(found.media_type),
            headers=headers | {"Content-Length": str(found.size)},
        )
    start, end = wanted
    return StreamingResponse(
        store.chunks(found.sha256, start, end),
        status_code=206,
        media_type=service.served_type(found.media_type),
        headers=headers
        | {
            "Content-Length": str(end - start),
            "Content-Range": f"bytes {start}-{end - 1}/{found.size}",
        },
    )


# --- resumable uploads (tus 1.0.0: core, creation, termination) -----------------------------

UploadId = Annotated[str, Path(max_length=64, openapi_examples={"an upload": {"value": "q3Zk…"}})]


def _tus_headers() -> dict[str, str]:
    return {"Tus-Resumable": uploads.TUS_VERSION, "Cache-Control": "no-store"}


@router.options(
    "/uploads", summary="What resumable uploads support", status_code=204, response_class=Response
)
async def upload_options(request: Request) -> Response:
    """What the server's tus endpoint supports (tus 1.0.0: creation and termination)."""
    settings = settings_of(request)
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": uploads.TUS_VERSION,
            "Tus-Version": uploads.TUS_VERSION,
            "Tus-Extension": uploads.TUS_EXTENSIONS,
            "Tus-Max-Size": str(settings.document_max_bytes),
        },
    )


def upload_out(upload: DocumentUpload) -> UploadOut:
    return UploadOut(
        id=upload.id,
        offset=upload.upload_offset,
        length=upload.upload_length,
        party=upload.party_iso3,
        document=upload.document_id,
    )


@router.post(
    "/parties/{iso3}/uploads",
    summary="Start a resumable upload",
    status_code=201,
    response_model=UploadOut,
)
async def create_upload(
    iso3: Iso3,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentUser,
    tus_resumable: Annotated[str | None, Header(max_length=20)] = None,
    upload_length: Annotated[str | None, Header(max_length=20)] = None,
    upload_metadata: Annotated[
        str | None,
        Header(
            max_length=20000,
            description=(
                "Comma-separated `key base64(value)`: title, description, language, "
                "document_date, type, filename, filetype (the claimed media type), "
                "document (a document of the Party's: the upload becomes its new version)"
            ),
        ),
    ] = None,
) -> UploadOut:
    """Start a resumable upload to the Party's library (tus creation): its metadata and
    length are checked now (422, 413); its bytes follow by PATCH to the Location."""
    uploads.check_tus(tus_resumable)
    party = await service.check_party_write(session, party=iso3, principal=principal)
    length = uploads.parse_int_header("Upload-Length", upload_length)
    fields = uploads.parse_metadata(upload_metadata)
    settings = settings_of(request)
    upload = await uploads.create_upload(
        session,
        party=party,
        principal=principal,
        fields=fields,
        length=length,
        limits=limits_of(settings),
        ttl_seconds=settings.document_upload_ttl_seconds,
        folder=uploads.upload_folder(settings),
    )
    response.headers.update(
        _tus_headers() | {"Location": uploads.upload_location(upload.id), "Upload-Offset": "0"}
    )
    return upload_out(upload)


@router.head(
    "/uploads/{upload_id}",
    summary="Where a resumable upload stands",
    status_code=200,
    response_class=Response,
)
async def head_upload(
    upload_id: UploadId, request: Request, session: SessionDep, principal: CurrentUser
) -> Response:
    """Where an upload stands: Upload-Offset of Upload-Length (the creator only)."""
    upload = await uploads.get_upload(session, upload_id=upload_id, principal=principal)
    return Response(
        status_code=200,
        headers=_tus_headers()
        | {
            "Upload-Offset": str(upload.upload_offset),
            "Upload-Length": str(upload.upload_length),
        },
    )


@router.get("/uploads/{upload_id}", summary="Get a resumable upload", response_model=UploadOut)
async def get_upload(
    upload_id: UploadId, response: Response, session: SessionDep, principal: CurrentUser
) -> UploadOut:
    """An upload: where it stands, and its document once complete (the creator only)."""
    upload = await uploads.get_upload(session, upload_id=upload_id, principal=principal)
    response.headers["Cache-Control"] = "no-store"
    return upload_out(upload)


OFFSET_BODY = {
    "requestBody": {
        "required": True,
        "description": "The upload's next bytes, from Upload-Offset",
        "content": {uploads.OFFSET_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.patch(
    "/uploads/{upload_id}",
    summary="Send bytes of a resumable upload",
    status_code=204,
    response_class=Response,
    openapi_extra=OFFSET_BODY,
    responses={204: {"description": "Taken; the new offset in Upload-Offset", "content": {}}},
)
async def patch_upload(
    upload_id: UploadId,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    tus_resumable: Annotated[str | None, Header(max_length=20)] = None,
    upload_offset: Annotated[str | None, Header(max_length=20)] = None,
) -> Response:
    """Append bytes to an upload at its offset (409 at any other); the request that brings
    the last byte checks the whole file and makes the document or its new version (a refusal
    then discards the upload). The request's transaction ends before the body is read, so an
    upload holds no database connection while its bytes arrive; the new offset (and the
    document) are written in a second one."""
    uploads.check_tus(tus_resumable)
    settings = settings_of(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != uploads.OFFSET_TYPE:
        raise UnsupportedMediaType(
            f"send the bytes as {uploads.OFFSET_TYPE}",
            errors=[FieldError("", "unsupported", parameter="Content-Type", **{"in": "header"})],
        )
    offset = uploads.parse_int_header("Upload-Offset", upload_offset)
    upload = await uploads.get_upload(session, upload_id=upload_id, principal=principal)
    uploads.check_offset(upload, offset)
    length = upload.upload_length
    await session.commit()  # no transaction (nor SQLite's write lock) while the bytes arrive
    folder = uploads.upload_folder(settings)
    path = uploads.partial_file(folder, upload.id)
    appended = await uploads.append(request.stream(), path, offset=offset, length=length)
    now = offset + appended.written
    await uploads.record_offset(
        session,
        upload=upload,
        was=offset,
        now=now,
        ttl_seconds=settings.document_upload_ttl_seconds,
    )
    if now == length:  # the last byte arrived (even if the client went away after it)
        try:
            await uploads.complete(
                session,
                upload=upload,
                path=path,
                principal=principal,
                limits=limits_of(settings),
                store=store_of(request),
            )
        except DomainError as refusal:
            await session.rollback()
            await uploads.remove(session, upload_id=upload_id, folder=folder)
            refusal.keep_changes = True  # the refused upload is discarded, the refusal stands
            raise
        # the partial file goes once the document's rows are committed (a failed commit
        # leaves it to the sweep, with its upload)
        done = BackgroundTask(path.unlink, missing_ok=True)
        return Response(
            status_code=204,
            headers=_tus_headers() | {"Upload-Offset": str(now)},
            background=done,
        )
    return Response(status_code=204, headers=_tus_headers() | {"Upload-Offset": str(now)})


@router.delete(
    "/uploads/{upload_id}",
    summary="Cancel a resumable upload",
    status_code=204,
    response_class=Response,
)
async def delete_upload(
    upload_id: UploadId, request: Request, session: SessionDep, principal: CurrentUser
) -> Response:
    """Terminate an upload: it and what it received are removed (the creator only)."""
    upload = await uploads.get_upload(session, upload_id=upload_id, principal=principal)
    await uploads.terminate(
        session,
        upload=upload,
        principal=principal,
        folder=uploads.upload_folder(settings_of(request)),
    )
    return Response(status_code=204, headers=_tus_headers())
