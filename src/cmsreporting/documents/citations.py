"""What reports need of the library: which documents an answer may cite (the Party's active
ones), and each cited document with its current version (what a preview lists and a
submission pins)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.db import valid_id
from cmsreporting.documents.models import Document, DocumentVersion


def is_document_id(value: Any) -> bool:
    """A value that can name a document (a positive integer, not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and valid_id(value)


async def citable(session: AsyncSession, *, party: str, ids: Iterable[Any]) -> set[int]:
    """Those of `ids` that are active documents of the Party's library."""
    wanted = sorted({i for i in ids if is_document_id(i)})
    if not wanted:
        return set()
    return set(
        (
            await session.scalars(
                select(col(Document.id)).where(
                    col(Document.id).in_(wanted),
                    col(Document.party_iso3) == party,
                    col(Document.status) == "active",
                )
            )
        ).all()
    )


async def current_versions(
    session: AsyncSession, *, party: str, ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """document id -> what a report lists of it, at its current version: document, version,
    title, type, file_name, size, sha256, media_type (documents of the Party only)."""
    wanted = sorted({i for i in ids if is_document_id(i)})
    if not wanted:
        return {}
    rows = await session.execute(
        select(Document, DocumentVersion)
        .join(
            DocumentVersion,
            (col(DocumentVersion.document_id) == col(Document.id))
            & (col(DocumentVersion.version) == col(Document.version)),
        )
        .where(col(Document.id).in_(wanted), col(Document.party_iso3) == party)
    )
    return {
        document.id: {
            "document": document.id,
            "version": version.version,
            "title": document.title,
            "type": document.type,
            "file_name": version.file_name,
            "size": version.size,
            "sha256": version.sha256,
            "media_type": version.media_type,
        }
        for document, version in rows.all()
    }
