"""Download one report, or stream all reports of a cycle."""

from __future__ import annotations

import contextlib
import os
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from cmsreporting.auth.deps import CurrentUser, optional_principal
from cmsreporting.db import SessionDep
from cmsreporting.documents.service import content_disposition, served_type
from cmsreporting.exports import service
from cmsreporting.reporting import submissions, workspace_service
from cmsreporting.reporting.schemas import SubmissionStatus

router = APIRouter(prefix="/api/v1", tags=["exports"], dependencies=[Depends(optional_principal)])

Lang = Annotated[str | None, Query(max_length=35, description="Label language")]
Guard = Annotated[
    bool,
    Query(
        description="CSV: text cells that start with = + - @, a tab or a carriage return get a "
        "leading apostrophe, so a spreadsheet shows them rather than running them (numbers are "
        "never changed); `false` writes every cell as it is. Other formats ignore it."
    ),
]


class TemporaryFileResponse(FileResponse):
    """A temporary file sent in chunks (with its length and name), then removed, whether
    the client read it all or went away."""

    chunk_size = service.CHUNK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def download(rendered: service.Rendered, disposition: str) -> Response:
    """The response of a rendered file: its bytes, or its temporary file streamed."""
    if rendered.path is not None:
        return TemporaryFileResponse(
            rendered.path,
            media_type=rendered.media_type,
            filename=rendered.filename,
            content_disposition_type=disposition,
        )
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.filename}"'},
    )


@router.get(
    "/submissions/{submission_id}/export",
    summary="Download a submitted report",
    response_class=Response,
    responses={
        200: {
            "description": "The report as JSON (SubmissionReportOut), CSV, XLSX, HTML or PDF",
            "content": {
                service.MEDIA_TYPES["json"]: {
                    "schema": {"$ref": "#/components/schemas/SubmissionReportOut"}
                },
                service.MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
                service.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                service.MEDIA_TYPES["html"]: {"schema": {"type": "string"}},
                service.MEDIA_TYPES["pdf"]: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def export_submission(
    submission_id: int,
    session: SessionDep,
    principal: CurrentUser,
    format: service.SubmissionFormat = "json",
    lang: Lang = None,
    guard: Guard = True,
) -> Response:
    """One report in its convention's shape: JSON, CSV, XLSX, printable HTML or PDF."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    rendered = await service.render_submission(
        session, submission=submission, fmt=format, lang=lang, guard=guard
    )
    return download(rendered, "inline" if format == "html" else "attachment")


@router.get(
    "/workspaces/{workspace_id}/preview/{cycle_ref}/export",
    summary="Download a draft report (HTML or PDF)",
    response_class=Response,
    responses={
        200: {
            "description": "The draft report, printable: HTML or PDF",
            "content": {
                service.MEDIA_TYPES["html"]: {
                    "schema": {"type": "string"},
                    "example": '<!doctype html>\n<html lang="en">…<dt>Submission</dt>'
                    "<dd>Draft, not submitted, as of 2026-12-03 09:15 UTC</dd>…</html>",
                },
                service.MEDIA_TYPES["pdf"]: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def export_draft(
    workspace_id: int,
    cycle_ref: str,
    session: SessionDep,
    principal: CurrentUser,
    format: service.DraftFormat = "pdf",
    lang: Lang = None,
) -> Response:
    """What one cycle's report would be if submitted now, as the secretariat would file it:
    printable HTML or PDF, marked as a draft with the time it was made."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    rendered = await service.render_draft(
        session, workspace=workspace, cycle_ref=cycle_ref, fmt=format, lang=lang
    )
    return download(rendered, "inline" if format == "html" else "attachment")


BINARY = {"schema": {"type": "string", "format": "binary"}}
SubmissionId = Annotated[int, Path(openapi_examples={"a submission": {"value": 3}})]
CitedId = Annotated[
    int, Path(openapi_examples={"a cited document": {"value": 7}}, description="A document id")
]


@router.get(
    "/submissions/{submission_id}/documents/{document_id}",
    summary="Download a document a submission cites",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file at the version the submission pinned (an attachment, "
            "served with its media type or as octet-stream)",
            "content": {"application/octet-stream": BINARY},
        }
    },
)
async def download_cited_document(
    submission_id: SubmissionId,
    document_id: CitedId,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
) -> StreamingResponse:
    """A document the submission cites, at the version it pinned when submitted (whoever may
    read the submission: the Party, its convention's secretariat, reviewers once accepted)."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    pin = service.pinned(submission, document_id)
    return StreamingResponse(
        request.app.state.documents.chunks(pin["sha256"]),
        media_type=served_type(pin["media_type"]),
        headers={
            "Content-Length": str(pin["size"]),
            "Content-Disposition": content_disposition(pin["file_name"]),
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{pin["sha256"]}"',
        },
    )


@router.get(
    "/submissions/{submission_id}/package",
    summary="Download a submission's package (ZIP)",
    response_class=Response,
    responses={
        200: {
            "description": "A ZIP: report/ (JSON, XLSX, PDF where this server renders PDFs), "
            "documents/ (every cited document at its pinned version) and manifest.json (each "
            "file with its size and SHA-256, and the cited documents)",
            "content": {"application/zip": BINARY},
        }
    },
)
async def download_package(
    submission_id: SubmissionId,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    lang: Lang = None,
) -> Response:
    """A submission's package: the report and every document it cites, in one ZIP (built in a
    temporary file and streamed)."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    path = await service.build_package(
        session, submission=submission, store=request.app.state.documents, lang=lang
    )
    response = TemporaryFileResponse(
        path, media_type="application/zip", filename=service.package_filename(submission)
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# what each cycle format looks like, for the OpenAPI document (the media types are the service's)
CYCLE_EXPORT_CONTENT: dict[str, dict[str, Any]] = {
    "csv": {
        "schema": {"type": "string"},
        "example": "party,question,row,column,value,value_label\nKEN,I(a).3,,,true,Yes\n",
    },
    "jsonl": {
        "schema": {"type": "string"},
        "example": '{"cycle": "CMS:COP15", "party": "KEN", "version": 2, '
        '"status": "accepted", "values": {"I(a).3": true}}\n',
    },
    "xlsx": {"schema": {"type": "string", "format": "binary"}},
}


@router.get(
    "/cycles/{ref}/export",
    summary="Download all reports of a cycle (streamed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "CSV, XLSX, or JSON lines (one Party's report a line)",
            "content": {
                service.MEDIA_TYPES[fmt]: CYCLE_EXPORT_CONTENT[fmt]
                for fmt in get_args(service.CycleFormat)
            },
        }
    },
)
async def export_cycle(
    ref: str,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    format: service.CycleFormat = "csv",
    layout: Annotated[
        service.Layout,
        Query(
            description="CSV: long (a row per value), wide (a row per Party), or documents (a "
            "row per document a report cites and question citing it: party, question, document, "
            "version, title, type, file_name, size, sha256, link to the pinned version)"
        ),
    ] = "long",
    status: SubmissionStatus | None = None,
    values: Annotated[
        Literal["codes", "labels"], Query(description="Wide layouts: option codes or labels")
    ] = "codes",
    lang: Lang = None,
    guard: Guard = True,
) -> StreamingResponse:
    """All Parties' latest reports of a cycle, streamed (a Party at a time, never truncated:
    a failure mid-stream aborts the transfer). Reviewers get accepted reports only."""
    plan = await service.plan_cycle_export(
        session, principal=principal, cycle_ref=ref, status=status.value if status else None
    )
    if format == "xlsx":
        # built within the request, so a report Excel cannot hold is refused with a 4xx
        path = await service.build_cycle_xlsx(
            session, plan, lang=lang, as_labels=values == "labels"
        )
        body = service.file_chunks(path)
    else:
        body = service.stream_cycle(
            request.app.state.session_factory,
            plan,
            fmt=format,
            layout=layout,
            lang=lang,
            as_labels=values == "labels",
            guard=guard,
        )
    filename = service.export_filename(plan, format, layout)
    return StreamingResponse(
        body,
        media_type=service.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Parties": str(plan.parties),
        },
    )
