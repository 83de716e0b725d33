"""Export jobs: start one (after the same checks as a synchronous cycle export), read its state,
run it once to completion however often a worker dies under it, and sweep expired files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.config import Settings
from cmsreporting.db import utcnow, valid_id
from cmsreporting.documents import service as documents_service
from cmsreporting.documents import uploads as documents_uploads
from cmsreporting.errors import DomainError, Forbidden, NotFound
from cmsreporting.exports import service as exports
from cmsreporting.jobs.models import ExportJob
from cmsreporting.logs import request_id_var
from cmsreporting.registry.service import get_cycle
from cmsreporting.storage import Storage, blob_store

log = logging.getLogger(__name__)

ACTOR = "system:jobs"
MAX_RUNS = 5  # runs of one export (a worker that dies under it counts one) before it fails
PROGRESS_SECONDS = 0.5  # how often a running export writes its progress (and so its heartbeat)
STALE_SECONDS = 60.0  # SQLite: a running export not updated for this long was interrupted


@dataclass(frozen=True)
class Runtime:
    """What a job needs: the database, the settings, where files go."""

    factory: async_sessionmaker[AsyncSession]
    settings: Settings
    storage: Storage


class NotYetVisible(Exception):
    """The export's row is not committed yet (the request that queued it is finishing)."""


def file_name(job: ExportJob) -> str:
    """The name of a job's file in the storage."""
    return f"export-{job.id}.{job.params['format']}"


async def create_export(
    session: AsyncSession,
    *,
    principal: Principal,
    cycle_ref: str,
    params: dict[str, Any],
    request_id: str | None,
) -> ExportJob:
    """Queue a cycle export (the same access check as the synchronous export: 404 for an
    unknown cycle, 403 for a caller who may not export it)."""
    plan = await exports.plan_cycle_export(
        session, principal=principal, cycle_ref=cycle_ref, status=params.get("status")
    )
    cycle = await get_cycle(session, ref=plan.cycle_ref)
    job = ExportJob(
        cycle_ref=plan.cycle_ref,
        convention_code=cycle.convention_code,
        params=params,
        only_accepted=plan.only_accepted,
        requested_by=principal.user_id or None,
        request_id=request_id,
        total_parties=plan.parties,
    )
    session.add(job)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="export.queue",
        target_type="export",
        target_id=str(job.id),
        after={"cycle": plan.cycle_ref, **params},
    )
    return job


async def get_export(session: AsyncSession, *, principal: Principal, export_id: int) -> ExportJob:
    """An export job the caller may read: those who may export its cycle (403 otherwise), and
    only in the scope they may read (a reviewer does not see a secretariat's full export: 404)."""
    job = await session.get(ExportJob, export_id) if valid_id(export_id) else None
    if job is None:
        raise NotFound(f"no export {export_id}")
    if not exports.can_export_cycle(principal, job.convention_code):
        raise Forbidden(f"only the {job.convention_code} secretariat reads this export")
    full = principal.is_admin or principal.is_secretariat(job.convention_code)
    if not job.only_accepted and not full:
        raise NotFound(f"no export {export_id}")
    return job


# --- running an export ---------------------------------------------------------------------------


async def _claim(rt: Runtime, export_id: int, stale_before: datetime | None) -> ExportJob | None:
    """Mark the export running for one more run; None when it needs no run (done, failed,
    expired, or, with `stale_before`, still moving in another process)."""
    now = utcnow()
    async with rt.factory() as session, session.begin():
        job = await session.get(ExportJob, export_id)
        if job is None:
            raise NotYetVisible(f"export {export_id} is not visible yet")
        if job.status not in ("queued", "running"):
            return None
        if stale_before is not None and job.status == "running" and job.updated_at > stale_before:
            return None
        if job.attempts >= MAX_RUNS:
            job.status, job.error, job.finished_at = "failed", "interrupted too often", now
            return None
        job.status, job.attempts, job.updated_at = "running", job.attempts + 1, now
        job.started_at = job.started_at or now
        job.done_parties = 0
        return job


async def _set(rt: Runtime, export_id: int, **values: Any) -> int:
    """Update an export's row in a transaction of its own; the rows changed."""
    async with rt.factory() as session, session.begin():
        result = await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == export_id, col(ExportJob.status) == "running")
            .values(updated_at=utcnow(), **values)
        )
        return cast(int, getattr(result, "rowcount", 0))


async def _report_progress(rt: Runtime, export_id: int, done: list[int]) -> None:
    """Write the number of Parties exported so far, twice a second while it changes (the
    update time is the run's heartbeat on SQLite)."""
    written = -1
    while True:
        await asyncio.sleep(PROGRESS_SECONDS)
        if done[0] != written:
            written = done[0]
            await _set(rt, export_id, done_parties=written)


async def _finish(rt: Runtime, job: ExportJob, *, size: int) -> bool:
    """Mark the export done, once: False when another run finished it first."""
    now = utcnow()
    expires = now + timedelta(seconds=rt.settings.export_ttl_seconds)
    async with rt.factory() as session, session.begin():
        result = await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == job.id, col(ExportJob.status) == "running")
            .values(
                status="done",
                done_parties=job.total_parties,
                size=size,
                updated_at=now,
                finished_at=now,
                expires_at=expires,
                error=None,
            )
        )
        if not getattr(result, "rowcount", 0):
            return False
        await record(
            session,
            actor=ACTOR,
            action="export.done",
            target_type="export",
            target_id=str(job.id),
            after={"size": size, "parties": job.total_parties, "runs": job.attempts},
        )
        return True


async def _fail(rt: Runtime, job: ExportJob, error: str) -> None:
    now = utcnow()
    async with rt.factory() as session, session.begin():
        await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == job.id, col(ExportJob.status) == "running")
            .values(status="failed", error=error[:500], updated_at=now, finished_at=now)
        )
        await record(
            session,
            actor=ACTOR,
            action="export.failed",
            target_type="export",
            target_id=str(job.id),
            after={"error": error[:500], "runs": job.attempts},
        )


async def run_export(rt: Runtime, export_id: int, *, stale_before: datetime | None = None) -> None:
    """Build an export's file and mark it done. A refusal (a value Excel cannot hold) fails it
    for good; any other error is raised for the queue to retry, until MAX_RUNS runs."""
    job = await _claim(rt, export_id, stale_before)
    if job is None:
        return
    token = request_id_var.set(job.request_id)
    name = file_name(job)
    params = job.params
    done = [0]
    reporter = asyncio.create_task(_report_progress(rt, job.id, done))
    try:
        log.info(
            "export %s of %s started (run %s)",
            job.id,
            job.cycle_ref,
            job.attempts,
            extra={"event": "export.started", "export_id": job.id, "run": job.attempts},
        )
        async with rt.factory() as session, session.begin():
            cycle = await get_cycle(session, ref=job.cycle_ref)
            plan = await exports.plan_for(
                session, cycle=cycle, status=params.get("status"), only_accepted=job.only_accepted
            )
        job.total_parties = plan.parties
        await _set(rt, job.id, total_parties=plan.parties)

        def moved(parties: int) -> None:
            done[0] = parties

        with rt.storage.open_partial(name) as handle:
            async for chunk in exports.stream_cycle(
                rt.factory,
                plan,
                fmt=params["format"],
                layout=params.get("layout", "long"),
                lang=params.get("lang"),
                as_labels=params.get("values") == "labels",
                guard=params.get("guard", True),
                progress=moved,
            ):
                handle.write(chunk)
        size = await asyncio.to_thread(rt.storage.publish, name)
        reporter.cancel()
        job.filename = exports.export_filename(plan, params["format"], params.get("layout", "long"))
        await _set(rt, job.id, filename=job.filename)
        if await _finish(rt, job, size=size):
            log.info(
                "export %s done: %s Parties, %s bytes",
                job.id,
                plan.parties,
                size,
                extra={"event": "export.done", "export_id": job.id, "size": size},
            )
    except DomainError as exc:
        rt.storage.discard_partial(name)
        await _fail(rt, job, exc.detail)
        log.warning("export %s refused: %s", job.id, exc.detail)
    except BaseException as exc:
        rt.storage.discard_partial(name)
        if job.attempts >= MAX_RUNS and isinstance(exc, Exception):
            await _fail(rt, job, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reporter
        request_id_var.reset(token)


async def interrupted_exports(session: AsyncSession) -> list[int]:
    """Exports queued or running whose row has not moved for STALE_SECONDS (SQLite: their
    process stopped; a starting server runs them again)."""
    cutoff = utcnow() - timedelta(seconds=STALE_SECONDS)
    rows = await session.scalars(
        select(col(ExportJob.id)).where(
            col(ExportJob.status).in_(("queued", "running")), col(ExportJob.updated_at) < cutoff
        )
    )
    return list(rows.all())


def stale_cutoff() -> datetime:
    """The update time before which a running export counts as interrupted."""
    return utcnow() - timedelta(seconds=STALE_SECONDS)


async def sweep_exports(rt: Runtime) -> int:
    """Delete the files of expired exports and mark them expired; how many."""
    now = utcnow()
    async with rt.factory() as session, session.begin():
        jobs = (
            await session.scalars(
                select(ExportJob).where(
                    col(ExportJob.status) == "done", col(ExportJob.expires_at) <= now
                )
            )
        ).all()
        for job in jobs:
            await asyncio.to_thread(rt.storage.delete, file_name(job))
            job.status, job.updated_at = "expired", now
        return len(jobs)


async def sweep_documents(rt: Runtime) -> int:
    """Remove the stored document files no version refers to (past the grace period); how
    many."""
    settings = rt.settings
    store = blob_store(
        settings.document_storage,
        endpoint_url=settings.document_s3_endpoint_url,
        region=settings.document_s3_region,
    )
    async with rt.factory() as session, session.begin():
        # expired resumable uploads first: what they held is not a document
        await documents_uploads.sweep_uploads(
            session,
            documents_uploads.upload_folder(settings),
            grace_seconds=settings.document_sweep_grace_seconds,
        )
    async with rt.factory() as session:
        return await documents_service.sweep_blobs(
            session, store, grace_seconds=settings.document_sweep_grace_seconds
        )


# --- the queue, for /metrics ------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStats:
    """Jobs waiting in one queue and the age of the oldest."""

    queue: str
    depth: int
    oldest_seconds: float


async def queue_stats(session: AsyncSession) -> list[QueueStats]:
    """Waiting jobs: export jobs not started yet, and on PostgreSQL procrastinate's own queue
    (jobs due and not started, by queue)."""
    now = utcnow()
    depth, oldest = (
        await session.execute(
            select(func.count(), func.min(col(ExportJob.created_at))).where(
                col(ExportJob.status) == "queued"
            )
        )
    ).one()
    stats = [QueueStats("exports", int(depth), _age(now, oldest))]
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.execute(
            text(
                "SELECT queue_name, count(*), "
                "EXTRACT(EPOCH FROM now() - min(coalesce(scheduled_at, created_at))) "
                "FROM procrastinate_jobs j JOIN LATERAL (SELECT min(at) AS created_at "
                "FROM procrastinate_events e WHERE e.job_id = j.id) ev ON true "
                "WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now()) "
                "GROUP BY queue_name"
            )
        )
        stats += [
            QueueStats(f"queue:{name}", int(count), float(age or 0)) for name, count, age in rows
        ]
    return stats


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:
        since = since.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - since).total_seconds())
