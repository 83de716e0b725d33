"""Template documents: import, replace, publish, retire, read."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from cmsreporting.auth.deps import CurrentUser, MaybeUser, caller
from cmsreporting.auth.principal import Principal
from cmsreporting.core import translations as texts
from cmsreporting.core.document import translation_status
from cmsreporting.core.i18n import choose_language, localize
from cmsreporting.core.memo import Memo
from cmsreporting.db import SessionDep
from cmsreporting.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    InvalidInput,
    UnsupportedMediaType,
)
from cmsreporting.middleware import accepts_gzip
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.templates import cache as template_cache
from cmsreporting.templates import service, translations, xlsform
from cmsreporting.templates.models import Template
from cmsreporting.templates.schemas import (
    TEMPLATE_DOCUMENT_REF,
    DocumentFormat,
    PublishReport,
    TemplateDiff,
    TemplateOut,
    TemplateStatus,
    TemplateSummary,
    TranslationReport,
    TranslationStatus,
)
from cmsreporting.templates.translations import PO_MEDIA_TYPE, PO_MEDIA_TYPES
from cmsreporting.templates.xlsform import XLSX_MEDIA_TYPE

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])

TEMPLATE_EXAMPLE: dict[str, Any] = {
    "convention": "CMS",
    "cycle": "COP15",
    "version": "9.0.0",
    "languages": ["en"],
    "title": {"en": "Example"},
    "sections": [
        {
            "id": "I",
            "title": {"en": "Section I"},
            "questions": [{"id": "I.1", "type": "boolean", "text": {"en": "?"}}],
        }
    ],
}

DocumentBody = Annotated[
    dict[str, Any],
    Body(
        description="A template document (schemas/template.schema.json)",
        json_schema_extra={"$ref": TEMPLATE_DOCUMENT_REF},
        openapi_examples={"minimal": {"value": TEMPLATE_EXAMPLE}},
    ),
]


def to_summary(t: Template) -> TemplateSummary:
    """API summary of a template."""
    return TemplateSummary(
        id=t.id,
        convention=t.convention_code,
        cycle=t.cycle.ref,
        version=t.version,
        status=t.status,
        title=t.title,
        languages=t.languages,
        question_count=t.question_count,
        illustrative_sample=t.illustrative_sample,
        created_at=t.created_at,
        created_by=t.created_by,
        published_at=t.published_at,
        retired_at=t.retired_at,
    )


def _authorize_write(principal: Principal, convention: str) -> None:
    if not principal.can_manage_convention(convention):
        raise Forbidden(f"only admins and the {convention} secretariat write its templates")


async def _document_of(request: Request) -> Any:
    """The template document of the body: JSON, or an XLSForm workbook (.xlsx)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type == XLSX_MEDIA_TYPE:
        return await run_in_threadpool(xlsform.import_workbook, raw)
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(f"send application/json or {XLSX_MEDIA_TYPE} (an XLSForm)")
    if not raw.strip():
        raise InvalidInput(
            "the body is empty; send a template document",
            errors=[FieldError("", "a template document is required")],
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(
            "the body is not valid JSON", errors=[FieldError("", str(exc)[:200])]
        ) from None


@router.post(
    "",
    summary="Import a template as a draft (JSON or XLSForm)",
    response_model=TemplateSummary,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A template document (schemas/template.schema.json), or an XLSForm "
            'workbook (README, "XLSForm")',
            "content": {
                "application/json": {
                    "schema": {"$ref": TEMPLATE_DOCUMENT_REF},
                    "examples": {"minimal": {"value": TEMPLATE_EXAMPLE}},
                },
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_template(
    request: Request, session: SessionDep, principal: CurrentUser, response: Response
) -> TemplateSummary:
    """Import a template as a draft (admin or the convention's secretariat): a JSON document,
    or an XLSForm workbook sent as .xlsx."""
    if not (principal.is_admin or principal.secretariat_of):
        raise Forbidden("template writes need the admin role or a secretariat role")
    document = await _document_of(request)
    template = await service.import_template(
        session,
        actor=principal.actor,
        document=document,
        authorize=lambda convention: _authorize_write(principal, convention),
    )
    response.headers["Location"] = f"/api/v1/templates/{template.id}"
    return to_summary(template)


@router.get("", summary="List the templates", response_model=PageOut[TemplateSummary])
async def list_templates(
    session: SessionDep,
    principal: MaybeUser,
    paging: Paging,
    convention: Annotated[str | None, Query(max_length=40)] = None,
    cycle: Annotated[str | None, Query(max_length=81, description="CONVENTION:CYCLE")] = None,
    status: TemplateStatus | None = None,
) -> PageOut[TemplateSummary]:
    """Templates: published ones for everyone, drafts for admins and their secretariat."""
    page = await service.list_templates(
        session,
        principal=principal,
        convention=convention,
        cycle=cycle,
        status=status.value if status else None,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    return PageOut(items=[to_summary(t) for t in page.items], next_cursor=page.next_cursor)


def _content(document: dict[str, Any]) -> dict[str, Any]:
    """The members of TemplateOut that come from a localized document."""
    return {
        "title": document["title"],
        "description": document.get("description"),
        "metadata": document.get("metadata", {}),
        "sections": document["sections"],
    }


def _cached_json(
    request: Request,
    template: service.TemplateHead,
    parts: list[bytes | memoryview],
    hashes: list[str],
    headers: dict[str, str],
) -> Response:
    """A template's JSON (the concatenated `parts`, `hashes` identifying them) with a validator;
    304 when the client holds this very body (`reply`)."""
    status, out, body = reply(
        template,
        parts,
        hashes,
        headers,
        if_none_match=request.headers.get("if-none-match"),
        accept_encoding=request.headers.get("accept-encoding"),
    )
    if status == 304:
        return Response(status_code=304, headers=out)
    return Response(body, media_type="application/json", headers=out)


def reply(
    template: service.TemplateHead,
    parts: list[bytes | memoryview],
    hashes: list[str],
    headers: dict[str, str],
    *,
    if_none_match: str | None,
    accept_encoding: str | None,
) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of a template's JSON: 304 when the client holds this very
    body, else the body, gzip-encoded when the client accepts it.

    Published and retired templates are public and change only in status, which the ETag
    covers; drafts are private to their secretariat and may be replaced. The joined body, its
    ETag and its gzip encoding are kept per process (`_encoded`): a client that accepts gzip
    gets the compressed bytes kept, never compressed again per request (the compression layer
    leaves a response that has a Content-Encoding as it is).
    """
    key = tuple(hashes)
    encoded = _encoded.get(key)
    if encoded is None:
        encoded = _encoded.put(key, EncodedJson.of(b"".join(parts), hashes))
    headers = headers | {
        "ETag": encoded.etag,
        "Cache-Control": "private, no-cache"
        if template.status == "draft"
        else "public, max-age=60, must-revalidate",
    }
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    if if_none_match is not None and (
        if_none_match.strip() == "*"
        or encoded.etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    ):
        return 304, headers, b""
    if encoded.gzipped is not None and accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        return 200, headers, encoded.gzipped
    return 200, headers, encoded.body


GZIP_MINIMUM = 1024  # as the compression layer: smaller bodies travel as they are


@dataclass(frozen=True)
class EncodedJson:
    """A response body as sent: its bytes, its gzip encoding (None when too small to gain),
    and its ETag (the same for both encodings: they carry the same JSON)."""

    body: bytes
    gzipped: bytes | None
    etag: str

    @classmethod
    def of(cls, body: bytes, hashes: list[str]) -> EncodedJson:
        """Encode once: the ETag from the parts' hashes, gzip (level 9, no time stamp)."""
        etag = '"' + hashlib.sha256("|".join(hashes).encode()).hexdigest()[:32] + '"'
        if len(body) < GZIP_MINIMUM:
            return cls(body, None, etag)
        return cls(body, gzip.compress(body, compresslevel=9, mtime=0), etag)


# The last bodies sent (a few hundred kB each with their gzip encoding), by their parts' hashes.
MAX_ENCODED = 32
_encoded: Memo[tuple[str, ...], EncodedJson] = Memo(MAX_ENCODED, name="template_responses")


# The summary part of a template's JSON in one language, by what it is made of (a published
# template's content never changes; its status and dates may).
MAX_SUMMARIES = 512
_summaries: Memo[tuple[Any, ...], tuple[bytes, str]] = Memo(
    MAX_SUMMARIES, name="template_summaries"
)


def _heads(request: Request) -> service.HeadCache | None:
    heads: service.HeadCache | None = getattr(request.app.state, "template_heads", None)
    return heads


def _summary_json(head: service.TemplateHead, lang: str) -> tuple[bytes, str]:
    key = (
        head.id,
        head.digest,
        head.status,
        head.created_at,
        head.created_by,
        head.published_at,
        head.retired_at,
        lang,
    )
    cached = _summaries.get(key)
    if cached is not None:
        return cached
    summary = TemplateSummary(
        id=head.id,
        convention=head.convention_code,
        cycle=head.cycle_ref,
        version=head.version,
        status=head.status,
        title=head.title,
        languages=head.languages,
        question_count=head.question_count,
        illustrative_sample=head.illustrative_sample,
        created_at=head.created_at,
        created_by=head.created_by,
        published_at=head.published_at,
        retired_at=head.retired_at,
    ).model_dump(mode="json", exclude={"title"}) | {"lang": lang}
    start = json.dumps(summary, ensure_ascii=False, separators=(",", ":")).encode()
    return _summaries.put(key, (start, hashlib.sha256(start).hexdigest()))


# The hottest public read: the caller is read only when a token is sent (as every operation
# does, a bad one is refused), without a dependency per request.
# Both reads answer with pre-rendered bytes (a cache with an ETag): the schema is documented,
# not applied to each response.
@router.get(
    "/{template_id}",
    summary="Get a template in one language",
    response_model=None,
    responses={
        200: {"model": TemplateOut, "description": "The template, labels in one language"},
        304: {"description": "Not modified: the client's copy (If-None-Match) is current"},
    },
    openapi_extra={"security": [{"HTTPBearer": []}, {}]},
)
async def get_template(
    template_id: int,
    request: Request,
    session: SessionDep,
    lang: Annotated[str | None, Query(max_length=35, description="Label language")] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    """A template with labels in ?lang= or Accept-Language, else its first language (a
    published template already rendered in this process is answered by `PublishedTemplates`,
    before the router, with the same bytes and headers)."""
    principal = await caller(request, session)
    head = await service.template_head(
        session, template_id=template_id, principal=principal, heads=_heads(request)
    )
    chosen = choose_language(head.languages, lang, accept_language)
    fallback = head.languages[0]
    # the localized content is rendered once per template content and language; the summary
    # (status, dates) is small and read fresh
    content, content_hash = await template_cache.rendered(
        session,
        template_id=head.id,
        digest=head.digest,
        lang=chosen,
        render=lambda document: (
            _content(localize(document, chosen, fallback))
            | {"translations": translation_status(document)}
        ),
    )
    start, start_hash = _summary_json(head, chosen)
    return _cached_json(
        request,
        head,
        [start[:-1], b",", memoryview(content)[1:]],
        [start_hash, content_hash],
        {"Content-Language": chosen, "Vary": "Accept-Language"},
    )


@router.get(
    "/{template_id}/document",
    summary="Download a template document (JSON or XLSForm)",
    response_model=None,
    responses={
        200: {
            "description": "The template document as imported",
            "content": {
                "application/json": {
                    "schema": {"$ref": TEMPLATE_DOCUMENT_REF},
                    "example": TEMPLATE_EXAMPLE,
                },
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        304: {"description": "Not modified: the client's copy (If-None-Match) is current"},
    },
)
async def get_template_document(
    template_id: int,
    request: Request,
    session: SessionDep,
    principal: MaybeUser,
    format: Annotated[
        DocumentFormat, Query(description="json (as imported) or xlsform (an .xlsx workbook)")
    ] = DocumentFormat.json,
) -> Response:
    """The template document as imported, with every language; or as an XLSForm workbook."""
    head = await service.template_head(
        session, template_id=template_id, principal=principal, heads=_heads(request)
    )
    if format is DocumentFormat.xlsform:
        document = await template_cache.document_of(
            session, template_id=head.id, digest=head.digest
        )
        body = await run_in_threadpool(xlsform.write_workbook, document)
        name = f"{head.cycle_ref.replace(':', '_')}_{head.version}.xlsx"
        return Response(
            body,
            media_type=XLSX_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-cache",
            },
        )
    body, body_hash = await template_cache.rendered(
        session, template_id=head.id, digest=head.digest, lang=None, render=lambda doc: doc
    )
    state = head.status + (head.retired_at.isoformat() if head.retired_at else "")
    return _cached_json(request, head, [body], [state, body_hash], {})


@router.get(
    "/{template_id}/diff",
    summary="Compare a template with another version",
    response_model=TemplateDiff,
)
async def get_template_diff(
    template_id: int,
    session: SessionDep,
    principal: MaybeUser,
    against: Annotated[
        int | None,
        Query(description="Template to compare with (default: the previous version of its cycle)"),
    ] = None,
) -> TemplateDiff:
    """Questions added, removed and changed (text, type, options, conditions, checks) from
    `against` to this template; to review a new version before publishing it."""
    before, after, changes = await service.diff(
        session, principal=principal, template_id=template_id, against=against
    )
    return TemplateDiff.model_validate(
        {"from": to_summary(before), "to": to_summary(after), "changes": changes}
    )


PO_EXAMPLE = (
    'msgid ""\nmsgstr ""\n"Project-Id-Version: CMS:COP15 1.0.0\\n"\n"Language: fr\\n"\n'
    '"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    'msgctxt "section:I/question:I.1/text"\nmsgid "Is it covered?"\nmsgstr "Est-ce couvert ?"\n'
)


async def _translatable(
    session: SessionDep, template_id: int, principal: Principal
) -> tuple[Template, dict[str, Any]]:
    """A template the caller may translate (admin or its convention's secretariat)."""
    template = await service.get_template(session, template_id=template_id, principal=principal)
    _authorize_write(principal, template.convention_code)
    return template, template.document


@router.get(
    "/{template_id}/translations",
    summary="How far each language is translated",
    response_model=TranslationReport,
)
async def get_translation_report(
    template_id: int, session: SessionDep, principal: CurrentUser
) -> TranslationReport:
    """Per target language: texts in all, translated, and the contexts of the missing ones and
    of the stale ones (translated from a source text that has changed since)."""
    template, document = await _translatable(session, template_id, principal)
    return TranslationReport(
        template=to_summary(template),
        source_language=document["languages"][0],
        languages=[
            TranslationStatus(
                lang=entry.lang,
                declared=entry.declared,
                total=entry.total,
                translated=entry.translated,
                missing=entry.missing,
                stale=entry.stale,
            )
            for entry in texts.status(document)
        ],
    )


@router.get(
    "/{template_id}/translations/{lang}",
    summary="Download a template's texts for translation (PO)",
    response_model=None,
    response_class=Response,
    responses={
        200: {
            "description": "The template's texts as a gettext PO file for translators",
            "content": {
                PO_MEDIA_TYPE: {
                    "schema": {"type": "string"},
                    "example": PO_EXAMPLE,
                }
            },
        }
    },
)
async def export_translation(
    template_id: int,
    lang: Annotated[str, Path(max_length=35)],
    session: SessionDep,
    principal: CurrentUser,
) -> Response:
    """The template's texts for translation into `lang` (gettext PO): msgctxt the path of the
    text, msgid the source text, msgstr the current translation (fuzzy when stale)."""
    translations.check_language(lang)
    template, document = await _translatable(session, template_id, principal)
    if lang == document["languages"][0]:
        raise InvalidInput(
            f"{lang!r} is the template's source language",
            errors=[FieldError("/lang", "the source language")],
        )
    body = translations.export_po(template, document, lang)
    name = f"{template.cycle.ref.replace(':', '_')}_{template.version}.{lang}.po"
    return Response(
        body,
        media_type=f"{PO_MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-cache",
        },
    )


@router.post(
    "/{template_id}/translations/{lang}",
    summary="Upload a translation (PO) as a new draft",
    response_model=TemplateSummary,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A PO file exported from this template and version, translated",
            "content": {PO_MEDIA_TYPE: {"schema": {"type": "string"}, "example": PO_EXAMPLE}},
        }
    },
)
async def import_translation(
    template_id: int,
    lang: Annotated[str, Path(max_length=35)],
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    response: Response,
    version: Annotated[
        str | None,
        Query(
            max_length=20,
            description="Version of the new draft (default: the next patch version of the cycle)",
        ),
    ] = None,
) -> TemplateSummary:
    """A new draft version of the template carrying the translations of a PO file (the
    language is added to the draft's languages when the template lacks it)."""
    translations.check_language(lang)
    template, _ = await _translatable(session, template_id, principal)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in PO_MEDIA_TYPES:
        raise UnsupportedMediaType(f"send {PO_MEDIA_TYPE} (a PO file)")
    draft = await translations.import_po(
        session,
        actor=principal.actor,
        template=template,
        lang=lang,
        raw=await request.body(),
        version=version,
    )
    response.headers["Location"] = f"/api/v1/templates/{draft.id}"
    return to_summary(draft)


@router.put("/{template_id}", summary="Replace a draft template", response_model=TemplateSummary)
async def replace_draft_template(
    template_id: int, document: DocumentBody, session: SessionDep, principal: CurrentUser
) -> TemplateSummary:
    """Replace a draft's document; published templates are immutable."""
    template = await service.get_template(session, template_id=template_id, principal=principal)
    _authorize_write(principal, template.convention_code)
    template = await service.replace_draft(
        session, actor=principal.actor, template=template, document=document
    )
    return to_summary(template)


@router.post(
    "/{template_id}/publish", summary="Publish a draft template", response_model=PublishReport
)
async def publish_template(
    template_id: int, session: SessionDep, principal: CurrentUser
) -> PublishReport:
    """Freeze a draft: from now on it never changes."""
    template = await service.get_template(session, template_id=template_id, principal=principal)
    _authorize_write(principal, template.convention_code)
    done = await service.publish(session, actor=principal.actor, template=template)
    return PublishReport(
        template=to_summary(done.template),
        replaces=to_summary(done.replaces) if done.replaces else None,
        mappings_carried=done.carry_over.carried if done.carry_over else [],
        mappings_to_review=done.carry_over.needs_review if done.carry_over else [],
    )


@router.post(
    "/{template_id}/retire", summary="Retire a published template", response_model=TemplateSummary
)
async def retire_template(
    template_id: int, request: Request, session: SessionDep, principal: CurrentUser
) -> TemplateSummary:
    """Mark a published template as no longer used."""
    template = await service.get_template(session, template_id=template_id, principal=principal)
    _authorize_write(principal, template.convention_code)
    retired = await service.retire(session, actor=principal.actor, template=template)
    if (heads := _heads(request)) is not None:
        heads.forget(template_id)
    return to_summary(retired)


@router.delete("/{template_id}", summary="Delete a draft template", status_code=204)
async def delete_draft_template(
    template_id: Annotated[int, Path(openapi_examples={"a draft": {"value": 12}})],
    session: SessionDep,
    principal: CurrentUser,
) -> Response:
    """Delete a draft."""
    template = await service.get_template(session, template_id=template_id, principal=principal)
    _authorize_write(principal, template.convention_code)
    await service.delete_draft(session, actor=principal.actor, template=template)
    return Response(status_code=204)


_TEMPLATE_PATH = re.compile(r"/api/v1/templates/([1-9][0-9]{0,17})")
_LANG_QUERY = re.compile(rb"lang=([A-Za-z0-9-]{1,35})")


class PublishedTemplates:
    """The warm path of `GET /api/v1/templates/{id}`, ahead of the router: an anonymous request
    (no Authorization header, no cookie) for a published or retired template whose row and
    rendered JSON this process keeps is answered from them, with the bytes and headers of
    `get_template` (`reply`); anything else goes on to the application unchanged.

    What it skips is what such a request does not need: route matching, dependency resolution,
    parameter models, a database session that would not be used, and the layers with nothing
    to do for it (its path is digits and its query at most `lang=` with letters, digits and
    hyphens: nothing for the body guard; its body is a kept gzip encoding or one the client
    refused). The request keeps its id, log line and metrics (the request context, outside
    it), under the route of `get_template`. Should it fail before answering, the request takes
    the long way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _TEMPLATE_PATH.fullmatch(scope["path"])
            if match is not None:
                try:
                    answer = self._answer(scope, int(match.group(1)))
                except Exception:  # the long way answers (or reports) it
                    log.exception("the kept copy of a template could not be served")
                    answer = None
                if answer is not None:
                    status, headers, body = answer
                    start = {"type": "http.response.start", "status": status, "headers": headers}
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    def _answer(
        self, scope: Scope, template_id: int
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        app = scope.get("app")
        heads = getattr(app.state, "template_heads", None) if app is not None else None
        if heads is None or (head := heads.get(template_id)) is None:
            return None
        query = scope["query_string"]
        lang: str | None = None
        if query:
            found = _LANG_QUERY.fullmatch(query)
            if found is None:
                return None  # other parameters: the router's validation answers
            lang = found.group(1).decode("ascii")
        accept_language = if_none_match = accept_encoding = None
        for name, value in scope["headers"]:
            if name in (b"authorization", b"cookie"):
                return None  # a caller to authenticate
            # the first of a repeated header, as the route reads it
            if name == b"accept-language" and accept_language is None:
                if len(value) > 500:
                    return None
                accept_language = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding" and accept_encoding is None:
                accept_encoding = value.decode("latin-1")
        chosen = choose_language(head.languages, lang, accept_language)
        kept = template_cache.rendered_if_kept(head.id, head.digest, chosen)
        if kept is None:
            return None
        content, content_hash = kept
        start, start_hash = _summary_json(head, chosen)
        status, headers, body = reply(
            head,
            [start[:-1], b",", memoryview(content)[1:]],
            [start_hash, content_hash],
            {"Content-Language": chosen, "Vary": "Accept-Language"},
            if_none_match=if_none_match,
            accept_encoding=accept_encoding,
        )
        if self.route is None:  # the route as declared (the app's own may be wrapped)
            self.route = next(
                (r for r in router.routes if getattr(r, "endpoint", None) is get_template), None
            )
        scope["route"] = self.route
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if status == 200:
            raw += [
                (b"content-length", str(len(body)).encode("ascii")),
                (b"content-type", b"application/json"),
            ]
        return status, raw, body
