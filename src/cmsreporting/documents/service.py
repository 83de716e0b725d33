"""The document library: upload (streamed to a temporary file, hashed as it is written, stored
by SHA-256 before the row is committed), list, replace, withdraw, download, and the sweep of
stored files no version refers to. Services never commit."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pycountry
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.crosswalk.models import Concept
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.documents import safety
from cmsreporting.documents.models import DOCUMENT_TYPES, Document, DocumentVersion
from cmsreporting.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Party
from cmsreporting.storage import BlobStore

SHA256 = re.compile(r"[0-9a-f]{64}")
BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
LINK_KINDS = ("concepts", "targets", "questions")


# --- who ------------------------------------------------------------------------------------


def can_write(principal: Principal, party: str) -> bool:
    """Admins, the Party's focal points and its contributors write its library."""
    return principal.is_admin or principal.is_focal_point(party) or principal.is_contributor(party)


def can_read(principal: Principal, party: str) -> bool:
    """Those who write a Party's library read it (secretariats do not yet: they will read the
    documents cited in reports submitted to them once answers cite documents)."""
    return can_write(principal, party)


# --- metadata -------------------------------------------------------------------------------


@dataclass
class Meta:
    """The metadata of an upload, as sent (query parameters)."""

    title: str | None = None
    description: str | None = None
    language: str | None = None
    document_date: str | None = None
    type: str | None = None
    file_name: str | None = None
    concepts: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


@dataclass
class CleanMeta:
    title: str
    description: str
    language: str
    document_date: date | None
    type: str
    file_name: str
    links: dict[str, list[str]]


def _err(name: str, detail: str) -> FieldError:
    return FieldError(f"/{name}", detail, parameter=name)


async def check_meta(session: AsyncSession, meta: Meta) -> CleanMeta:
    """The metadata checked (400 naming each bad parameter, before any byte is read)."""
    errors: list[FieldError] = []
    title = (meta.title or "").strip()
    if not title:
        errors.append(_err("title", "a title is required"))
    elif len(title) > 500:
        errors.append(_err("title", "at most 500 characters"))
    description = (meta.description or "").strip()
    if len(description) > 5000:
        errors.append(_err("description", "at most 5000 characters"))
    language = (meta.language or "").strip()
    if not language:
        errors.append(_err("language", "a language is required (ISO 639-1, e.g. en)"))
    elif (
        not re.fullmatch(r"[a-z]{2}", language) or pycountry.languages.get(alpha_2=language) is None
    ):
        errors.append(_err("language", f"{language!r} is not an ISO 639-1 language code"))
    when: date | None = None
    if meta.document_date:
        try:
            when = date.fromisoformat(meta.document_date)
        except ValueError:
            errors.append(_err("document_date", "not a date (YYYY-MM-DD)"))
    if meta.type not in DOCUMENT_TYPES:
        errors.append(_err("type", "one of " + ", ".join(DOCUMENT_TYPES)))
    file_name = safety.clean_file_name(meta.file_name) or ""
    if not file_name:
        errors.append(
            _err(
                "file_name",
                "a file name of at most 255 characters, without path separators, control or "
                "invisible formatting characters",
            )
        )
    links: dict[str, list[str]] = {}
    for kind in LINK_KINDS:
        values: list[str] = getattr(meta, kind)
        for i, value in enumerate(values):
            if not value or len(value) > 200 or BAD_NAME.search(value):
                errors.append(FieldError(f"/{kind}/{i}", "not a reference", parameter=kind))
        links[kind] = sorted(set(values))
    if links["concepts"]:
        known = set(
            (
                await session.scalars(
                    select(col(Concept.key)).where(col(Concept.key).in_(links["concepts"]))
                )
            ).all()
        )
        for i, key in enumerate(meta.concepts):
            if key not in known:
                errors.append(FieldError(f"/concepts/{i}", "no such concept", parameter="concepts"))
    if errors:
        raise InvalidInput("the document's metadata is not valid", errors=errors)
    return CleanMeta(title, description, language, when, str(meta.type), file_name, links)


# --- the file -------------------------------------------------------------------------------


@dataclass
class Received:
    """An uploaded file in a temporary file: its digest and size."""

    path: Path
    sha256: str
    size: int


@contextlib.contextmanager
def temporary_file() -> Iterator[Path]:
    """A temporary file, removed on leaving."""
    handle, name = tempfile.mkstemp(prefix="cmsreporting-upload-")
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


async def receive(stream: AsyncIterator[bytes], target: Path, *, max_bytes: int) -> Received:
    """Write the request body to `target` chunk by chunk, hashing it: never whole in memory.
    413 past `max_bytes`, 400 when empty."""
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        async for chunk in stream:
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise empty_file()
    return Received(target, digest.hexdigest(), size)


def empty_file() -> InvalidInput:
    return InvalidInput(
        "the file is empty", errors=[FieldError("", "an empty file", parameter="file")]
    )


@dataclass(frozen=True)
class Limits:
    """The limits an upload is held to (from the settings)."""

    max_bytes: int
    party_max_bytes: int
    zips: safety.ZipLimits


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"a document may hold at most {max_bytes} bytes",
        errors=[FieldError("", f"larger than {max_bytes} bytes", parameter="file")],
        max_bytes=max_bytes,
    )


async def party_bytes(session: AsyncSession, party: str) -> int:
    """The bytes a Party's library holds: the sizes of all stored versions of its documents."""
    total = await session.scalar(
        select(func.coalesce(func.sum(col(DocumentVersion.size)), 0))
        .join(Document, col(Document.id) == col(DocumentVersion.document_id))
        .where(col(Document.party_iso3) == party)
    )
    return int(total or 0)


async def check_party_room(session: AsyncSession, party: str, adding: int, limits: Limits) -> None:
    """413 naming the per-file or the per-Party limit when `adding` bytes would pass it."""
    if adding > limits.max_bytes:
        raise too_large(limits.max_bytes)
    held = await party_bytes(session, party)
    if held + adding > limits.party_max_bytes:
        raise PayloadTooLarge(
            f"the library of {party} may hold at most {limits.party_max_bytes} bytes; it holds "
            f"{held}",
            errors=[
                FieldError(
                    "",
                    f"{adding} bytes more than the {limits.party_max_bytes - held} left",
                    parameter="file",
                )
            ],
            party_max_bytes=limits.party_max_bytes,
            party_bytes=held,
        )


async def accept_file(
    session: AsyncSession,
    *,
    party: str,
    received: Received,
    claimed: str,
    claim_field: str,
    file_name: str,
    limits: Limits,
) -> str:
    """Check a received file before it is stored: its kind sniffed from its bytes, on the
    allow-list and not contradicting the claimed type (415 naming the field), not a zip bomb
    (422), within the per-file and per-Party limits (413); the media type to store it with."""
    kind = await asyncio.to_thread(
        safety.sniff,
        received.path,
        size=received.size,
        claimed=claimed,
        file_name=file_name,
        claim_field=claim_field,
        zips=limits.zips,
    )
    await check_party_room(session, party, received.size, limits)
    return safety.stored_type(kind, claimed)


def content_disposition(file_name: str) -> str:
    """An attachment header for a file name (RFC 6266, with an ASCII fallback)."""
    from urllib.parse import quote

    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


class RangeNotSatisfiable(DomainError):
    """A byte range that starts past the file's end."""

    status = 416
    slug = "range-not-satisfiable"
    title = "Range not satisfiable"


RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range `Range` asks for, as [start, end); None to send the whole file (no
    header, several ranges, or one this server does not read); 416 for one past the end."""
    if header is None:
        return None
    found = RANGE.fullmatch(header.strip().replace(" ", ""))
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - suffix), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, end


def _unsatisfiable(header: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the file holds {size} bytes",
        errors=[FieldError("", f"{header[:60]} is past the end", parameter="Range")],
        headers={"Content-Range": f"bytes */{size}"},
        size=size,
    )


RISKY_TYPES = ("html", "xml", "javascript", "svg", "ecmascript")


def served_type(media_type: str) -> str:
    """The media type a file is served with: as uploaded, unless a browser could run it."""
    lowered = media_type.lower()
    if any(risky in lowered for risky in RISKY_TYPES) or "/" not in lowered:
        return "application/octet-stream"
    return lowered


# --- reads ----------------------------------------------------------------------------------


async def _party(session: AsyncSession, party: str) -> str:
    code = party.upper()
    if await session.get(Party, code) is None:
        raise NotFound(f"no Party {party!r}")
    return code


async def get_document(
    session: AsyncSession, *, document_id: int, principal: Principal, write: bool = False
) -> Document:
    """A document the caller may read (write); 404 for one they may not read at all."""
    found = await session.get(Document, document_id) if valid_id(document_id) else None
    if found is None or not can_read(principal, found.party_iso3):
        raise NotFound(f"no document {document_id}")
    if write and not can_write(principal, found.party_iso3):
        raise Forbidden("the Party's focal points and contributors write its documents")
    return found


async def versions_of(session: AsyncSession, document_id: int) -> list[DocumentVersion]:
    return list(
        (
            await session.scalars(
                select(DocumentVersion)
                .where(col(DocumentVersion.document_id) == document_id)
                .order_by(col(DocumentVersion.version))
            )
        ).all()
    )


async def version_of(session: AsyncSession, document: Document, version: int) -> DocumentVersion:
    found = await session.scalar(
        select(DocumentVersion).where(
            col(DocumentVersion.document_id) == document.id,
            col(DocumentVersion.version) == version,
        )
    )
    if found is None:
        raise NotFound(f"document {document.id} has no version {version}")
    return found


async def list_documents(
    session: AsyncSession,
    *,
    party: str,
    principal: Principal,
    q: str | None,
    type: str | None,
    withdrawn: bool,
    limit: int,
    cursor: str | None,
) -> Page[Document]:
    """The Party's documents, newest first; `q` keeps those with each of its words in the
    title or the description."""
    code = await _party(session, party)
    if not can_read(principal, code):
        raise Forbidden("the Party's focal points and contributors read its library")
    if type is not None and type not in DOCUMENT_TYPES:
        raise InvalidInput(
            "unknown document type",
            errors=[_err("type", "one of " + ", ".join(DOCUMENT_TYPES))],
        )
    stmt = select(Document).where(col(Document.party_iso3) == code)
    if not withdrawn:
        stmt = stmt.where(col(Document.status) == "active")
    if type is not None:
        stmt = stmt.where(col(Document.type) == type)
    for word in (q or "").lower().split()[:10]:  # every word, in the title or description
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(col(Document.title)).like(pattern, escape="\\"),
                func.lower(col(Document.description)).like(pattern, escape="\\"),
            )
        )
    return await paginate(
        session, stmt, orm_attr(Document.id), limit=limit, cursor=cursor, descending=True
    )


# --- writes ---------------------------------------------------------------------------------


def _snapshot(document: Document, version: DocumentVersion) -> dict[str, Any]:
    return {
        "party": document.party_iso3,
        "title": document.title,
        "type": document.type,
        "version": version.version,
        "sha256": version.sha256,
        "size": version.size,
        "file_name": version.file_name,
    }


async def check_party_write(session: AsyncSession, *, party: str, principal: Principal) -> str:
    """The Party's code, if the caller may write its library (before the upload is read)."""
    code = await _party(session, party)
    if not can_write(principal, code):
        raise Forbidden("the Party's focal points and contributors write its documents")
    return code


async def _new_version(
    session: AsyncSession,
    *,
    document: Document,
    meta: CleanMeta,
    received: Received,
    media_type: str,
    principal: Principal,
    action: str,
    before: dict[str, Any] | None = None,
) -> DocumentVersion:
    """The row of the document's current version (`document.version`), for a received file,
    and its audit record."""
    version = DocumentVersion(
        document_id=document.id,
        version=document.version,
        sha256=received.sha256,
        size=received.size,
        media_type=media_type,
        file_name=meta.file_name,
        created_at=document.updated_at,
        created_by=principal.actor,
    )
    session.add(version)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action=action,
        target_type="document",
        target_id=str(document.id),
        before=before,
        after=_snapshot(document, version),
    )
    return version


async def create_document(
    session: AsyncSession,
    *,
    party: str,
    meta: CleanMeta,
    received: Received,
    media_type: str,
    store: BlobStore,
    principal: Principal,
) -> tuple[Document, DocumentVersion]:
    """A new document from a received file: the file is stored first (once per SHA-256), then
    the rows are added (committed by the caller's request)."""
    await store.put(received.sha256, received.path)
    now = utcnow()
    document = Document(
        party_iso3=party,
        title=meta.title,
        description=meta.description,
        language=meta.language,
        document_date=meta.document_date,
        type=meta.type,
        links=dict(meta.links),
        created_at=now,
        created_by=principal.actor,
        updated_at=now,
        updated_by=principal.actor,
    )
    session.add(document)
    await session.flush()
    version = await _new_version(
        session,
        document=document,
        meta=meta,
        received=received,
        media_type=media_type,
        principal=principal,
        action="document.create",
    )
    return document, version


def check_replaceable(document: Document) -> None:
    """409 for a withdrawn document (before its new file is read)."""
    if document.status != "active":
        raise Conflict("a withdrawn document takes no new version", status_now=document.status)


async def replace_document(
    session: AsyncSession,
    *,
    document: Document,
    meta: CleanMeta,
    received: Received,
    media_type: str,
    store: BlobStore,
    principal: Principal,
) -> DocumentVersion:
    """A new version of a document (the earlier ones are kept), with its metadata replaced."""
    check_replaceable(document)
    before = _snapshot(document, await version_of(session, document, document.version))
    await store.put(received.sha256, received.path)
    now = utcnow()
    document.version += 1
    document.title, document.description = meta.title, meta.description
    document.language, document.document_date = meta.language, meta.document_date
    document.type, document.links = meta.type, dict(meta.links)
    document.updated_at, document.updated_by = now, principal.actor
    version = await _new_version(
        session,
        document=document,
        meta=meta,
        received=received,
        media_type=media_type,
        principal=principal,
        action="document.replace",
        before=before,
    )
    return version


async def withdraw_document(
    session: AsyncSession, *, document: Document, principal: Principal
) -> Document:
    """Withdraw a document (kept with its versions; no longer listed by default)."""
    if document.status == "withdrawn":
        return document
    document.status = "withdrawn"
    document.updated_at, document.updated_by = utcnow(), principal.actor
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="document.withdraw",
        target_type="document",
        target_id=str(document.id),
        before={"status": "active"},
        after={"status": "withdrawn"},
    )
    return document


# --- the sweep ------------------------------------------------------------------------------


async def sweep_blobs(session: AsyncSession, store: BlobStore, *, grace_seconds: float) -> int:
    """Remove the stored files no document version refers to, older than `grace_seconds` (a
    younger one may belong to an upload whose row is not committed yet); how many."""
    stored = [n for n in await store.names(grace_seconds) if SHA256.fullmatch(n)]
    if not stored:
        return 0
    used: set[str] = set()
    for start in range(0, len(stored), 500):
        batch = stored[start : start + 500]
        used |= set(
            (
                await session.scalars(
                    select(col(DocumentVersion.sha256))
                    .where(col(DocumentVersion.sha256).in_(batch))
                    .distinct()
                )
            ).all()
        )
    swept = 0
    for name in stored:
        if name not in used:
            await store.remove(name)
            swept += 1
    return swept
