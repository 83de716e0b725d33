"""The `cmsreporting` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast, get_args

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting import backup as backups
from cmsreporting import bootstrap, migrate
from cmsreporting.auth import service as auth_service
from cmsreporting.auth.models import ROLES, ApiToken, RoleGrant, User
from cmsreporting.auth.principal import Grant, Principal
from cmsreporting.config import get_settings
from cmsreporting.crosswalk import exchange, mapping_service, suggest_service
from cmsreporting.db import create_engine, create_session_factory, utcnow
from cmsreporting.errors import DomainError
from cmsreporting.exports import service as exports
from cmsreporting.logs import configure_logging, redact
from cmsreporting.metrics import MULTIPROC_ENV
from cmsreporting.registry import service as registry
from cmsreporting.reporting import submissions
from cmsreporting.templates import service as templates
from cmsreporting.templates import translations

T = TypeVar("T")
CLI_ACTOR = "cli"

app = typer.Typer(
    name="cmsreporting",
    help="Harmonized national reporting for the biodiversity conventions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
export_app = typer.Typer(help="Export reports to files.", no_args_is_help=True)
app.add_typer(export_app, name="export")
crosswalk_app = typer.Typer(help="The crosswalk: mapping suggestions.", no_args_is_help=True)
app.add_typer(crosswalk_app, name="crosswalk")
mail_app = typer.Typer(help="E-mail in the outbox.", no_args_is_help=True)
translations_app = typer.Typer(
    help="Template translations as gettext PO files.", no_args_is_help=True
)
app.add_typer(translations_app, name="translations")
app.add_typer(mail_app, name="mail")
RAW_HELP = (
    "CSV: write text cells as they are, without the apostrophe that guards a cell starting "
    "with = + - @, a tab or a carriage return against formula injection"
)
CLI_PRINCIPAL = Principal(user_id=0, name="cli", grants=(Grant("admin"),))

out = Console()
err = Console(stderr=True)
log = logging.getLogger("cmsreporting.startup")


@app.callback()
def _setup() -> None:
    """Log as the settings say (CMSREPORTING_LOG_LEVEL, CMSREPORTING_LOG_FORMAT)."""
    settings = get_settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {redact(message)}", markup=True, highlight=False)
    return typer.Exit(code)


def _refused(exc: DomainError) -> typer.Exit:
    """Print a domain error with the fields it names; exit 1."""
    for error in exc.errors:
        where = error.get("pointer") or "/"
        if error.get("msgctxt") or error.get("line"):
            where = f"line {error.get('line')} msgctxt {error.get('msgctxt')!r}"
        err.print(f"  {where}: {error.get('detail')}", highlight=False)
    return _fail(exc.detail)


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database; domain errors exit 1."""

    async def runner() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(runner())
    except DomainError as exc:
        raise _refused(exc) from None


def _upgrade() -> None:
    url = get_settings().database_url
    try:
        migrate.upgrade(url)
    except Exception as exc:
        raise _fail(f"cannot migrate {url}: {exc}") from None


def _prepare(*, migrate_db: bool, load: bool, demo: bool) -> dict[str, bootstrap.DemoCredentials]:
    """Migrate, load the bundled data and make the demo users, as one process at a time.

    On PostgreSQL this runs under an advisory lock: of several servers starting together one
    migrates and loads while the others wait, then find the work done. Returns the demo users'
    new credentials.
    """
    settings = get_settings()
    url = settings.database_url

    async def run() -> dict[str, bootstrap.DemoCredentials]:
        engine = create_engine(url)
        try:
            async with migrate.startup_lock(engine, wait_seconds=settings.migrate_lock_timeout):
                before = await migrate.current_revision(engine)
                head = migrate.head_revision()
                if before != head and migrate_db:
                    await asyncio.to_thread(migrate.upgrade, url)
                    log.info(
                        "migrated the database from %s to %s",
                        before or "an empty database",
                        head,
                        extra={"event": "migrated", "from_revision": before, "to_revision": head},
                    )
                elif before != head:
                    log.warning(
                        "the database is at %s, the code needs %s: not ready until "
                        "`cmsreporting db upgrade` runs",
                        before,
                        head,
                        extra={"event": "behind", "revision": before, "head": head},
                    )
                    return {}
                factory = create_session_factory(engine)
                if load:
                    async with factory() as session, session.begin():
                        report = await bootstrap.load_bundled(session)
                    if report.added:
                        log.info(
                            "loaded %s",
                            ", ".join(report.added),
                            extra={"event": "loaded", "added": report.added},
                        )
                if not demo:
                    return {}
                async with factory() as session, session.begin():
                    return await bootstrap.create_demo_users(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        raise _refused(exc) from None
    except migrate.StartupLockTimeout as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:
        raise _fail(f"cannot prepare the database {url}: {exc}") from None


def _metrics_folder(workers: int) -> Path | None:
    """Several workers share their metrics through files: empty the folder PROMETHEUS_
    MULTIPROC_DIR names (the previous run's samples), or make a new one (returned, to remove
    when the server stops)."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    elif workers > 1:
        made = Path(tempfile.mkdtemp(prefix="cmsreporting-metrics-"))
        os.environ[MULTIPROC_ENV] = str(made)
        return made
    return None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8000,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Create demo users and print their tokens and passwords once"),
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes", min=1, max=64)] = 1,
    load: Annotated[
        bool, typer.Option(help="Load what is missing of the reference data and bundled templates")
    ] = True,
    migrate_db: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="Migrate the database first (--no-migrate: a release job runs `db upgrade`)",
        ),
    ] = True,
) -> None:
    """Migrate the database, load the bundled data, and serve the API."""
    import uvicorn

    credentials = _prepare(migrate_db=migrate_db, load=load, demo=demo)
    if demo:
        if credentials:
            table = Table(title="Demo users (tokens and passwords are shown once)")
            rows = [(n, c.token or "", c.password) for n, c in credentials.items()]
            for index, column in enumerate(("user", "token", "password")):
                # never cut, also on a narrow terminal or in a log: they are shown once
                widest = max(len(column), *(len(row[index]) for row in rows))
                table.add_column(column, no_wrap=True, min_width=widest)
            for row in rows:
                table.add_row(*row)
            out.print(table, crop=False)
        else:
            out.print(
                "demo users exist; their tokens and passwords were printed when they were "
                "created (new ones: cmsreporting tokens create demo-admin, "
                "cmsreporting users set-password demo-admin)"
            )
    if demo:
        # demonstrations write e-mail to a folder (unless the environment says otherwise)
        os.environ.setdefault("CMSREPORTING_MAIL_BACKEND", "folder")
        os.environ.setdefault("CMSREPORTING_MAIL_SEND_INTERVAL_SECONDS", "5")
        get_settings.cache_clear()
        settings = get_settings()
        if settings.mail_backend == "folder":
            out.print(f"e-mail is written to {Path(settings.mail_folder).resolve()}")
    made = _metrics_folder(workers)
    out.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "cmsreporting.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # each worker logs as configure_logging() says (create_served_app)
        log_level=get_settings().log_level.lower(),
        access_log=False,  # the service writes its own line per request (cmsreporting.access)
        proxy_headers=True,
        # a worker importing the app on a busy host may take longer than uvicorn's 5 s default
        # to answer the supervisor's first ping, which then kills and restarts it, forever
        timeout_worker_healthcheck=int(get_settings().serve_worker_timeout_seconds),
    )
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="The worker's name in logs")] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run what is queued now, then stop (no waiting)")
    ] = False,
) -> None:
    """Run background jobs until stopped (SIGTERM finishes the running ones first): cycle
    exports, e-mail delivery, deadline reminders, the sweep of expired export files. Start as
    many as needed, on any machine that reaches the database and the export folder. On SQLite,
    exports run in the server and the worker runs the periodic jobs."""
    from cmsreporting.jobs.queue import run_worker
    from cmsreporting.jobs.service import Runtime
    from cmsreporting.storage import FolderStorage

    settings = get_settings()

    async def runner() -> None:
        engine = create_engine(settings.database_url, pool_size=settings.worker_concurrency + 1)
        try:
            revision = await migrate.current_revision(engine)
            if revision != migrate.head_revision():
                raise _fail(
                    f"the database is at {revision}, the code needs {migrate.head_revision()}: "
                    "run `cmsreporting db upgrade`"
                )
            rt = Runtime(
                create_session_factory(engine), settings, FolderStorage(settings.export_folder)
            )
            await run_worker(rt, name=name, wait=not once)
        finally:
            await engine.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Migrate the database up (to the newest revision by default)."""
    settings = get_settings()
    url = settings.database_url

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with migrate.startup_lock(engine, wait_seconds=settings.migrate_lock_timeout):
                await asyncio.to_thread(migrate.upgrade, url, revision)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except Exception as exc:
        raise _fail(f"cannot migrate {url}: {exc}") from None
    out.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, or base")]) -> None:
    """Migrate the database down."""
    url = get_settings().database_url
    try:
        migrate.downgrade(url, revision)
    except Exception as exc:
        raise _fail(f"cannot migrate {url}: {exc}") from None
    out.print(f"database at {revision}")


def _collect(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix in (".json", ".tsv", ".csv", ".xlsx")
            )
        elif path.is_file():
            files.append(path)
        else:
            raise _fail(f"{path}: no such file or folder")
    return files


def _read(path: Path) -> tuple[str, Any]:
    """('memberships-csv' | 'memberships' | 'template' | 'crosswalk' | 'sssom', content) of a
    file to load."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(f"{path}: cannot read ({exc})") from None
    if path.suffix == ".tsv":
        return "sssom", raw
    if path.suffix == ".csv":
        return "memberships-csv", raw
    if path.suffix.lower() == ".xlsx":
        return "template", raw  # an XLSForm workbook
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"{path}: not a readable JSON document ({exc})") from None
    if isinstance(document, dict) and ("concepts" in document or "mappings" in document):
        return "crosswalk", document
    if isinstance(document, dict) and "memberships" in document:
        return "memberships", raw
    return "template", document


class _DryRun(Exception):
    """Raised at the end of a dry run to roll its transaction back, carrying its results."""

    def __init__(self, results: Any) -> None:
        super().__init__("dry run")
        self.results = results


def _membership_summary(path: Path, result: dict[str, Any], *, detail: bool) -> str:
    totals = result["totals"]
    counts = ", ".join(
        f"{totals[k]} {k}" for k in ("added", "withdrawn", "changed", "removed", "unchanged")
    )
    line = f"{path}: {result['convention']} memberships: {counts}"
    if detail:
        for kind in ("added", "withdrawn", "changed", "removed"):
            if result[kind]:
                parties = ", ".join(item["party"] for item in result[kind])
                line += f"\n  {kind}: {parties}"
    return line


@app.command()
def load(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Membership lists (.csv or JSON), template or crosswalk JSON files, XLSForm "
            ".xlsx templates, SSSOM .tsv files, or folders"
        ),
    ],
    publish: Annotated[bool, typer.Option(help="Publish each template after import")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; store nothing")
    ] = False,
) -> None:
    """Load membership lists, templates, concepts and mappings: all or nothing (one bad file
    loads none).

    A membership list (CSV, or JSON with `convention`, `source` and `memberships`) replaces
    its convention's memberships: Parties are added, withdrawn, changed or removed to match
    it. Membership lists load first, then templates, then crosswalk documents, then SSSOM
    mapping files, so a folder can hold all of them. Concepts and mappings that exist already
    are skipped.
    """
    order = {"memberships-csv": 0, "memberships": 0, "template": 1, "crosswalk": 2, "sssom": 3}
    items = sorted(((path, *_read(path)) for path in _collect(paths)), key=lambda i: order[i[1]])

    async def work(session: AsyncSession) -> list[tuple[str, bool]]:
        results = []
        today = utcnow().date()
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("loading", total=len(items))
            for path, kind, content in items:
                try:
                    if kind in ("memberships", "memberships-csv"):
                        listing = registry.read_membership_list(
                            content,
                            kind="csv" if kind == "memberships-csv" else "json",
                            expected=None,
                            today=today,
                        )
                        result = await registry.import_memberships(
                            session,
                            actor=CLI_ACTOR,
                            convention=listing.convention,
                            listing=listing,
                            dry_run=dry_run,
                        )
                        changed = any(
                            result["totals"][k]
                            for k in ("added", "withdrawn", "changed", "removed")
                        )
                        results.append((_membership_summary(path, result, detail=dry_run), changed))
                    elif kind == "template":
                        results.append(
                            await bootstrap.load_template_file(
                                session, actor=CLI_ACTOR, path=path, publish=publish
                            )
                        )
                    elif kind == "crosswalk":
                        results.append(
                            await bootstrap.load_crosswalk_document(
                                session, actor=CLI_ACTOR, document=content, label=str(path)
                            )
                        )
                    else:
                        documents = exchange.read_sssom(content)
                        created = await mapping_service.create_mappings(
                            session,
                            actor=CLI_ACTOR,
                            documents=[d for d in documents if not exchange.is_negative(d)],
                            skip_existing=True,
                        )
                        rejected = await suggest_service.store_negatives(
                            session,
                            actor=CLI_ACTOR,
                            documents=[d for d in documents if exchange.is_negative(d)],
                            skip_existing=True,
                        )
                        summary = f"{path}: {len(created)} mappings"
                        if rejected:
                            summary += f", {len(rejected)} rejected pairs"
                        results.append((summary, bool(created or rejected)))
                except DomainError as exc:
                    exc.detail = f"{path}: {exc.detail}"
                    raise
                progress.advance(task)
        if dry_run:
            raise _DryRun(results)
        return results

    _upgrade()
    try:
        done = _in_transaction(work)
    except _DryRun as rolled_back:
        for label, added in rolled_back.results:
            out.print(f"{'would load' if added else 'no change '} {label}", highlight=False)
        out.print("dry run: nothing was stored")
        return
    for label, added in done:
        out.print(f"{'loaded ' if added else 'exists '} {label}", highlight=False)


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    convention: Annotated[
        str | None, typer.Option(help="Convention code (secretariat, focal_point)")
    ] = None,
    party: Annotated[
        str | None, typer.Option(help="ISO 3166-1 alpha-3 (focal_point, contributor)")
    ] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address (signs in too)")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown to others")] = None,
    language: Annotated[str, typer.Option(help="en, fr or es")] = "en",
) -> None:
    """Create a user with one role (a password: `users set-password`)."""

    async def work(session: AsyncSession) -> None:
        user = await auth_service.create_user(
            session,
            actor=CLI_ACTOR,
            name=name,
            email=email,
            display_name=display_name,
            language=language,
        )
        await auth_service.grant_role(
            session, actor=CLI_ACTOR, user=user, role=role, convention=convention, party=party
        )

    _in_transaction(work)
    out.print(f"created user {name} ({role})")


@users_app.command("grant")
def users_grant(
    name: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    convention: Annotated[str | None, typer.Option(help="Convention code")] = None,
    party: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-3")] = None,
) -> None:
    """Give an existing user another role."""

    async def work(session: AsyncSession) -> None:
        user = await auth_service.get_user(session, name=name)
        await auth_service.grant_role(
            session, actor=CLI_ACTOR, user=user, role=role, convention=convention, party=party
        )

    _in_transaction(work)
    out.print(f"granted {role} to {name}")


@users_app.command("list")
def users_list() -> None:
    """List users, their e-mail addresses, state and roles."""

    async def work(session: AsyncSession) -> list[tuple[str, str, str, str]]:
        rows = await session.execute(
            select(
                col(User.name),
                col(User.email),
                col(User.active),
                col(RoleGrant.role),
                col(RoleGrant.convention_code),
                col(RoleGrant.party_iso3),
            )
            .outerjoin(RoleGrant, col(RoleGrant.user_id) == User.id)
            .order_by(User.name)
        )
        return [
            (
                n,
                e or "",
                "active" if a else "inactive",
                " ".join(x for x in (r, c, p) if x) if r else "",
            )
            for n, e, a, r, c, p in rows.all()
        ]

    table = Table("user", "e-mail", "state", "role")
    for row in _in_transaction(work):
        table.add_row(*row)
    out.print(table)


@users_app.command("deactivate")
def users_deactivate(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """Deactivate a user: no sign-in, web sessions ended, tokens refused (every server process
    sees it within CMSREPORTING_AUTH_CACHE_SECONDS)."""

    async def work(session: AsyncSession) -> bool:
        user = await auth_service.get_user(session, name=name)
        return await auth_service.update_user(session, actor=CLI_ACTOR, user=user, active=False)

    changed = _in_transaction(work)
    out.print(f"deactivated {name}" if changed else f"{name} was inactive already")


@users_app.command("activate")
def users_activate(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """Let a deactivated user sign in and use their tokens again."""

    async def work(session: AsyncSession) -> bool:
        user = await auth_service.get_user(session, name=name)
        return await auth_service.update_user(session, actor=CLI_ACTOR, user=user, active=True)

    changed = _in_transaction(work)
    out.print(f"activated {name}" if changed else f"{name} was active already")


@users_app.command("revoke")
def users_revoke(
    name: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    convention: Annotated[str | None, typer.Option(help="Convention code")] = None,
    party: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-3")] = None,
) -> None:
    """Take a role from a user."""

    async def work(session: AsyncSession) -> None:
        user = await auth_service.get_user(session, name=name)
        grant = await auth_service.find_grant(
            session, user=user, role=role, convention=convention, party=party
        )
        await auth_service.revoke_role(session, actor=CLI_ACTOR, user=user, grant_id=grant.id)

    _in_transaction(work)
    out.print(f"revoked {role} from {name}")


@users_app.command("set")
def users_set(
    name: Annotated[str, typer.Argument(help="User name")],
    email: Annotated[str | None, typer.Option(help="E-mail address")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown to others")] = None,
    language: Annotated[str | None, typer.Option(help="en, fr or es")] = None,
) -> None:
    """Set a user's e-mail address, display name or language."""

    async def work(session: AsyncSession) -> bool:
        user = await auth_service.get_user(session, name=name)
        return await auth_service.update_user(
            session,
            actor=CLI_ACTOR,
            user=user,
            email=email,
            display_name=display_name,
            language=language,
        )

    changed = _in_transaction(work)
    out.print(f"updated {name}" if changed else f"{name} unchanged")


@users_app.command("set-password")
def users_set_password(
    name: Annotated[str, typer.Argument(help="User name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Set a user's password (asked twice, or read from standard input); their web sessions
    end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> None:
        user = await auth_service.get_user(session, name=name)
        await auth_service.set_password(
            session,
            actor=CLI_ACTOR,
            user=user,
            password=password,
            min_length=get_settings().password_min_length,
        )

    _in_transaction(work)
    out.print(f"password of {name} set")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="User name")],
    label: Annotated[str | None, typer.Option(help="What the token is for")] = None,
    expires_days: Annotated[
        int | None,
        typer.Option(
            help="Days until the token expires (default CMSREPORTING_TOKEN_DEFAULT_DAYS)", min=1
        ),
    ] = None,
    never_expires: Annotated[
        bool, typer.Option("--never-expires", help="A token without an expiry")
    ] = False,
) -> None:
    """Create a bearer token for a user and print it once."""
    if never_expires and expires_days:
        raise _fail("--expires-days and --never-expires exclude each other", code=2)

    async def work(session: AsyncSession) -> str:
        user = await auth_service.get_user(session, name=name)
        days = expires_days or get_settings().token_default_days
        expires = None if never_expires else utcnow() + timedelta(days=days)
        return await auth_service.create_token(
            session, actor=CLI_ACTOR, user=user, label=label, expires_at=expires
        )

    token = _in_transaction(work)
    if sys.stdout.isatty():
        err.print("store this token now; it is not shown again:")
    print(token)


@tokens_app.command("list")
def tokens_list(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """List a user's tokens (revoked and expired ones too)."""

    async def work(session: AsyncSession) -> list[ApiToken]:
        user = await auth_service.get_user(session, name=name)
        return await auth_service.list_tokens(session, user=user)

    table = Table("id", "prefix", "label", "created", "expires", "state")
    now = utcnow()
    for row in _in_transaction(work):
        state = (
            "revoked"
            if row.revoked_at
            else "expired"
            if row.expires_at and row.expires_at <= now
            else "active"
        )
        table.add_row(
            str(row.id),
            row.prefix + "…",
            row.label or "",
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "never",
            state,
        )
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="User name")],
    token_id: Annotated[int, typer.Argument(help="Token id (tokens list)")],
) -> None:
    """Revoke a user's token (every server process refuses it within
    CMSREPORTING_AUTH_CACHE_SECONDS)."""

    async def work(session: AsyncSession) -> bool:
        user = await auth_service.get_user(session, name=name)
        row = await auth_service.get_token(session, user=user, token_id=token_id)
        return await auth_service.revoke_token(session, actor=CLI_ACTOR, user=user, token=row)

    changed = _in_transaction(work)
    out.print(f"revoked token {token_id}" if changed else f"token {token_id} was revoked already")


def _write_atomically(output: Path, produce: Callable[[Any], Awaitable[None]]) -> None:
    """Write to a temporary file beside `output` and rename it: a failure leaves no half file."""
    partial = output.with_name(f".{output.name}.partial")

    async def runner() -> None:
        engine = create_engine(get_settings().database_url)
        try:
            factory = create_session_factory(engine)
            with partial.open("wb") as handle:
                await produce((factory, handle))
        finally:
            await engine.dispose()

    try:
        asyncio.run(runner())
    except DomainError as exc:
        partial.unlink(missing_ok=True)
        raise _refused(exc) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)


@export_app.command("submission")
def export_submission(
    submission_id: Annotated[int, typer.Argument(help="Submission id")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    format: Annotated[str, typer.Option(help="json, csv, xlsx, html or pdf")] = "json",
    lang: Annotated[str | None, typer.Option(help="Label language")] = None,
    raw: Annotated[bool, typer.Option("--raw", help=RAW_HELP)] = False,
) -> None:
    """Write one submission in its convention's shape."""
    formats = get_args(exports.SubmissionFormat)
    if format not in formats:
        raise _fail(f"unknown format {format!r}: one of {', '.join(formats)}", code=2)

    async def produce(target: Any) -> None:
        factory, handle = target
        async with factory() as session, session.begin():
            submission = await submissions.get_submission(
                session, submission_id=submission_id, principal=CLI_PRINCIPAL
            )
            rendered = await exports.render_submission(
                session,
                submission=submission,
                fmt=cast(exports.SubmissionFormat, format),
                lang=lang,
                guard=not raw,
            )
        if rendered.path is None:
            handle.write(rendered.content or b"")
            return
        try:  # a PDF: rendered into a temporary file, copied over in chunks
            with open(rendered.path, "rb") as produced:  # noqa: ASYNC230 - a local temp file
                shutil.copyfileobj(produced, handle)
        finally:
            os.unlink(rendered.path)

    _write_atomically(output, produce)
    out.print(f"wrote {output}")


@translations_app.command("export")
def translations_export(
    template_id: Annotated[int, typer.Argument(help="Template id")],
    lang: Annotated[str, typer.Argument(help="Target language, as fr")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PO file to write")],
) -> None:
    """Write a template's texts for translation into LANG as a gettext PO file."""

    async def produce(target: Any) -> None:
        factory, handle = target
        translations.check_language(lang)
        async with factory() as session, session.begin():
            template = await templates.get_template(
                session, template_id=template_id, principal=CLI_PRINCIPAL
            )
            handle.write(translations.export_po(template, template.document, lang))

    _write_atomically(output, produce)
    out.print(f"wrote {output}")


@translations_app.command("import")
def translations_import(
    template_id: Annotated[int, typer.Argument(help="Template id the file was exported from")],
    lang: Annotated[str, typer.Argument(help="Language of the translations")],
    path: Annotated[Path, typer.Argument(help="Translated PO file", exists=True, dir_okay=False)],
    version: Annotated[
        str | None, typer.Option(help="Version of the new draft (default: next patch)")
    ] = None,
) -> None:
    """Make a new draft version of a template with the translations of a PO file."""
    raw = path.read_bytes()

    async def work(session: AsyncSession) -> str:
        template = await templates.get_template(
            session, template_id=template_id, principal=CLI_PRINCIPAL
        )
        draft = await translations.import_po(
            session, actor=CLI_ACTOR, template=template, lang=lang, raw=raw, version=version
        )
        return f"draft {draft.id}: {draft.cycle.ref} {draft.version} ({', '.join(draft.languages)})"

    out.print(_in_transaction(work))


@export_app.command("cycle")
def export_cycle(
    cycle: Annotated[str, typer.Argument(help="Cycle reference CONVENTION:CYCLE")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    format: Annotated[str, typer.Option(help="csv, xlsx or jsonl")] = "csv",
    layout: Annotated[str, typer.Option(help="long or wide (CSV)")] = "long",
    status: Annotated[
        str | None, typer.Option(help="Only submitted, accepted or returned reports")
    ] = None,
    values: Annotated[str, typer.Option(help="codes or labels (wide layouts)")] = "codes",
    lang: Annotated[str | None, typer.Option(help="Label language")] = None,
    raw: Annotated[bool, typer.Option("--raw", help=RAW_HELP)] = False,
) -> None:
    """Write all Parties' latest reports of a cycle, with a progress bar."""
    for name, value, allowed in (
        ("format", format, get_args(exports.CycleFormat)),
        ("layout", layout, get_args(exports.Layout)),
        ("values", values, ("codes", "labels")),
        ("status", status or "submitted", ("submitted", "accepted", "returned")),
    ):
        if value not in allowed:
            raise _fail(f"unknown {name} {value!r}: one of {', '.join(allowed)}", code=2)

    async def produce(target: Any) -> None:
        factory, handle = target
        async with factory() as session, session.begin():
            plan = await exports.plan_cycle_export(
                session, principal=CLI_PRINCIPAL, cycle_ref=cycle, status=status
            )
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(f"exporting {plan.cycle_ref}", total=plan.parties)
            async for chunk in exports.stream_cycle(
                factory,
                plan,
                fmt=cast(exports.CycleFormat, format),
                layout=cast(exports.Layout, layout),
                lang=lang,
                as_labels=values == "labels",
                guard=not raw,
                progress=lambda done: progress.update(task, completed=done),
            ):
                handle.write(chunk)
        out.print(f"{plan.parties} Parties")

    _write_atomically(output, produce)
    out.print(f"wrote {output}")


# --- backups ------------------------------------------------------------------------------------


def _with_progress(
    label: str, work: Callable[[backups.Progress], backups.Backup]
) -> backups.Backup:
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def moved(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            return work(moved)
        except backups.BackupError as exc:
            raise _fail(str(exc)) from None


@app.command("backup")
def backup_database(
    output: Annotated[Path, typer.Option("-o", "--output", help="The backup file to write")],
) -> None:
    """Back up the database while the service runs (SQLite: online copy; PostgreSQL: pg_dump)."""
    url = get_settings().database_url
    made = _with_progress(
        f"backing up {backups.shown(url)}",
        lambda moved: backups.backup(url, output, progress=moved),
    )
    typer.echo(f"wrote {made.path} ({made.kind}, migration {made.revision}, {made.size} bytes)")


@app.command("restore")
def restore_database(
    archive: Annotated[Path, typer.Argument(help="A file written by `cmsreporting backup`")],
) -> None:
    """Restore a backup into the configured database, which must be new or empty, then migrate
    it to this version's head. Refuses a backup made by a newer version."""
    url = get_settings().database_url
    made = _with_progress(
        f"restoring into {backups.shown(url)}",
        lambda moved: backups.restore(url, archive, progress=moved),
    )
    typer.echo(
        f"restored {archive} ({made.kind}, migration {made.revision}) into {backups.shown(url)}"
    )


@crosswalk_app.command("suggest")
def crosswalk_suggest(
    from_: Annotated[str, typer.Argument(metavar="FROM", help="CONVENTION:CYCLE")],
    to: Annotated[str, typer.Argument(help="CONVENTION:CYCLE, or concepts")],
    output: Annotated[Path, typer.Option("--output", "-o", help="SSSOM TSV file to write")],
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most candidates")] = 500,
    min_score: Annotated[
        float, typer.Option("--min-score", min=0.0, max=1.0, help="Least score")
    ] = 0.3,
) -> None:
    """Candidate mappings between two templates (or against the concepts) as SSSOM, for review:
    nothing is stored; load reviewed rows with `load` or the API."""

    async def work(session: AsyncSession) -> str:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(f"ranking {from_} against {to}", total=None)
            ranking = await suggest_service.rank(
                session,
                from_ref=from_,
                to_ref=to,
                limit=limit,
                min_score=min_score,
                principal=CLI_PRINCIPAL,
            )
            progress.update(task, total=1, completed=1)
        candidates = [
            {
                "from": c.from_ref,
                "to": c.to_ref,
                "score": c.score,
                "relation": c.relation,
                "transform": c.transform,
                "reasons": c.reasons,
                "justification": c.justification,
            }
            for c in ranking.candidates
        ]
        err.print(f"{len(candidates)} candidate(s) from {from_} to {to}", highlight=False)
        return exchange.write_candidates_sssom(
            candidates,
            labels=ranking.labels(),
            title=f"cmsreporting suggested mappings from {from_} to {to} (not reviewed)",
            set_id=f"{from_}--{to}",
        )

    text = _in_transaction(work)
    partial = output.with_name(f".{output.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(output)


@mail_app.command("send-pending")
def mail_send_pending() -> None:
    """Send the e-mail that is due from the outbox (failures are retried later, with backoff);
    safe to run from several machines at once."""
    from cmsreporting.mail import outbox

    settings = get_settings()

    async def runner() -> outbox.Delivery:
        engine = create_engine(settings.database_url)
        try:
            return await outbox.send_pending(create_session_factory(engine), settings)
        finally:
            await engine.dispose()

    done = asyncio.run(runner())
    out.print(
        f"sent {len(done.sent)}, to retry {len(done.retrying)}, failed {len(done.failed)}",
        highlight=False,
    )
    if done.retrying or done.failed:
        raise typer.Exit(1)


@app.command()
def notify(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the reminders due, queue nothing")
    ] = False,
    on: Annotated[
        str | None, typer.Option("--date", help="The day to compute for (YYYY-MM-DD; today in UTC)")
    ] = None,
) -> None:
    """Queue today's deadline reminders (CMSREPORTING_REMINDER_DAYS before each cycle's due
    date, to the focal points of member Parties that have not submitted, and a past-due notice
    the day after it); each is queued once, however often this runs. `mail send-pending` (or
    the server) sends them."""
    from datetime import date

    from cmsreporting.reporting import reminders

    try:
        today = date.fromisoformat(on) if on else utcnow().date()
    except ValueError:
        raise _fail(f"--date: {on!r} is not a date (YYYY-MM-DD)", 2) from None
    schedule = get_settings().reminder_days

    async def work(session: AsyncSession) -> tuple[list[reminders.Reminder], int]:
        due = await reminders.due_today(session, today=today, schedule=schedule)
        return due, 0 if dry_run else await reminders.queue(session, due)

    due, queued = _in_transaction(work)
    table = Table(title=f"Reminders due on {today.isoformat()}" + (" (dry run)" if dry_run else ""))
    for column in ("cycle", "due on", "days", "kind", "party", "user", "e-mail", "language"):
        table.add_column(column)
    for r in due:
        table.add_row(
            r.cycle,
            r.due_on.isoformat(),
            str(r.days),
            r.kind,
            r.party,
            r.user,
            r.email,
            r.language,
        )
    out.print(table)
    if dry_run:
        out.print(f"{len(due)} reminder(s) would be queued; nothing was queued", highlight=False)
    else:
        out.print(
            f"{queued} reminder(s) queued ({len(due) - queued} queued before)", highlight=False
        )


if __name__ == "__main__":  # pragma: no cover
    app()
