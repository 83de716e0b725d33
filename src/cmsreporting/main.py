"""The application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.types import ASGIApp, Receive, Scope, Send

from cmsreporting import __version__, metrics
from cmsreporting.admin.router import router as audit_router
from cmsreporting.auth.cache import CallerCache
from cmsreporting.auth.links_router import router as links_router
from cmsreporting.auth.router import router as auth_router
from cmsreporting.auth.users_router import router as users_router
from cmsreporting.config import Settings, get_settings
from cmsreporting.crosswalk.router import router as crosswalk_router
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.documents.router import router as documents_router
from cmsreporting.errors import PROBLEM_BASE, PROBLEM_JSON, DomainError, FieldError, pointer
from cmsreporting.exports.router import router as exports_router
from cmsreporting.exports.service import ALREADY_COMPRESSED
from cmsreporting.jobs import service as jobs_service
from cmsreporting.jobs.queue import open_queue
from cmsreporting.jobs.router import router as jobs_router
from cmsreporting.logs import configure_logging
from cmsreporting.mail import outbox
from cmsreporting.middleware import BodyGuard, Compression, RequestContext
from cmsreporting.migrate import current_revision, head_revision
from cmsreporting.openapi import TAGS, operation_id
from cmsreporting.openapi import install as install_openapi
from cmsreporting.registry.router import router as registry_router
from cmsreporting.reporting.assignments_router import router as assignments_router
from cmsreporting.reporting.reminders_router import router as reminders_router
from cmsreporting.reporting.router import router as reporting_router
from cmsreporting.storage import FolderStorage, blob_store
from cmsreporting.templates.cycles_router import router as cycles_router
from cmsreporting.templates.router import PublishedTemplates
from cmsreporting.templates.router import router as templates_router
from cmsreporting.templates.service import HeadCache
from cmsreporting.web.docs import mount_api_docs
from cmsreporting.web.router import mount_web

log = logging.getLogger(__name__)

# the routes whose body is a file of any type, streamed (BodyGuard lets them through)
DOCUMENT_UPLOADS = re.compile(
    r"/api/v1/(parties/[^/]+/documents|documents/[^/]+/versions|uploads/[^/]+)"
)

HTTP_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class LiveOut(BaseModel):
    """The process is alive."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0"}]}
    )

    status: Literal["ok"]
    version: str


class HealthOut(BaseModel):
    """The service is alive and its database answers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ok", "database": "ok", "revision": "b9fc31526bbd", "version": "0.1.0"}
            ]
        }
    )

    status: Literal["ok"]
    database: Literal["ok"]
    revision: str | None = Field(description="The database's migration revision")
    version: str


def problem(
    status: int,
    detail: str,
    request: Request,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An application/problem+json response."""
    title = HTTP_TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> tuple[int, list[FieldError]]:
    status = 422
    errors: list[FieldError] = []
    for error in exc.errors()[:50]:
        loc = list(error.get("loc", ()))
        where = str(loc.pop(0)) if loc else "body"
        if error.get("type") == "json_invalid":
            status = 400
            errors.append(FieldError("", "the body is not valid JSON", **{"in": "body"}))
            continue
        message = str(error.get("msg", "invalid"))
        errors.append(FieldError(pointer(*loc), message, **{"in": where}))
    return status, errors


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            exc.body(request.url.path),
            status_code=exc.status,
            media_type=PROBLEM_JSON,
            headers=exc.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, errors = _validation_errors(exc)
        detail = "the body is not valid JSON" if status == 400 else "the request is not valid"
        return problem(status, detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTP_TITLES.get(exc.status_code, "")
        return problem(exc.status_code, detail, request, headers=dict(exc.headers or {}))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity conflict on %s: %s", request.url.path, exc.orig)
        return problem(
            409, "the change conflicts with the current state; reload and retry", request
        )

    @app.exception_handler(SATimeoutError)
    async def _pool_exhausted(request: Request, exc: SATimeoutError) -> JSONResponse:
        log.warning("no database connection free in time for %s", request.url.path)
        return problem(
            503, "the service is busy; retry shortly", request, headers={"Retry-After": "2"}
        )

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable on %s: %s", request.url.path, exc.orig)
        return problem(
            503, "the database is unavailable; retry later", request, headers={"Retry-After": "5"}
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:  # the server dropped the connection; the pool replaces it
            log.warning("database connection lost on %s: %s", request.url.path, exc.orig)
            return problem(
                503,
                "the database connection was lost; retry",
                request,
                headers={"Retry-After": "1"},
            )
        log.exception("database error on %s", request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged", request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged", request)


class Liveness:
    """`GET /health/live` (without a query) answered with its constant body right inside the
    request context, which still gives it an id, a log line and metrics; the route stays for
    the API description. The layers it skips have nothing to do for it: no body to guard, 33
    bytes not worth compressing, no handler that could fail."""

    def __init__(self, app: ASGIApp, *, body: bytes) -> None:
        self.app = app
        self.headers = [
            (b"content-length", str(len(body)).encode("ascii")),
            (b"content-type", b"application/json"),
        ]
        self.body = body
        self.route: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] != "/health/live"
            or scope["query_string"]
        ):
            await self.app(scope, receive, send)
            return
        if self.route is None:
            self.route = next(
                (r for r in scope["app"].routes if getattr(r, "path", None) == "/health/live"),
                None,
            )
        scope["route"] = self.route
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


class Service(FastAPI):
    """The application with the request context outside every other layer, so that even an
    unhandled error's 500 carries the request id and is logged and counted."""

    request_context: dict[str, bool]

    liveness: bytes

    def build_middleware_stack(self) -> ASGIApp:
        # the warm reads right inside the request context: their answers need nothing of the
        # layers between (no body to guard, a kept encoding or none to compress)
        inner = PublishedTemplates(super().build_middleware_stack())
        return RequestContext(Liveness(inner, body=self.liveness), **self.request_context)


def create_app(settings: Settings | None = None, *, freeze_heap: bool = False) -> FastAPI:
    """Build the ASGI application; `freeze_heap` for a server process that runs only it."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            echo=settings.db_echo,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            pool_pre_ping=settings.db_pool_pre_ping,
        )
        app.state.engine = engine
        if settings.metrics_enabled:
            metrics.instrument_pool(engine)
        app.state.session_factory = create_session_factory(engine)
        app.state.storage = FolderStorage(settings.export_folder)
        app.state.documents = blob_store(
            settings.document_storage,
            endpoint_url=settings.document_s3_endpoint_url,
            region=settings.document_s3_region,
        )
        app.state.jobs = await open_queue(
            jobs_service.Runtime(app.state.session_factory, settings, app.state.storage)
        )
        if freeze_heap:
            # what exists now (modules, the app, the ORM's registries) lives as long as the
            # process: keep it out of the collector's full passes, which would walk it each time
            gc.collect()
            gc.freeze()
        delivery = None
        if settings.mail_send_interval_seconds > 0:
            delivery = asyncio.create_task(
                outbox.deliver_forever(
                    app.state.session_factory, settings, settings.mail_send_interval_seconds
                )
            )
        try:
            yield
        finally:
            if delivery is not None:
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
            await app.state.jobs.close()
            await engine.dispose()
            metrics.process_exited()

    app = Service(
        title="cmsreporting",
        version=__version__,
        summary="Harmonized national reporting for the biodiversity conventions",
        description=(
            "Report once, use many times: one workspace per Party answers the national reports "
            "of several conventions through a shared question bank. Errors are "
            "application/problem+json; lists are paginated with `limit` and `cursor`."
        ),
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
        # /docs and /redoc are the service's own pages (web/docs.py), with nothing from a CDN
        docs_url=None,
        redoc_url=None,
    )
    # the same bytes for every call: rendered once, no model to validate and dump per request
    live_body = LiveOut(status="ok", version=__version__).model_dump_json().encode()
    app.liveness = live_body
    app.request_context = {
        "log_requests": settings.access_log,
        "metrics": settings.metrics_enabled,
    }
    app.state.settings = settings
    app.state.template_heads = (
        HeadCache(settings.template_cache_seconds) if settings.template_cache_seconds > 0 else None
    )
    app.state.callers = (
        CallerCache(settings.auth_cache_seconds) if settings.auth_cache_seconds > 0 else None
    )
    _install_error_handlers(app)
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        streamed=DOCUMENT_UPLOADS,
        streamed_max_bytes=settings.document_max_bytes,
    )
    # JSON, CSV, HTML and the web interface's files compressed for clients that accept it (the
    # merged form's 224 KB of JSON travel as about 34 KB); XLSX and PDF are compressed already
    app.add_middleware(
        Compression,
        minimum_size=1024,
        compresslevel=6,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *ALREADY_COMPRESSED),
    )

    head = head_revision()

    @app.get(
        "/health/live",
        summary="Is the process alive",
        tags=["health"],
        response_model=None,
        responses={
            200: {
                "model": LiveOut,
                "description": "The process answers (the database is not asked)",
            }
        },
    )
    async def get_health_live() -> Response:
        """Liveness: the process is up and answering; nothing else is checked."""
        return Response(live_body, media_type="application/json")

    async def ready(request: Request) -> JSONResponse:
        try:
            async with request.app.state.engine.connect() as conn:
                revision = (
                    await conn.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar_one_or_none()
        except Exception as exc:
            try:  # no alembic_version table: an empty database, reachable but not migrated
                revision = await current_revision(request.app.state.engine)
            except Exception:
                revision = "unreachable"
            if revision is None:
                return problem(
                    503,
                    f"the database is not migrated, the code needs {head}: "
                    "run `cmsreporting db upgrade`",
                    request,
                    database="behind",
                    revision=None,
                    head=head,
                    version=__version__,
                )
            log.warning("health check: database unreachable: %s", exc)
            return problem(
                503,
                "the database is not reachable",
                request,
                database="unreachable",
                version=__version__,
            )
        if revision == head and not request.app.state.storage.writable():
            return problem(
                503,
                "the export folder is not writable (CMSREPORTING_EXPORT_FOLDER)",
                request,
                database="ok",
                storage="not writable",
                revision=revision,
                version=__version__,
            )
        if revision != head:
            return problem(
                503,
                f"the database is at migration {revision}, the code needs {head}: "
                "run `cmsreporting db upgrade`",
                request,
                database="behind",
                revision=revision,
                head=head,
                version=__version__,
            )
        return JSONResponse(
            {"status": "ok", "database": "ok", "revision": revision, "version": __version__}
        )

    @app.get(
        "/health/ready",
        summary="Is the service ready to serve",
        tags=["health"],
        response_model=None,
        responses={200: {"model": HealthOut, "description": "Ready to serve requests"}},
    )
    async def get_health_ready(request: Request) -> JSONResponse:
        """Readiness: the database answers and its migrations are those of this code (503 with
        a problem document otherwise)."""
        return await ready(request)

    @app.get(
        "/health",
        summary="Service and database health",
        tags=["health"],
        response_model=None,
        responses={200: {"model": HealthOut, "description": "The service and its database"}},
    )
    async def get_health(request: Request) -> JSONResponse:
        """The same as /health/ready: database reachability and the migration revision."""
        return await ready(request)

    if settings.metrics_enabled:

        @app.get("/metrics", include_in_schema=False)
        async def get_metrics(request: Request) -> Response:
            """Prometheus metrics, to the allowed client networks only (404 to others)."""
            if not metrics.allowed(request.scope.get("client"), settings.metrics_allow):
                return problem(404, "Not Found", request)
            try:
                async with request.app.state.session_factory() as session:
                    queues = await jobs_service.queue_stats(session)
            except Exception:  # the metrics of this process are worth serving without them
                log.warning("job queue metrics unavailable", exc_info=True)
                queues = []
            content, media_type = metrics.exposition(
                queues=[(q.queue, q.depth, q.oldest_seconds) for q in queues]
            )
            return Response(content, media_type=media_type)

    app.include_router(registry_router)
    app.include_router(cycles_router)
    app.include_router(templates_router)
    app.include_router(crosswalk_router)
    app.include_router(reporting_router)
    app.include_router(reminders_router)
    app.include_router(assignments_router)
    app.include_router(exports_router)
    app.include_router(documents_router)
    app.include_router(jobs_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(links_router)
    app.include_router(audit_router)
    mount_web(app)
    mount_api_docs(app)
    install_openapi(app)
    return app


def create_served_app() -> FastAPI:
    """The application as `cmsreporting serve` runs it in each worker process."""
    settings = get_settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    return create_app(settings, freeze_heap=True)
