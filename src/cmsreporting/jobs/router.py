"""Cycle exports as background jobs: start one, follow it, download its file."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import StreamingResponse

from cmsreporting.auth.deps import CurrentUser, optional_principal
from cmsreporting.db import SessionDep, utcnow
from cmsreporting.errors import Conflict, Gone
from cmsreporting.exports.router import CYCLE_EXPORT_CONTENT
from cmsreporting.exports.service import MEDIA_TYPES
from cmsreporting.jobs import service
from cmsreporting.jobs.models import ExportJob
from cmsreporting.jobs.schemas import (
    DownloadOut,
    ExportJobIn,
    ExportJobOut,
    ExportStatus,
    ProgressOut,
)
from cmsreporting.logs import request_id_var
from cmsreporting.storage import Storage

router = APIRouter(prefix="/api/v1", tags=["exports"], dependencies=[Depends(optional_principal)])


def _href(job: ExportJob) -> str:
    return f"/api/v1/exports/{job.id}"


def _out(job: ExportJob) -> ExportJobOut:
    now = utcnow()
    download = None
    if job.status == "done" and job.expires_at is not None and job.expires_at > now:
        download = DownloadOut(
            href=_href(job) + "/download",
            filename=job.filename,
            size=job.size,
            expires_at=job.expires_at,
        )
    expired = job.status == "done" and download is None
    return ExportJobOut(
        id=job.id,
        cycle=job.cycle_ref,
        format=job.params["format"],
        options=job.params,
        status="expired" if expired else cast(ExportStatus, job.status),
        progress=ProgressOut(done=job.done_parties, total=job.total_parties),
        runs=job.attempts,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        download=download,
    )


@router.post(
    "/cycles/{ref}/exports",
    summary="Start a background export of a cycle",
    status_code=202,
    response_model=ExportJobOut,
    responses={202: {"description": "Queued; `Location` names the job to follow"}},
)
async def start_cycle_export(
    ref: str,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentUser,
    body: Annotated[ExportJobIn | None, Body()] = None,
) -> ExportJobOut:
    """Export all Parties' latest reports of a cycle in the background (CSV, XLSX or JSON
    lines, the options of `GET /cycles/{ref}/export`); the same access as that export."""
    params = (body or ExportJobIn()).model_dump(mode="json")
    job = await service.create_export(
        session,
        principal=principal,
        cycle_ref=ref,
        params=params,
        request_id=request_id_var.get(),
    )
    await request.app.state.jobs.defer_export(job.id)
    response.headers["Location"] = _href(job)
    return _out(job)


@router.get(
    "/exports/{export_id}", summary="Follow a background export", response_model=ExportJobOut
)
async def get_cycle_export(
    export_id: int, session: SessionDep, principal: CurrentUser
) -> ExportJobOut:
    """An export job: status (`queued`, `running`, `done`, `failed`, `expired`), progress,
    and once done its download link until it expires."""
    return _out(await service.get_export(session, principal=principal, export_id=export_id))


@router.get(
    "/exports/{export_id}/download",
    summary="Download a finished export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export's file",
            "content": {
                MEDIA_TYPES[fmt]: CYCLE_EXPORT_CONTENT[fmt] for fmt in CYCLE_EXPORT_CONTENT
            },
        }
    },
)
async def download_cycle_export(
    export_id: int, request: Request, session: SessionDep, principal: CurrentUser
) -> StreamingResponse:
    """The file of a finished export (409 while it runs, 410 once expired)."""
    job = await service.get_export(session, principal=principal, export_id=export_id)
    storage: Storage = request.app.state.storage
    name = service.file_name(job)
    out = _out(job)
    if out.status == "expired" or (out.status == "done" and not storage.exists(name)):
        raise Gone(f"export {export_id} has expired; start a new one")
    if out.status != "done":
        raise Conflict(f"export {export_id} is {out.status}", status=out.status)
    return StreamingResponse(
        storage.chunks(name),
        media_type=MEDIA_TYPES[job.params["format"]],
        headers={"Content-Disposition": f'attachment; filename="{job.filename}"'},
    )
