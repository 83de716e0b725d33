"""Renderers of submitted reports: JSON, CSV, XLSX, HTML and PDF. Pure: no database.

A submission is rendered from its template document and its stored values; labels come in
the chosen language (falling back to the template's first). Hidden questions were left out
of the values when the report was submitted, so they are left out here too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import IO, Any

import xlsxwriter
from jinja2 import Environment, PackageLoader, select_autoescape

from cmsreporting.core.document import walk
from cmsreporting.core.i18n import choose_language, pick
from cmsreporting.core.projection import evaluate
from cmsreporting.errors import FieldError, InvalidInput, ServiceUnavailable

YES_NO = {
    "en": ("Yes", "No"),
    "fr": ("Oui", "Non"),
    "es": ("Sí", "No"),
    "de": ("Ja", "Nein"),
}
NOT_ANSWERED = {
    "en": "Not answered",
    "fr": "Sans réponse",
    "es": "Sin respuesta",
    "de": "Nicht beantwortet",
}
# the headings of a printed report's metadata, by language
META_LABELS = {
    "en": {
        "party": "Party",
        "convention": "Convention",
        "cycle": "Cycle",
        "template_version": "Template version",
        "submission": "Submission",
        "version": "version",
        "submitted": "Submitted",
        "by": "by",
        "draft": "Draft, not submitted",
        "as_of": "as of",
    },
    "fr": {
        "party": "Partie",
        "convention": "Convention",
        "cycle": "Cycle",
        "template_version": "Version du modèle",
        "submission": "Soumission",
        "version": "version",
        "submitted": "Soumis",
        "by": "par",
        "draft": "Brouillon, non soumis",
        "as_of": "état au",
    },
    "es": {
        "party": "Parte",
        "convention": "Convención",
        "cycle": "Ciclo",
        "template_version": "Versión de la plantilla",
        "submission": "Presentación",
        "version": "versión",
        "submitted": "Presentado",
        "by": "por",
        "draft": "Borrador, no presentado",
        "as_of": "a fecha de",
    },
    "de": {
        "party": "Vertragspartei",
        "convention": "Übereinkommen",
        "cycle": "Zyklus",
        "template_version": "Vorlagenversion",
        "submission": "Einreichung",
        "version": "Version",
        "submitted": "Eingereicht",
        "by": "von",
        "draft": "Entwurf, nicht eingereicht",
        "as_of": "Stand",
    },
}
LIST_SEPARATOR = "; "

# A spreadsheet reads a cell that starts with one of these as a formula (or runs it as
# DDE): CSV text cells that start with one get a leading apostrophe (see guard_text)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SubmissionMeta:
    """Who submitted what, when."""

    submission_id: int
    party: str
    party_name: str
    convention: str
    cycle: str
    template_version: str
    version: int
    status: str
    submitted_at: str
    submitted_by: str
    submitter: str = ""

    @property
    def submitted_at_text(self) -> str:
        """The submission time as a person reads it: 2026-12-03 09:15 UTC."""
        return readable_time(self.submitted_at)

    @property
    def submitter_name(self) -> str:
        """Who submitted, by name: the user's name rather than the `user:` actor id."""
        return self.submitter or actor_name(self.submitted_by)


def readable_time(iso: str) -> str:
    """An ISO 8601 timestamp as `YYYY-MM-DD HH:MM UTC` (unparsable text is left as it is)."""
    moment = parse_time(iso)
    return iso if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def parse_time(iso: str) -> datetime | None:
    """An ISO 8601 timestamp in UTC, without its zone (as a spreadsheet holds it)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def actor_name(actor: str) -> str:
    """The name in an actor id: `user:ken_fp` -> `ken_fp`."""
    return actor.removeprefix("user:")


def guard_text(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading apostrophe (OWASP's CSV
    injection advice); any other text unchanged."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def guard_row(row: Iterable[Any]) -> list[Any]:
    """A CSV record's text cells guarded; numbers (a negative one too) stay as they are."""
    return [guard_text(c) if isinstance(c, str) else c for c in row]


def is_number(value: Any) -> bool:
    """A numeric value (a boolean is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def plain(value: Any) -> Any:
    """A value for a CSV cell: a number as the number, anything else as its code text."""
    return value if is_number(value) else code_text(value)


def section_heading(section_id: str, title: str) -> str:
    """`II. Title`, or the title alone when it already starts with the section's number."""
    if title.startswith(section_id):
        rest = title[len(section_id) :]
        if not rest or not rest[0].isalnum():
            return title
    return f"{section_id}. {title}" if title else section_id


def with_unit(text: str, definition: dict[str, Any]) -> str:
    """A label with the unit of its question or column: `Area (ha)`."""
    unit = definition.get("unit")
    return f"{text} ({unit})" if unit else text


def visible(question: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether a question was shown, judged on the submitted values (hidden questions were
    left out of them)."""
    condition = question.get("visible_if")
    return condition is None or evaluate(condition, values.get)


@dataclass(frozen=True)
class Labels:
    """Label lookup for one template in one language."""

    lang: str
    fallback: str
    _options: dict[int, tuple[dict[str, Any], dict[str, str]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def option_labels(self, definition: dict[str, Any]) -> dict[str, str]:
        """code -> label of a choice field, worked out once per field."""
        cached = self._options.get(id(definition))
        if cached is None or cached[0] is not definition:
            labels = {
                o["code"]: self.text(o.get("label")) or o["code"] for o in definition["options"]
            }
            cached = (definition, labels)
            self._options[id(definition)] = cached
        return cached[1]

    @property
    def not_answered(self) -> str:
        """What an unanswered question reads."""
        return NOT_ANSWERED.get(self.lang, NOT_ANSWERED["en"])

    @property
    def meta(self) -> dict[str, str]:
        """The headings of a printed report's metadata."""
        return META_LABELS.get(self.lang, META_LABELS["en"])

    def text(self, label: dict[str, str] | None) -> str:
        """The text of a label map."""
        return pick(label, self.lang, self.fallback) if label else ""

    def value(self, definition: dict[str, Any], value: Any) -> str:
        """A value as a person reads it: option labels, Yes/No, numbers and text as they are."""
        kind = definition["type"]
        if value is None:
            return ""
        if kind == "boolean":
            yes, no = YES_NO.get(self.lang, YES_NO["en"])
            return yes if value else no
        if kind in ("single_choice", "multi_choice"):
            labels = self.option_labels(definition)
            codes = value if isinstance(value, list) else [value]
            return LIST_SEPARATOR.join(labels.get(str(c), str(c)) for c in codes)
        if kind == "table":
            return json.dumps(value, ensure_ascii=False)
        return str(value)


def code_text(value: Any) -> str:
    """A value as stored: codes joined by '; ', booleans as true/false, tables as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return json.dumps(value, ensure_ascii=False)
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def labels_for(document: dict[str, Any], lang: str | None) -> Labels:
    """Labels in `lang` when the template has it, else in its first language."""
    languages: list[str] = document["languages"]
    return Labels(lang=choose_language(languages, lang, None), fallback=languages[0])


# --- one submission ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One exported value: a question, or one cell of a table question."""

    section: str
    question: str
    question_text: str
    row: int | None
    column: str | None
    column_text: str
    code: str
    label: str
    provenance: str
    numeric: bool = False


def cells(
    document: dict[str, Any],
    values: dict[str, Any],
    provenance: dict[str, str],
    labels: Labels,
    *,
    include_unanswered: bool = True,
) -> Iterator[Cell]:
    """Every answered value of a report in template order (unanswered questions too, empty)."""

    for place in walk(document["sections"]):
        if (question := place.question) is not None:
            section = place.section
            qid = question["id"]
            text = labels.text(question["text"])
            value = values.get(qid)
            source = provenance.get(qid, "")
            if question["type"] == "table" and isinstance(value, list):
                columns = question["columns"]
                for index, row in enumerate(value):
                    for column in columns:
                        cell = row.get(column["id"]) if isinstance(row, dict) else None
                        yield Cell(
                            section["id"],
                            qid,
                            text,
                            index,
                            column["id"],
                            labels.text(column["text"]),
                            code_text(cell),
                            labels.value(column, cell),
                            source,
                            is_number(cell),
                        )
            elif qid in values or include_unanswered:
                yield Cell(
                    section["id"],
                    qid,
                    text,
                    None,
                    None,
                    "",
                    code_text(value),
                    labels.value(question, value),
                    source,
                    is_number(value),
                )


def report_json(
    document: dict[str, Any],
    values: dict[str, Any],
    provenance: dict[str, str],
    meta: SubmissionMeta,
    labels: Labels,
    *,
    reused: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report shaped like its template, with each value's label and provenance (and,
    for a value taken from a suggestion, where it came from)."""
    return _report_view(
        document, values, provenance, meta, labels, printable=False, reused=reused or {}
    )


def _report_view(
    document: dict[str, Any],
    values: dict[str, Any],
    provenance: dict[str, str],
    meta: SubmissionMeta,
    labels: Labels,
    *,
    printable: bool,
    reused: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The report shaped like its template. `printable` (the HTML report) adds what a person
    reads: section headings, units, and the unanswered questions that were shown (as `answered:
    false`), the time and the submitter's name."""

    def section_view(section: dict[str, Any]) -> dict[str, Any]:
        questions = []
        for question in section.get("questions", []):
            qid = question["id"]
            if qid not in values:
                if printable and visible(question, values):
                    questions.append(
                        {
                            "id": qid,
                            "text": labels.text(question["text"]),
                            "type": question["type"],
                            "unit": question.get("unit", ""),
                            "answered": False,
                            "provenance": provenance.get(qid, "native"),
                        }
                    )
                continue
            value = values[qid]
            item: dict[str, Any] = {
                "id": qid,
                "text": labels.text(question["text"]),
                "type": question["type"],
                "value": value,
                "provenance": provenance.get(qid, "native"),
            }
            if qid in reused:
                item["reused_from"] = reused[qid]
            if printable:
                item |= {"unit": question.get("unit", ""), "answered": True}
            if question["type"] != "table":
                item["value_label"] = labels.value(question, value)
            else:
                item["columns"] = [
                    {
                        "id": c["id"],
                        "text": with_unit(labels.text(c["text"]) or c["id"], c)
                        if printable
                        else labels.text(c["text"]),
                    }
                    for c in question["columns"]
                ]
                item["rows_labels"] = [
                    [
                        labels.value(c, row.get(c["id"])) if isinstance(row, dict) else ""
                        for c in question["columns"]
                    ]
                    for row in (value if isinstance(value, list) else [])
                ]
            questions.append(item)
        view = {
            "id": section["id"],
            "title": labels.text(section["title"]),
            "questions": questions,
            "sections": [section_view(s) for s in section.get("sections", [])],
        }
        if printable:
            view["heading"] = section_heading(section["id"], view["title"])
        return view

    report = {
        "submission_id": meta.submission_id,
        "party": meta.party,
        "party_name": meta.party_name,
        "convention": meta.convention,
        "cycle": meta.cycle,
        "template_version": meta.template_version,
        "submission_version": meta.version,
        "status": meta.status,
        "submitted_at": meta.submitted_at,
        "submitted_by": meta.submitted_by,
        "lang": labels.lang,
        "title": labels.text(document["title"]),
        "sections": [section_view(s) for s in document["sections"]],
    }
    if printable:
        report |= {
            "submitted_at_text": meta.submitted_at_text,
            "submitter": meta.submitter_name,
            "not_answered": labels.not_answered,
            "labels": labels.meta,
        }
    return report


SUBMISSION_CSV_HEADER = (
    "section",
    "question",
    "question_text",
    "row",
    "column",
    "column_text",
    "value_code",
    "value_label",
    "provenance",
)


def report_csv(
    document: dict[str, Any],
    values: dict[str, Any],
    provenance: dict[str, str],
    labels: Labels,
    *,
    guard: bool = True,
) -> str:
    """A row per question, or per table cell, with code and label; text cells guarded
    against formula injection unless `guard` is false (numbers are never guarded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUBMISSION_CSV_HEADER)
    for c in cells(document, values, provenance, labels):
        row: list[Any] = [
            c.section,
            c.question,
            c.question_text,
            "" if c.row is None else c.row,
            c.column or "",
            c.column_text,
        ]
        value = [c.code, c.label]
        if guard:
            row = guard_row(row)
            value = value if c.numeric else guard_row(value)
        writer.writerow([*row, *value, guard_text(c.provenance) if guard else c.provenance])
    return out.getvalue()


EXCEL_CELL_LIMIT = 32767
WORKBOOK_OPTIONS = {
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def sheet_name(base: str, used: set[str]) -> str:
    """A worksheet name Excel accepts: no []:*?/\\, at most 31 characters, no apostrophe at
    either end, unique in the workbook."""
    name = "".join(ch if ch not in "[]:*?/\\" else "_" for ch in base)[:31].strip("'")
    name = name or "Sheet"
    candidate, n = name, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = name[: 31 - len(suffix)].rstrip("'") + suffix, n + 1
    used.add(candidate.lower())
    return candidate


DATE_FORMAT = "yyyy-mm-dd"
TIMESTAMP_FORMAT = 'yyyy-mm-dd hh:mm "UTC"'


def typed(definition: dict[str, Any], value: Any) -> bool | int | float | date | None:
    """A value as a spreadsheet cell holds it: a number, a boolean, or a date (question type
    date); None when it is written as text."""
    kind = definition["type"]
    if kind == "number" and is_number(value):
        return value  # type: ignore[no-any-return]
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def write_cell(
    sheet: Any, row: int, col: int, value: Any, text: str, formats: dict[str, Any]
) -> None:
    """One cell: typed when `value` is (see typed()), else `text` as a string, never a
    formula."""
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats["date"])
    elif value is not None:
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, text)


def sheet_value(definition: dict[str, Any], value: Any, text: Any, *, as_labels: bool) -> Any:
    """A cycle workbook's cell: numbers and dates typed (see typed()), booleans too unless
    labels are asked for (then they read Yes/No in the chosen language); else `text`."""
    if as_labels and definition["type"] == "boolean":
        return text
    cell = typed(definition, value)
    return text if cell is None else cell


def write_values(sheet: Any, row: int, cells: list[Any], formats: dict[str, Any]) -> None:
    """A row of a cycle workbook: dates and date-times formatted, text never a formula."""
    for col, cell in enumerate(cells):
        if isinstance(cell, datetime):
            sheet.write_datetime(row, col, cell, formats["timestamp"])
        elif isinstance(cell, str):
            sheet.write_string(row, col, cell)
        else:
            write_cell(sheet, row, col, cell, "", formats)


def report_xlsx(
    target: IO[bytes],
    document: dict[str, Any],
    values: dict[str, Any],
    provenance: dict[str, str],
    meta: SubmissionMeta,
    labels: Labels,
) -> None:
    """A workbook: a sheet per top-level section, table questions as real Excel tables.
    Numbers, booleans and dates are typed cells; other answers are text, never formulas."""
    for cell in cells(document, values, provenance, labels, include_unanswered=False):
        check_cell_length(cell.label, f"{meta.party} {cell.question}")
    book = xlsxwriter.Workbook(target, {"in_memory": True, **WORKBOOK_OPTIONS})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    formats = {
        "date": book.add_format({"num_format": DATE_FORMAT, "align": "left", "valign": "top"}),
        "timestamp": book.add_format({"num_format": TIMESTAMP_FORMAT, "align": "left"}),
    }
    used: set[str] = set()
    about = book.add_worksheet(sheet_name("Report", used))
    for row, (key, text) in enumerate(
        (
            ("Report", labels.text(document["title"])),
            ("Party", f"{meta.party_name} ({meta.party})"),
            ("Convention", meta.convention),
            ("Cycle", meta.cycle),
            ("Template version", meta.template_version),
            ("Submission version", meta.version),
            ("Status", meta.status),
            ("Submitted at", meta.submitted_at),
            ("Submitted by", meta.submitter_name),
            ("Language", labels.lang),
        )
    ):
        about.write(row, 0, key, bold)
        if isinstance(text, int):
            about.write_number(row, 1, text)
        elif key == "Submitted at" and (moment := parse_time(meta.submitted_at)) is not None:
            about.write_datetime(row, 1, moment, formats["timestamp"])
        else:
            about.write_string(row, 1, str(text))
    about.set_column(0, 0, 22)
    about.set_column(1, 1, 80)
    for section in document["sections"]:
        sheet = book.add_worksheet(
            sheet_name(f"{section['id']} {labels.text(section['title'])}", used)
        )
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 60, wrap)
        sheet.set_column(2, 3, 40, wrap)
        sheet.set_column(4, 4, 24)
        sheet.write_row(0, 0, ("Question", "Text", "Answer", "Code", "Provenance"), bold)
        sheet.freeze_panes(1, 0)
        row = 1
        for question in (p.question for p in walk([section]) if p.question is not None):
            qid = question["id"]
            value = values.get(qid)
            text = with_unit(labels.text(question["text"]), question)
            if question["type"] == "table":
                sheet.write_string(row, 0, qid, bold)
                sheet.write_string(row, 1, text, bold)
                sheet.write_string(row, 4, provenance.get(qid, ""))
                row += 1
                rows: list[Any] = value if isinstance(value, list) else []
                columns = question["columns"]
                headers = [with_unit(labels.text(c["text"]) or c["id"], c) for c in columns]
                if rows:
                    sheet.add_table(
                        row,
                        1,
                        row + len(rows),
                        len(columns),
                        {
                            "columns": [{"header": h} for h in _unique_headers(headers)],
                            "style": "Table Style Light 9",
                        },
                    )
                    for offset, data in enumerate(rows, start=1):
                        for index, column in enumerate(columns, start=1):
                            item = data.get(column["id"]) if isinstance(data, dict) else None
                            write_cell(
                                sheet,
                                row + offset,
                                index,
                                typed(column, item),
                                labels.value(column, item),
                                formats,
                            )
                    row += len(rows) + 2
                else:
                    row += 1
                continue
            sheet.write_string(row, 0, qid)
            sheet.write_string(row, 1, text)
            cell_value = typed(question, value)
            write_cell(sheet, row, 2, cell_value, labels.value(question, value), formats)
            write_cell(sheet, row, 3, cell_value, code_text(value), formats)
            sheet.write_string(row, 4, provenance.get(qid, ""))
            row += 1
    book.close()


def check_cell_length(text: str, where: str) -> None:
    """Refuse a value longer than an Excel cell holds, rather than cut it."""
    if len(text) > EXCEL_CELL_LIMIT:
        raise InvalidInput(
            f"{where}: an answer of {len(text)} characters is longer than an Excel cell holds "
            f"({EXCEL_CELL_LIMIT}); export it as CSV or JSON instead",
            errors=[FieldError("/format", "xlsx cannot hold this report", **{"in": "query"})],
        )


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for header in headers:
        count = seen.get(header.lower(), 0)
        seen[header.lower()] = count + 1
        result.append(header if count == 0 else f"{header} ({count + 1})")
    return result


@lru_cache
def _jinja() -> Environment:
    return Environment(
        loader=PackageLoader("cmsreporting.exports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_html(
    document: dict[str, Any],
    values: dict[str, Any],
    provenance: dict[str, str],
    meta: SubmissionMeta,
    labels: Labels,
    *,
    reused: dict[str, dict[str, Any]] | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> str:
    """A printable report: the section structure, labels in one language, tables, metadata,
    and the documents it cites (title, file, version, SHA-256, questions, download path)."""
    view = _report_view(
        document, values, provenance, meta, labels, printable=True, reused=reused or {}
    )
    return (
        _jinja()
        .get_template("report.html.j2")
        .render(report=view, meta=meta, documents=documents or [])
    )


# A printed page: A4 with its number, the body in fonts Debian ships (DejaVu: Latin, Greek,
# Cyrillic, Arabic; WenQuanYi: Chinese; the image installs both), no screen margins.
PDF_PAGE_CSS = """
@page {
  size: A4; margin: 18mm 16mm 20mm;
  @bottom-right {
    content: counter(page) " / " counter(pages);
    font: 8pt "DejaVu Sans", sans-serif; color: #555;
  }
}
body {
  font-family: "DejaVu Sans", "WenQuanYi Micro Hei", sans-serif; font-size: 9.5pt;
  max-width: none; margin: 0; padding: 0;
}
h2 { break-after: avoid; }
table { width: calc(100% - 1.5rem); }
"""


def report_pdf(html: str, path: str) -> None:
    """Write the printable HTML report as a PDF to the file at `path` (WeasyPrint: layout in
    CSS, text kept as text), so the document is never held whole in memory. CPU-bound: call it
    from a worker thread."""
    try:
        from weasyprint import CSS, HTML  # imported here: loading Pango takes a moment
    except OSError as exc:  # the system's Pango is missing
        raise ServiceUnavailable(
            "PDF exports are not available on this server: it lacks Pango (Debian: "
            "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; see README, Exports); "
            "the other formats are"
        ) from exc
    HTML(string=html).write_pdf(path, stylesheets=[CSS(string=PDF_PAGE_CSS)])


# --- all submissions of a cycle -------------------------------------------------------------


@dataclass(frozen=True)
class PartyReport:
    """One Party's submitted values, as the aggregate exports read them."""

    party: str
    version: int
    status: str
    submitted_at: str
    values: dict[str, Any]
    template_version: str = ""
    template_id: int = 0
    submission_id: int = 0
    documents: list[dict[str, Any]] | None = None  # the pins of the documents it cites


LONG_HEADER = ("party", "question", "row", "column", "value", "value_label")


def long_rows(
    report: PartyReport, questions: list[dict[str, Any]], labels: Labels
) -> Iterator[list[Any]]:
    """party, question, row, column, value code, value label: a row per value or table cell."""
    for question in questions:
        qid = question["id"]
        if qid not in report.values:
            continue
        value = report.values[qid]
        if question["type"] == "table" and isinstance(value, list):
            for index, row in enumerate(value):
                for column in question["columns"]:
                    cell = row.get(column["id"]) if isinstance(row, dict) else None
                    if cell is None:
                        continue
                    yield [
                        report.party,
                        qid,
                        index,
                        column["id"],
                        plain(cell),
                        cell if is_number(cell) else labels.value(column, cell),
                    ]
        else:
            label = value if is_number(value) else labels.value(question, value)
            yield [report.party, qid, "", "", plain(value), label]


def wide_header(questions: list[dict[str, Any]]) -> list[str]:
    """party, version, status, submitted_at, then one column per question."""
    return ["party", "version", "status", "submitted_at", *(q["id"] for q in questions)]


def wide_row(
    report: PartyReport, questions: list[dict[str, Any]], labels: Labels, *, as_labels: bool
) -> list[Any]:
    """One Party's report on one line; a table question's cell holds its rows as JSON."""
    cells_: list[Any] = []
    for question in questions:
        value = report.values.get(question["id"])
        if question["type"] == "number" and isinstance(value, int | float):
            cells_.append(value)
        elif as_labels and question["type"] != "table":
            cells_.append(labels.value(question, value))
        else:
            cells_.append(code_text(value))
    return [report.party, report.version, report.status, report.submitted_at, *cells_]


def cited_link(report: PartyReport, document_id: int) -> str:
    """Where a document a Party's report cites is downloaded, at the version it pinned."""
    return f"/api/v1/submissions/{report.submission_id}/documents/{document_id}"


DOCUMENTS_HEADER = (
    "party",
    "question",
    "document",
    "version",
    "title",
    "type",
    "file_name",
    "size",
    "sha256",
    "link",
)


def document_rows(report: PartyReport) -> list[list[Any]]:
    """A row per document a Party's report cites and question citing it (DOCUMENTS_HEADER)."""
    return [
        [
            report.party,
            question,
            pin["document"],
            pin["version"],
            pin["title"],
            pin["type"],
            pin["file_name"],
            pin["size"],
            pin["sha256"],
            cited_link(report, pin["document"]),
        ]
        for pin in report.documents or []
        for question in pin.get("questions") or [""]
    ]


def jsonl_line(report: PartyReport, meta: dict[str, Any]) -> str:
    """One Party's report as one JSON line (with the documents it cites, when it cites some)."""
    line = meta | {
        "party": report.party,
        "template_version": report.template_version,
        "version": report.version,
        "status": report.status,
        "submitted_at": report.submitted_at,
        "values": report.values,
    }
    if report.documents:
        line["documents"] = [
            pin | {"download": cited_link(report, pin["document"])} for pin in report.documents
        ]
    return (
        json.dumps(line, ensure_ascii=False)
        + "\n"
    )


def csv_line(row: Iterable[Any]) -> str:
    """One CSV record."""
    return CsvChunks().text([row])


class CsvChunks:
    """Turns batches of rows into CSV text with one reused writer; text cells are guarded
    against formula injection unless `guard` is false (numbers are never guarded)."""

    def __init__(self, *, guard: bool = True) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        self._guard = guard

    def text(self, rows: Iterable[Iterable[Any]]) -> str:
        """The CSV text of these rows."""
        self._writer.writerows(map(guard_row, rows) if self._guard else rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text
