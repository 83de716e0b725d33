"""Resumable uploads (tus 1.0.0: core, creation, termination): an upload is created with the
document's metadata and its length, its bytes arrive over any number of PATCH requests, each
appended to a partial file at the offset recorded (streamed, never whole in memory), and the
request that brings the last byte checks the file and makes the document (or its new version)
through the library's own service functions. Services never commit."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import ClientDisconnect

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.config import Settings
from cmsreporting.db import utcnow
from cmsreporting.documents import service
from cmsreporting.documents.models import Document, DocumentUpload
from cmsreporting.errors import (
    BadRequest,
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PayloadTooLarge,
)
from cmsreporting.storage import BlobStore

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_TYPE = "application/offset+octet-stream"
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
METADATA_KEYS = (
    "title",
    "description",
    "language",
    "document_date",
    "type",
    "filename",
    "filetype",
    "document",
)


class PreconditionFailed(DomainError):
    """A tus request without `Tus-Resumable: 1.0.0`."""

    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


def check_tus(header: str | None) -> None:
    """412 unless the client speaks tus 1.0.0."""
    if header != TUS_VERSION:
        raise PreconditionFailed(
            f"send Tus-Resumable: {TUS_VERSION}",
            errors=[FieldError("", "unsupported or missing", parameter="Tus-Resumable")],
            headers={"Tus-Version": TUS_VERSION},
        )


def _header_error(name: str, detail: str) -> BadRequest:
    return BadRequest(detail, errors=[FieldError("", detail, parameter=name, **{"in": "header"})])


def parse_int_header(name: str, raw: str | None) -> int:
    """A non-negative integer header (400 naming it)."""
    if raw is None or not raw.isdigit() or len(raw) > 18:
        raise _header_error(name, f"{name} must be a non-negative integer")
    return int(raw)


def parse_metadata(raw: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs (400 naming the header)."""
    found: dict[str, str] = {}
    for pair in (raw or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        if key not in METADATA_KEYS:
            raise _header_error(
                "Upload-Metadata", f"unknown key {key[:40]!r}; known: {', '.join(METADATA_KEYS)}"
            )
        if key in found:
            raise _header_error("Upload-Metadata", f"{key} given twice")
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _header_error("Upload-Metadata", f"{key}: not base64 of UTF-8 text") from None
    return found


def meta_of(fields: dict[str, str]) -> service.Meta:
    """The library's metadata from an upload's."""
    return service.Meta(
        title=fields.get("title"),
        description=fields.get("description"),
        language=fields.get("language"),
        document_date=fields.get("document_date"),
        type=fields.get("type"),
        file_name=fields.get("filename"),
    )


def _dump(meta: service.CleanMeta, filetype: str) -> dict[str, Any]:
    return {
        "title": meta.title,
        "description": meta.description,
        "language": meta.language,
        "document_date": meta.document_date.isoformat() if meta.document_date else None,
        "type": meta.type,
        "file_name": meta.file_name,
        "links": meta.links,
        "filetype": filetype,
    }


def _load(stored: dict[str, Any]) -> service.CleanMeta:
    when = stored.get("document_date")
    return service.CleanMeta(
        title=stored["title"],
        description=stored["description"],
        language=stored["language"],
        document_date=date.fromisoformat(when) if when else None,
        type=stored["type"],
        file_name=stored["file_name"],
        links=stored["links"],
    )


# --- the partial files ----------------------------------------------------------------------


def upload_folder(settings: Settings) -> Path:
    """Where resumable uploads keep their partial files: the setting, else a folder beside a
    folder of documents, else (S3) one in the system's temporary folder."""
    if settings.document_upload_folder:
        return Path(settings.document_upload_folder)
    if settings.document_storage.startswith("s3://"):
        return Path(tempfile.gettempdir()) / "cmsreporting-uploads"
    return Path(settings.document_storage.rstrip("/") + "-uploads")


def partial_file(folder: Path, upload_id: str) -> Path:
    if not UPLOAD_ID.fullmatch(upload_id):
        raise ValueError(f"not an upload id: {upload_id!r}")
    return folder / f"{upload_id}.part"


@dataclass
class Appended:
    """What a PATCH brought: bytes written, and whether the client went away midway."""

    written: int
    cut: bool


async def append(stream: AsyncIterator[bytes], path: Path, *, offset: int, length: int) -> Appended:
    """Write the request body into the partial file at `offset`, chunk by chunk (what was
    there past `offset` is dropped first); 413 past the upload's length. A client that goes
    away midway keeps what arrived (tus: the next HEAD tells it where to resume)."""
    written, cut = 0, False
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        raise NotFound("the upload's partial file is gone; start the upload again") from None
    with handle:
        handle.seek(0, 2)
        if handle.tell() < offset:
            raise Conflict("the upload's partial file is shorter than its offset; start again")
        handle.truncate(offset)
        handle.seek(offset)
        try:
            async for chunk in stream:
                if offset + written + len(chunk) > length:
                    handle.truncate(offset)
                    raise PayloadTooLarge(
                        f"the upload is {length} bytes long (Upload-Length)",
                        errors=[
                            FieldError("", "bytes past Upload-Length", parameter="Upload-Length")
                        ],
                        max_bytes=length,
                    )
                handle.write(chunk)
                written += len(chunk)
        except ClientDisconnect:
            cut = True
        handle.flush()
    return Appended(written, cut)


def _hash(path: Path) -> service.Received:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return service.Received(path, digest.hexdigest(), size)


# --- the uploads ----------------------------------------------------------------------------


def upload_location(upload_id: str) -> str:
    return f"/api/v1/uploads/{upload_id}"


async def create_upload(
    session: AsyncSession,
    *,
    party: str,
    principal: Principal,
    fields: dict[str, str],
    length: int,
    limits: service.Limits,
    ttl_seconds: int,
    folder: Path,
) -> DocumentUpload:
    """A new upload of `length` bytes for the Party's library (a new document, or a new version
    of the document named by the `document` key), its metadata checked now (422 naming each
    field) and its length against the limits (413); its empty partial file made."""
    replaces: Document | None = None
    if "document" in fields:
        raw = fields["document"]
        if not raw.isdigit() or len(raw) > 12:
            raise _header_error("Upload-Metadata", "document: not a document id")
        replaces = await service.get_document(
            session, document_id=int(raw), principal=principal, write=True
        )
        if replaces.party_iso3 != party:
            raise NotFound(f"no document {raw} in the library of {party}")
        service.check_replaceable(replaces)
    clean = await service.check_meta(session, meta_of(fields))
    if length == 0:
        raise service.empty_file()
    await service.check_party_room(session, party, length, limits)
    now = utcnow()
    upload = DocumentUpload(
        id=secrets.token_urlsafe(32),
        party_iso3=party,
        created_by=principal.actor,
        meta=_dump(clean, fields.get("filetype", "")[:200]),
        replaces=replaces.id if replaces else None,
        upload_length=length,
        upload_offset=0,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(upload)
    await session.flush()
    await asyncio.to_thread(_touch, folder, partial_file(folder, upload.id))
    await record(
        session,
        actor=principal.actor,
        action="document.upload",
        target_type="document_upload",
        target_id=upload.id[:12],
        after={"party": party, "length": length, "replaces": upload.replaces},
    )
    return upload


def _touch(folder: Path, path: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path.touch()


async def get_upload(
    session: AsyncSession, *, upload_id: str, principal: Principal
) -> DocumentUpload:
    """An upload of the caller's that has not expired; 404 for any other."""
    found = await session.get(DocumentUpload, upload_id) if UPLOAD_ID.fullmatch(upload_id) else None
    if found is None or found.created_by != principal.actor or found.expires_at <= utcnow():
        raise NotFound(f"no upload {upload_id[:64]}")
    return found


def check_offset(upload: DocumentUpload, offset: int) -> None:
    """409 unless `offset` is where the upload stands (and it is not complete)."""
    if upload.document_id is not None or upload.upload_offset == upload.upload_length:
        raise Conflict("the upload is complete", upload_offset=upload.upload_offset)
    if offset != upload.upload_offset:
        raise Conflict(
            f"the upload stands at offset {upload.upload_offset}, not {offset}",
            errors=[
                FieldError(
                    "",
                    f"expected {upload.upload_offset}",
                    parameter="Upload-Offset",
                    **{"in": "header"},
                )
            ],
            upload_offset=upload.upload_offset,
        )


async def record_offset(
    session: AsyncSession, *, upload: DocumentUpload, was: int, now: int, ttl_seconds: int
) -> None:
    """Move the upload from offset `was` to `now` (409 if another request moved it first)."""
    moved = await session.execute(
        update(DocumentUpload)
        .where(col(DocumentUpload.id) == upload.id, col(DocumentUpload.upload_offset) == was)
        .values(upload_offset=now, expires_at=utcnow() + timedelta(seconds=ttl_seconds))
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 1) != 1:
        raise Conflict("another request moved the upload's offset; HEAD it and resume")
    await session.refresh(upload)


async def complete(
    session: AsyncSession,
    *,
    upload: DocumentUpload,
    path: Path,
    principal: Principal,
    limits: service.Limits,
    store: BlobStore,
) -> Document:
    """Make the document (or its new version) from a complete upload: the file hashed,
    sniffed and checked (415, 422, 413), stored, the rows added by the library's service."""
    received = await asyncio.to_thread(_hash, path)
    if received.size != upload.upload_length:
        raise Conflict("the upload's partial file does not hold Upload-Length bytes")
    meta = _load(upload.meta)
    media_type = await service.accept_file(
        session,
        party=upload.party_iso3,
        received=received,
        claimed=str(upload.meta.get("filetype") or ""),
        claim_field="filetype",
        file_name=meta.file_name,
        limits=limits,
    )
    if upload.replaces is not None:
        document = await service.get_document(
            session, document_id=upload.replaces, principal=principal, write=True
        )
        await service.replace_document(
            session,
            document=document,
            meta=meta,
            received=received,
            media_type=media_type,
            store=store,
            principal=principal,
        )
    else:
        document, _ = await service.create_document(
            session,
            party=upload.party_iso3,
            meta=meta,
            received=received,
            media_type=media_type,
            store=store,
            principal=principal,
        )
    upload.document_id = document.id
    await session.flush()
    return document


async def remove(session: AsyncSession, *, upload_id: str, folder: Path) -> None:
    """Remove an upload: its row and its partial file."""
    await session.execute(delete(DocumentUpload).where(col(DocumentUpload.id) == upload_id))
    await asyncio.to_thread(partial_file(folder, upload_id).unlink, True)


async def terminate(
    session: AsyncSession, *, upload: DocumentUpload, principal: Principal, folder: Path
) -> None:
    """Termination: the upload and what it received are removed."""
    await remove(session, upload_id=upload.id, folder=folder)
    await record(
        session,
        actor=principal.actor,
        action="document.upload.terminate",
        target_type="document_upload",
        target_id=upload.id[:12],
        before={"party": upload.party_iso3, "offset": upload.upload_offset},
    )


async def sweep_uploads(session: AsyncSession, folder: Path, *, grace_seconds: float) -> int:
    """Remove expired uploads with their partial files, and partial files no upload refers to
    older than `grace_seconds`; how many uploads and files."""
    now = utcnow()
    expired = list(
        (
            await session.scalars(
                select(col(DocumentUpload.id)).where(col(DocumentUpload.expires_at) <= now)
            )
        ).all()
    )
    for upload_id in expired:
        await remove(session, upload_id=upload_id, folder=folder)
    files = await asyncio.to_thread(_old_parts, folder, grace_seconds)
    if not files:
        return len(expired)
    known = set(
        (
            await session.scalars(
                select(col(DocumentUpload.id)).where(col(DocumentUpload.id).in_(list(files)))
            )
        ).all()
    )
    orphans = [name for name in files if name not in known]
    for name in orphans:
        await asyncio.to_thread(files[name].unlink, True)
    return len(expired) + len(orphans)


def _old_parts(folder: Path, grace_seconds: float) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    cutoff = time.time() - grace_seconds
    return {
        p.name.removesuffix(".part"): p
        for p in folder.glob("*.part")
        if p.is_file() and p.stat().st_mtime < cutoff
    }
