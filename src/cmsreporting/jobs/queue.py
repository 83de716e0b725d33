"""The job queue: procrastinate's, in PostgreSQL, run by `cmsreporting worker` processes; on the
embedded SQLite default, exports run in the server's own process and the periodic jobs in
`cmsreporting worker`'s loop.

Tasks (namespace `cmsreporting`): `export` (a cycle export, retried when it fails or its
worker dies), and the periodic `deliver_mail` (every minute), `queue_reminders` (daily at
06:00 UTC), `sweep_exports` (every 15 minutes; it also removes the document files no row
refers to) and `retry_stalled` (every minute: the running jobs of a worker that stopped
sending heartbeats go back to the queue). Each periodic job is deferred once per tick
whatever the number of workers (procrastinate records each tick), and each is safe to run in
several processes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date
from typing import Any, Protocol

import procrastinate
from procrastinate import JobContext, RetryStrategy
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cmsreporting.db import utcnow
from cmsreporting.jobs import service
from cmsreporting.jobs.service import Runtime
from cmsreporting.mail import outbox
from cmsreporting.reporting import reminders

log = logging.getLogger(__name__)

NAMESPACE = "cmsreporting"
EXPORT_TASK = f"{NAMESPACE}:export"
EXPORTS_QUEUE = "exports"


def _runtime(context: JobContext) -> Runtime:
    runtime = (context.additional_context or {}).get("runtime")
    if not isinstance(runtime, Runtime):
        raise RuntimeError("the worker was started without the service's runtime")
    return runtime


async def queue_todays_reminders(rt: Runtime, today: date | None = None) -> int:
    """Queue the deadline reminders due today (each once, however often this runs)."""
    async with rt.factory() as session, session.begin():
        due = await reminders.due_today(
            session, today=today or utcnow().date(), schedule=rt.settings.reminder_days
        )
        return await reminders.queue(session, due)


async def retry_stalled_jobs(app: procrastinate.App, stalled_seconds: float) -> int:
    """Put back in the queue the running jobs of workers silent for `stalled_seconds`."""
    await app.job_manager.prune_stalled_workers(stalled_seconds)
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds))
    for job in stalled:
        log.warning(
            "job %s (%s) was running on a worker that stopped; queued again",
            job.id,
            job.task_name,
            extra={"event": "job.retried", "job_id": job.id, "task": job.task_name},
        )
        await app.job_manager.retry_job(job)
    return len(stalled)


def tasks() -> procrastinate.Blueprint:
    """The service's tasks, on a new blueprint (an app takes its tasks over and renames them,
    so each app gets its own)."""
    bp = procrastinate.Blueprint()

    @bp.task(
        name="export",
        queue=EXPORTS_QUEUE,
        pass_context=True,
        retry=RetryStrategy(max_attempts=service.MAX_RUNS, wait=2),
    )
    async def export(context: JobContext, export_id: int) -> None:
        """Run one cycle export to its file."""
        await service.run_export(_runtime(context), export_id)

    @bp.periodic(cron="* * * * *")
    @bp.task(name="deliver_mail", queue="mail", queueing_lock="deliver_mail", pass_context=True)
    async def deliver_mail(context: JobContext, timestamp: int) -> None:
        """Send the e-mail that is due from the outbox."""
        rt = _runtime(context)
        done = await outbox.send_pending(rt.factory, rt.settings)
        if done.sent or done.retrying or done.failed:
            log.info(
                "mail: sent %s, to retry %s, failed %s",
                len(done.sent),
                len(done.retrying),
                len(done.failed),
            )

    @bp.periodic(cron="0 6 * * *")
    @bp.task(
        name="queue_reminders", queue="mail", queueing_lock="queue_reminders", pass_context=True
    )
    async def queue_reminders(context: JobContext, timestamp: int) -> None:
        """Queue today's deadline reminders."""
        queued = await queue_todays_reminders(_runtime(context))
        log.info("queued %s deadline reminder(s)", queued)

    @bp.periodic(cron="*/15 * * * *")
    @bp.task(name="sweep_exports", queueing_lock="sweep_exports", pass_context=True)
    async def sweep_exports(context: JobContext, timestamp: int) -> None:
        """Delete the files of expired exports, and the document files no row refers to."""
        swept = await service.sweep_exports(_runtime(context))
        if swept:
            log.info("deleted %s expired export file(s)", swept)
        orphans = await service.sweep_documents(_runtime(context))
        if orphans:
            log.info("deleted %s document file(s) no version refers to", orphans)

    @bp.periodic(cron="* * * * *")
    @bp.task(name="retry_stalled", queueing_lock="retry_stalled", pass_context=True)
    async def retry_stalled(context: JobContext, timestamp: int) -> None:
        """Retry the jobs of workers that died."""
        await retry_stalled_jobs(context.app, _runtime(context).settings.worker_stalled_seconds)

    return bp


def conninfo(database_url: str) -> str:
    """The libpq connection string of a postgresql+asyncpg:// URL (for psycopg)."""
    url = make_url(database_url)
    query = dict(url.query)
    if "ssl" in query and "sslmode" not in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


def build_app(database_url: str, *, max_connections: int = 4) -> procrastinate.App:
    """A procrastinate app on the service's PostgreSQL database with the service's tasks."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url), min_size=1, max_size=max_connections
    )
    app = procrastinate.App(connector=connector)
    app.add_tasks_from(tasks(), namespace=NAMESPACE)
    return app


class JobQueue(Protocol):
    """Where a request hands work over."""

    async def defer_export(self, export_id: int) -> None:
        """Run this export job soon (the row may not be committed yet)."""
        ...

    async def close(self) -> None:
        """Stop taking work (in-process: cancel what runs; it is resumed at the next start)."""
        ...


class ProcrastinateQueue:
    """Jobs deferred to procrastinate's queue in PostgreSQL; `cmsreporting worker` runs them."""

    def __init__(self, app: procrastinate.App, pool: AsyncConnectionPool) -> None:
        self.app = app
        self.pool = pool

    @classmethod
    async def open(cls, database_url: str) -> ProcrastinateQueue:
        """Without connecting yet: a server whose database is down starts, and reports not
        ready, rather than failing."""
        pool = AsyncConnectionPool(
            conninfo(database_url),
            min_size=0,
            max_size=2,
            open=False,
            check=AsyncConnectionPool.check_connection,
        )
        await pool.open(wait=False)
        app = build_app(database_url)
        await app.open_async(pool=pool)
        return cls(app, pool)

    async def defer_export(self, export_id: int) -> None:
        await self.app.configure_task(EXPORT_TASK).defer_async(export_id=export_id)

    async def close(self) -> None:
        await self.app.close_async()
        await self.pool.close()


class InProcessQueue:
    """Exports run as tasks of the server's own event loop (SQLite: one machine, no queue)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Run again the exports an earlier process left unfinished."""
        try:
            async with self.rt.factory() as session:
                interrupted = await service.interrupted_exports(session)
        except DBAPIError:  # a database behind the code (not ready) has no export jobs yet
            log.warning("unfinished exports not resumed: the database is not migrated")
            return
        for export_id in interrupted:
            self._spawn(export_id, resume=True)

    def _spawn(self, export_id: int, *, resume: bool = False) -> None:
        task = asyncio.create_task(self._run(export_id, resume=resume))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run(self, export_id: int, *, resume: bool) -> None:
        for _ in range(200):  # the request that queued it commits within moments
            try:
                await service.run_export(
                    self.rt, export_id, stale_before=service.stale_cutoff() if resume else None
                )
                return
            except service.NotYetVisible:
                await asyncio.sleep(0.1)
            except Exception:
                log.exception("export %s failed; running it again", export_id)
                await asyncio.sleep(1)

    async def defer_export(self, export_id: int) -> None:
        self._spawn(export_id)

    async def close(self) -> None:
        for task in list(self.running):
            task.cancel()
        for task in list(self.running):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def open_queue(rt: Runtime) -> JobQueue:
    """The queue of the configured database."""
    if rt.settings.database_url.startswith("postgresql"):
        return await ProcrastinateQueue.open(rt.settings.database_url)
    queue = InProcessQueue(rt)
    await queue.start()
    return queue


async def run_worker(rt: Runtime, *, name: str | None = None, wait: bool = True) -> None:
    """Run jobs until stopped (SIGINT, SIGTERM; `wait=False`: until the queue is empty).

    PostgreSQL: procrastinate's worker; at start it puts back the jobs of dead workers. SQLite:
    the periodic jobs in a loop (exports run in the server's process there)."""
    settings = rt.settings
    if not settings.database_url.startswith("postgresql"):
        await _sqlite_loop(rt, wait=wait)
        return
    app = build_app(settings.database_url, max_connections=settings.worker_concurrency + 2)
    async with app.open_async():
        await retry_stalled_jobs(app, settings.worker_stalled_seconds)
        options: dict[str, Any] = {
            "concurrency": settings.worker_concurrency,
            "additional_context": {"runtime": rt},
            "update_heartbeat_interval": settings.worker_heartbeat_seconds,
            "stalled_worker_timeout": settings.worker_stalled_seconds,
            "delete_jobs": "successful",
            "wait": wait,
            "install_signal_handlers": wait,
        }
        if name:
            options["name"] = name
        log.info("worker started", extra={"event": "worker.started"})
        await app.run_worker_async(**options)


async def _sqlite_loop(rt: Runtime, *, wait: bool) -> None:
    """SQLite: mail every minute, reminders and the export sweep every 15 minutes."""
    tick = 0
    while True:
        try:
            await outbox.send_pending(rt.factory, rt.settings)
            if tick % 15 == 0:
                await queue_todays_reminders(rt)
                await service.sweep_exports(rt)
                await service.sweep_documents(rt)
        except Exception:  # a database hiccup must not end the loop
            log.exception("periodic jobs failed; trying again in a minute")
        if not wait:
            return
        tick += 1
        await asyncio.sleep(60)
