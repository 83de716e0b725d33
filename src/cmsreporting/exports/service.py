"""Exports of one submission and streamed exports of all submissions of a cycle."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import anyio
import xlsxwriter
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from cmsreporting.auth.principal import Principal
from cmsreporting.core.document import iter_questions
from cmsreporting.errors import Forbidden, NotFound, ServiceUnavailable
from cmsreporting.exports import render
from cmsreporting.registry.models import Cycle, Party
from cmsreporting.registry.service import get_cycle
from cmsreporting.reporting import preview_service, submissions
from cmsreporting.reporting.models import Submission, Workspace
from cmsreporting.storage import BlobStore
from cmsreporting.templates import service as templates_service
from cmsreporting.templates.models import Template

SubmissionFormat = Literal["json", "csv", "xlsx", "html", "pdf"]
DraftFormat = Literal["html", "pdf"]
CycleFormat = Literal["csv", "xlsx", "jsonl"]
Layout = Literal["long", "wide", "documents"]
CHUNK = 64 * 1024

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "pdf": "application/pdf",
}
# formats that are compressed files already (not worth compressing again in transfer)
ALREADY_COMPRESSED = (MEDIA_TYPES["xlsx"], MEDIA_TYPES["pdf"], "application/zip")


@dataclass(frozen=True)
class Rendered:
    """A rendered file: its bytes, or (`path`) a temporary file that holds them, which the
    reader streams and then removes."""

    content: bytes | None
    media_type: str
    filename: str
    path: str | None = None


async def pdf_file(html: str) -> str:
    """The PDF of a printable report, rendered in a worker thread into a temporary file on
    disk; returns its path (the caller streams and removes it)."""
    handle, path = tempfile.mkstemp(prefix="cmsreporting-", suffix=".pdf")
    os.close(handle)
    try:
        await anyio.to_thread.run_sync(render.report_pdf, html, path)
    except BaseException:  # refused, failed or cancelled: leave no file behind
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path


async def render_submission(
    session: AsyncSession,
    *,
    submission: Submission,
    fmt: SubmissionFormat,
    lang: str | None,
    guard: bool = True,
) -> Rendered:
    """One submission in its convention's own shape; `guard` false writes CSV text cells
    as they are (see render.guard_text)."""
    party = await session.get(Party, submission.party_iso3)
    document = submission.template.document
    labels = render.labels_for(document, lang)
    meta = render.SubmissionMeta(
        submission_id=submission.id,
        party=submission.party_iso3,
        party_name=party.name if party else submission.party_iso3,
        convention=submission.cycle.convention_code,
        cycle=submission.cycle.ref,
        template_version=submission.template.version,
        version=submission.version,
        status=submission.status,
        submitted_at=submission.submitted_at.isoformat(),
        submitted_by=submission.submitted_by,
        # users have a name only: the submitter reads by it, without the `user:` prefix
        submitter=render.actor_name(submission.submitted_by),
    )
    cycle = submission.cycle
    stem = f"{submission.party_iso3}_{cycle.convention_code}_{cycle.code}_v{submission.version}"
    values, provenance = submission.values, submission.provenance
    reused = submission.reused or {}
    cited = submissions.pinned_documents(submission)
    if fmt == "json":
        shaped = render.report_json(document, values, provenance, meta, labels, reused=reused)
        shaped["documents"] = cited
        body = json.dumps(shaped, ensure_ascii=False).encode()
    elif fmt == "csv":
        body = render.report_csv(document, values, provenance, labels, guard=guard).encode()
    elif fmt == "html":
        body = render.report_html(
            document, values, provenance, meta, labels, reused=reused, documents=cited
        ).encode()
    elif fmt == "pdf":
        html = render.report_html(
            document, values, provenance, meta, labels, reused=reused, documents=cited
        )
        return Rendered(None, MEDIA_TYPES[fmt], f"{stem}.{fmt}", await pdf_file(html))
    else:
        buffer = io.BytesIO()
        render.report_xlsx(buffer, document, values, provenance, meta, labels)
        body = buffer.getvalue()
    return Rendered(body, MEDIA_TYPES[fmt], f"{stem}.{fmt}")


async def render_draft(
    session: AsyncSession,
    *,
    workspace: Workspace,
    cycle_ref: str,
    fmt: DraftFormat,
    lang: str | None,
) -> Rendered:
    """What one cycle's report would be if submitted now, printable (HTML or PDF): the values
    of the preview, marked as a draft with the time it was made."""
    context, report, reused, cited = await preview_service.preview(
        session, workspace=workspace, cycle_ref=cycle_ref
    )
    party = await session.get(Party, workspace.party_iso3)
    document = context.template.document
    labels = render.labels_for(document, lang)
    now = datetime.now(UTC)
    meta = render.SubmissionMeta(
        submission_id=0,
        party=workspace.party_iso3,
        party_name=party.name if party else workspace.party_iso3,
        convention=context.cycle.convention_code,
        cycle=context.cycle.ref,
        template_version=context.template.version,
        version=0,
        status="draft",
        submitted_at=now.isoformat(),
        submitted_by="",
    )
    html = render.report_html(
        document,
        report.values,
        report.provenance,
        meta,
        labels,
        reused=reused,
        documents=preview_service.with_library_links(cited),
    )
    stem = f"{workspace.party_iso3}_{context.cycle.convention_code}_{context.cycle.code}_draft"
    filename = f"{stem}_{now:%Y%m%d-%H%M}.{fmt}"
    if fmt == "pdf":
        return Rendered(None, MEDIA_TYPES[fmt], filename, await pdf_file(html))
    return Rendered(html.encode(), MEDIA_TYPES[fmt], filename)


# --- all submissions of a cycle -------------------------------------------------------------


@dataclass(frozen=True)
class CycleExport:
    """What an aggregate export covers, decided before streaming starts."""

    cycle_id: int
    cycle_ref: str
    template: Template
    status: str | None
    parties: int
    only_accepted: bool
    documents: dict[int, dict[str, Any]]

    @property
    def questions(self) -> list[dict[str, Any]]:
        """The questions of every template version in the export: the newest version's in
        its order, then those only older versions have (so no submitted value is left out)."""
        seen: dict[str, dict[str, Any]] = {}
        newest_first = [self.template.document] + [
            d for tid, d in sorted(self.documents.items(), reverse=True) if tid != self.template.id
        ]
        for document in newest_first:
            for _, question in iter_questions(document):
                seen.setdefault(question["id"], question)
        return list(seen.values())


def can_export_cycle(principal: Principal, convention: str) -> bool:
    """Admins, the convention's secretariat, and reviewers (accepted submissions only)."""
    return principal.is_admin or principal.is_secretariat(convention) or principal.is_reviewer


def _latest_query(cycle_id: int, status: str | None) -> Select[Any]:
    """Each Party's latest version, kept when it has the status asked for."""
    newest = (
        select(col(Submission.party_iso3), func.max(col(Submission.version)).label("version"))
        .where(col(Submission.cycle_id) == cycle_id)
        .group_by(Submission.party_iso3)
        .subquery()
    )
    query = (
        select(
            col(Submission.party_iso3),
            col(Submission.version),
            col(Submission.status),
            col(Submission.submitted_at),
            col(Submission.values),
            col(Submission.template_id),
            col(Template.version),
            col(Submission.id),
            col(Submission.documents),
        )
        .join(
            newest,
            (newest.c.party_iso3 == Submission.party_iso3)
            & (newest.c.version == Submission.version),
        )
        .join(Template, col(Template.id) == Submission.template_id)
        .where(col(Submission.cycle_id) == cycle_id)
        .order_by(Submission.party_iso3)
    )
    if status:
        query = query.where(col(Submission.status) == status)
    return query


async def plan_cycle_export(
    session: AsyncSession, *, principal: Principal, cycle_ref: str, status: str | None
) -> CycleExport:
    """Check access and count what a cycle export will hold."""
    cycle: Cycle = await get_cycle(session, ref=cycle_ref)
    if not can_export_cycle(principal, cycle.convention_code):
        raise Forbidden(f"only the {cycle.convention_code} secretariat exports this cycle")
    only_accepted = not (principal.is_admin or principal.is_secretariat(cycle.convention_code))
    return await plan_for(session, cycle=cycle, status=status, only_accepted=only_accepted)


async def plan_for(
    session: AsyncSession, *, cycle: Cycle, status: str | None, only_accepted: bool
) -> CycleExport:
    """Count what a cycle export will hold, for a caller whose access was checked (an export
    job plans again when it runs, with the scope its requester had)."""
    if only_accepted:
        status = "accepted"
    template = await templates_service.current_template(session, cycle_ref=cycle.ref)
    selected = (
        _latest_query(cycle.id, status)
        .with_only_columns(col(Submission.template_id))
        .order_by(None)
        .subquery()
    )
    counted = await session.scalar(select(func.count()).select_from(selected))
    used = set((await session.scalars(select(selected.c.template_id).distinct())).all())
    documents = {template.id: template.document}
    if used - {template.id}:
        rows = await session.execute(
            select(col(Template.id), col(Template.document)).where(
                col(Template.id).in_(used - {template.id})
            )
        )
        documents.update(dict(rows.all()))
    return CycleExport(
        cycle_id=cycle.id,
        cycle_ref=cycle.ref,
        template=template,
        status=status,
        parties=int(counted or 0),
        only_accepted=only_accepted,
        documents=documents,
    )


Source = AsyncSession | async_sessionmaker[AsyncSession]


async def _reports(source: Source, plan: CycleExport) -> AsyncIterator[render.PartyReport]:
    """The selected submissions, a few at a time: in the given session, or in a session of
    its own when given a factory (a streamed response outlives the request's session)."""
    if isinstance(source, AsyncSession):
        async for report in _read(source, plan):
            yield report
        return
    async with source() as session, session.begin():
        async for report in _read(session, plan):
            yield report


async def _read(session: AsyncSession, plan: CycleExport) -> AsyncIterator[render.PartyReport]:
    result = await session.stream(
        _latest_query(plan.cycle_id, plan.status).execution_options(yield_per=32)
    )
    async for row in result:
        party, version, status, submitted_at, values, template_id, t_version, sid, cited = row
        yield render.PartyReport(
            party,
            version,
            status,
            submitted_at.isoformat(),
            values,
            t_version,
            template_id,
            submission_id=sid,
            documents=cited,
        )


@dataclass(frozen=True)
class _Shapes:
    """Questions and labels of each template version of an export."""

    questions: dict[int, list[dict[str, Any]]]
    labels: dict[int, render.Labels]
    union: list[dict[str, Any]]

    @classmethod
    def of(cls, plan: CycleExport, lang: str | None) -> _Shapes:
        return cls(
            questions={tid: [q for _, q in iter_questions(d)] for tid, d in plan.documents.items()},
            labels={tid: render.labels_for(d, lang) for tid, d in plan.documents.items()},
            union=plan.questions,
        )

    def columns(self, report: render.PartyReport) -> list[dict[str, Any]]:
        """Each column's question as the Party's template version defines it."""
        own = {q["id"]: q for q in self.questions[report.template_id]}
        return [own.get(q["id"], q) for q in self.union]

    def wide(self, report: render.PartyReport, as_labels: bool) -> list[Any]:
        return render.wide_row(
            report, self.columns(report), self.labels[report.template_id], as_labels=as_labels
        )


async def stream_cycle(
    factory: async_sessionmaker[AsyncSession],
    plan: CycleExport,
    *,
    fmt: CycleFormat,
    layout: Layout,
    lang: str | None,
    as_labels: bool = False,
    guard: bool = True,
    progress: Callable[[int], None] | None = None,
) -> AsyncIterator[bytes]:
    """The cycle's submissions, a Party at a time: memory does not grow with the Parties.
    CSV text cells are guarded against formula injection unless `guard` is false."""
    shapes = _Shapes.of(plan, lang)
    done = 0
    if fmt == "xlsx":
        path = await build_cycle_xlsx(
            factory, plan, lang=lang, as_labels=as_labels, progress=progress
        )
        async for chunk in file_chunks(path):
            yield chunk
        return
    if fmt == "jsonl":
        meta = {"cycle": plan.cycle_ref}
        async for report in _reports(factory, plan):
            yield render.jsonl_line(report, meta).encode()
            done += 1
            if progress:
                progress(done)
        return
    chunks = render.CsvChunks(guard=guard)
    if layout == "documents":
        yield chunks.text([render.DOCUMENTS_HEADER]).encode()
        async for report in _reports(factory, plan):
            yield chunks.text(render.document_rows(report)).encode()
            done += 1
            if progress:
                progress(done)
        return
    if layout == "long":
        yield chunks.text([render.LONG_HEADER]).encode()
        async for report in _reports(factory, plan):
            rows = render.long_rows(
                report, shapes.questions[report.template_id], shapes.labels[report.template_id]
            )
            yield chunks.text(rows).encode()
            done += 1
            if progress:
                progress(done)
        return
    yield chunks.text([render.wide_header(shapes.union)]).encode()
    async for report in _reports(factory, plan):
        yield chunks.text([shapes.wide(report, as_labels)]).encode()
        done += 1
        if progress:
            progress(done)


async def build_cycle_xlsx(
    source: Source,
    plan: CycleExport,
    *,
    lang: str | None,
    as_labels: bool,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Write the cycle's workbook to a temporary file in constant-memory mode: a wide sheet
    plus a sheet per table question. A value longer than an Excel cell refuses the export
    before any byte is sent. Returns the file's path; file_chunks() sends and removes it."""
    shapes = _Shapes.of(plan, lang)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    book = None
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, **render.WORKBOOK_OPTIONS})
        bold = book.add_format({"bold": True})
        formats = {
            "date": book.add_format({"num_format": render.DATE_FORMAT}),
            "timestamp": book.add_format({"num_format": render.TIMESTAMP_FORMAT}),
        }
        used: set[str] = set()
        wide = book.add_worksheet(render.sheet_name("Parties", used))
        wide.write_row(0, 0, render.wide_header(shapes.union), bold)
        tables = [q for q in shapes.union if q["type"] == "table"]
        table_sheets = {}
        next_row = {}
        for question in tables:
            sheet = book.add_worksheet(render.sheet_name(question["id"], used))
            sheet.write_row(0, 0, ["party", "row", *(c["id"] for c in question["columns"])], bold)
            table_sheets[question["id"]] = sheet
            next_row[question["id"]] = 1
        row = 1
        async for report in _reports(source, plan):
            line = shapes.wide(report, as_labels)
            for cell in line:
                if isinstance(cell, str):
                    render.check_cell_length(cell, report.party)
            # numbers, dates (and booleans, as codes) typed; the time as a date-time in UTC
            when = render.parse_time(report.submitted_at)
            typed = [
                *line[:3],
                report.submitted_at if when is None else when,
                *(
                    render.sheet_value(q, report.values.get(q["id"]), text, as_labels=as_labels)
                    for q, text in zip(shapes.columns(report), line[4:], strict=True)
                ),
            ]
            render.write_values(wide, row, typed, formats)
            row += 1
            labels = shapes.labels[report.template_id]
            for question in tables:
                value = report.values.get(question["id"])
                if not isinstance(value, list):
                    continue
                sheet = table_sheets[question["id"]]
                for index, cells in enumerate(value):
                    found = cells if isinstance(cells, dict) else {}
                    texts = []
                    for c in question["columns"]:
                        item = found.get(c["id"])
                        text = labels.value(c, item) if as_labels else render.code_text(item)
                        render.check_cell_length(text, f"{report.party} {question['id']}")
                        texts.append(render.sheet_value(c, item, text, as_labels=as_labels))
                    # a person reads this sheet: rows numbered from 1
                    render.write_values(
                        sheet, next_row[question["id"]], [report.party, index + 1, *texts], formats
                    )
                    next_row[question["id"]] += 1
            if progress:
                progress(row - 1)
        book.close()
    except BaseException:
        # close the worksheets' temporary files before throwing the workbook away
        if book is not None:
            with contextlib.suppress(Exception):
                book.close()
        os.unlink(path)
        raise
    return path


async def file_chunks(path: str) -> AsyncIterator[bytes]:
    """The bytes of a temporary file, in chunks; the file is removed afterwards."""
    try:
        with open(path, "rb") as produced:  # noqa: ASYNC230 - a local temp file, read in chunks
            while chunk := produced.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def export_filename(plan: CycleExport, fmt: str, layout: str) -> str:
    """A file name for a cycle export."""
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    ref = plan.cycle_ref.replace(":", "_")
    kind = "" if fmt in ("jsonl", "xlsx") else f"_{layout}"
    return f"{ref}{kind}_{stamp}.{fmt}"


# --- documents a submission cites, and its package ------------------------------------------


def pinned(submission: Submission, document_id: int) -> dict[str, Any]:
    """The pin of a document the submission cites (404 for one it does not cite)."""
    for pin in submission.documents or []:
        if pin["document"] == document_id:
            return pin
    raise NotFound(f"submission {submission.id} cites no document {document_id}")


PACKAGE_DOCUMENTS = "documents"


def package_name(pin: dict[str, Any]) -> str:
    """The name of a cited document inside a package: its id and version keep names apart."""
    return f"{PACKAGE_DOCUMENTS}/{pin['document']}-v{pin['version']}-{pin['file_name']}"


async def build_package(
    session: AsyncSession, *, submission: Submission, store: BlobStore, lang: str | None
) -> str:
    """A submission's package written to a temporary file (a ZIP: the report as JSON, XLSX and
    PDF when this server renders PDFs, every cited document at its pinned version, and
    manifest.json listing each file with its size and SHA-256); returns its path. Files are
    copied in chunks: nothing is held whole in memory but the report's own renderings."""
    cycle = submission.cycle
    stem = f"{submission.party_iso3}_{cycle.convention_code}_{cycle.code}_v{submission.version}"
    handle, path = tempfile.mkstemp(prefix="cmsreporting-package-", suffix=".zip")
    os.close(handle)
    files: list[dict[str, Any]] = []
    try:
        with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
            for fmt in ("json", "xlsx", "pdf"):
                try:
                    rendered = await render_submission(
                        session, submission=submission, fmt=fmt, lang=lang
                    )
                except ServiceUnavailable:
                    continue  # this server renders no PDF: the package goes without one
                name = f"report/{stem}.{fmt}"
                if rendered.path is not None:
                    try:
                        files.append(await _add_file(archive, name, rendered.path))
                    finally:
                        os.unlink(rendered.path)
                else:
                    files.append(_add_bytes(archive, name, rendered.content or b""))
            for pin in submission.documents or []:
                files.append(
                    await _add_blob(archive, package_name(pin), store.chunks(pin["sha256"]))
                    | {"document": pin["document"], "version": pin["version"]}
                )
            manifest = {
                "submission": submissions.summary(submission),
                "files": files,
                "documents": submissions.pinned_documents(submission),
            }
            archive.writestr(
                "manifest.json",
                json.dumps(manifest, ensure_ascii=False, indent=2),
                compress_type=zipfile.ZIP_DEFLATED,
            )
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path


def _add_bytes(archive: zipfile.ZipFile, name: str, content: bytes) -> dict[str, Any]:
    archive.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return {"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


async def _add_file(archive: zipfile.ZipFile, name: str, source: str) -> dict[str, Any]:
    return await _add_blob(archive, name, file_chunks_kept(source))


async def file_chunks_kept(path: str) -> AsyncIterator[bytes]:
    """The bytes of a file, in chunks (the file is left in place)."""
    with open(path, "rb") as handle:  # noqa: ASYNC230 - a local temp file, read in chunks
        while chunk := handle.read(CHUNK):
            yield chunk


async def _add_blob(
    archive: zipfile.ZipFile, name: str, chunks: AsyncIterator[bytes]
) -> dict[str, Any]:
    """Copy chunks into a stored (uncompressed: documents are mostly compressed already)
    member, hashing them on the way."""
    digest, size = hashlib.sha256(), 0
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with archive.open(info, "w", force_zip64=True) as member:
        async for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            await anyio.to_thread.run_sync(member.write, chunk)
    return {"name": name, "size": size, "sha256": digest.hexdigest()}


def package_filename(submission: Submission) -> str:
    """A file name for a submission's package."""
    cycle = submission.cycle
    return (
        f"{submission.party_iso3}_{cycle.convention_code}_{cycle.code}"
        f"_v{submission.version}_package.zip"
    )
