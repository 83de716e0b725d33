"""A per-process cache of template documents, their question indexes and their rendered JSON.

A template's content is identified by its digest: a published template never changes, and a
replaced draft gets a new digest, so an entry keyed by (id, digest) can never be stale. The cache
saves parsing a large document (the CBD template is about 200 kB of JSON) on every request, and
localizing and serializing it again for every GET of the template (`rendered`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from cmsreporting.core.document import iter_questions
from cmsreporting.core.memo import Memo
from cmsreporting.templates.models import Template

MAX_ENTRIES = 64
MAX_RENDERED = 128

_entries: Memo[tuple[int, str], tuple[dict[str, Any], dict[str, dict[str, Any]]]] = Memo(
    MAX_ENTRIES, name="template_documents"
)
_rendered: Memo[tuple[int, str, str | None], tuple[bytes, str]] = Memo(
    MAX_RENDERED, name="template_json"
)


def _remember(
    key: tuple[int, str], document: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    return _entries.put(key, (document, {q["id"]: q for _, q in iter_questions(document)}))


def _lookup(key: tuple[int, str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    return _entries.get(key)


async def _content(
    session: AsyncSession, template_id: int, digest: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The document and question index of a template's content, read only if not cached."""
    key = (template_id, digest)
    entry = _lookup(key)
    if entry is None:
        document = await session.scalar(
            select(col(Template.document)).where(col(Template.id) == template_id)
        )
        entry = _remember(key, document or {"sections": []})
    return entry


async def document_of(session: AsyncSession, *, template_id: int, digest: str) -> dict[str, Any]:
    """The document of the template with this id and digest, read only if not cached."""
    return (await _content(session, template_id, digest))[0]


async def load_document(session: AsyncSession, template: Template) -> dict[str, Any]:
    """Give a template whose document was deferred its document, from the cache if possible."""
    document = (await _content(session, template.id, template.digest))[0]
    set_committed_value(template, "document", document)
    return document


async def questions_of(
    session: AsyncSession, *, template_id: int, digest: str
) -> dict[str, dict[str, Any]]:
    """The questions by id of the template with this id and digest, read only if not cached."""
    return (await _content(session, template_id, digest))[1]


def questions(template: Template) -> dict[str, dict[str, Any]]:
    """The questions of a template (its document loaded) by id."""
    key = (template.id, template.digest)
    entry = _lookup(key)
    if entry is None or entry[0] is not template.document:
        entry = _remember(key, template.document)
    return entry[1]


async def rendered(
    session: AsyncSession,
    *,
    template_id: int,
    digest: str,
    lang: str | None,
    render: Callable[[dict[str, Any]], Any],
) -> tuple[bytes, str]:
    """`render(document)` serialized as compact JSON, and the SHA-256 of those bytes, computed
    once per template content and language (the document read only if not cached)."""
    key = (template_id, digest, lang)
    entry = _rendered.get(key)
    if entry is not None:
        return entry
    document, _ = await _content(session, template_id, digest)
    body = json.dumps(
        render(document), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()
    return _rendered.put(key, (body, hashlib.sha256(body).hexdigest()))


def rendered_if_kept(template_id: int, digest: str, lang: str | None) -> tuple[bytes, str] | None:
    """What `rendered` returned for this content and language, if this process still keeps it."""
    return _rendered.get((template_id, digest, lang))
