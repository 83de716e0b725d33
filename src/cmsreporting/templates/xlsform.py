"""XLSForm workbooks as bytes: read (bounded, before anything is decompressed) and write.

The mapping between rows and templates is `core.xlsform`; this module only reads and writes
the .xlsx container.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import xlsxwriter
from openpyxl import load_workbook

from cmsreporting.core.xlsform import Cell, Workbook, cell_name, from_xlsform, to_xlsform
from cmsreporting.errors import BadRequest, FieldError, InvalidInput

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAX_ENTRIES = 200
"""Entries of the zip container (a form workbook has a few dozen)."""
MAX_UNCOMPRESSED = 20 * 1024 * 1024
"""Total uncompressed size of the container's entries, as its directory declares them."""
MAX_ROWS = 20_000
MAX_COLUMNS = 200
MAX_SHEETS = 20
MAX_CELL_TEXT = 32_767
"""The most characters a spreadsheet cell holds (longer text would be cut)."""


def _refuse(detail: str, ptr: str = "") -> BadRequest:
    return BadRequest(detail, errors=[FieldError(ptr, detail)])


def check_container(data: bytes) -> None:
    """Refuse what is not a zip, or one that would expand too far, before decompressing."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _refuse("not an XLSForm workbook: the body is not an .xlsx (zip) file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _refuse(f"not a readable .xlsx file: {exc}") from None
    if len(entries) > MAX_ENTRIES:
        raise _refuse(f"the workbook has {len(entries)} zip entries; at most {MAX_ENTRIES}")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED:
        raise _refuse(
            f"the workbook would expand to {total} bytes; at most {MAX_UNCOMPRESSED} bytes"
        )


def read_workbook(data: bytes) -> Workbook:
    """The cell values of every sheet; formulas and oversized sheets are refused."""
    check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a broken container
        raise _refuse(f"not a readable .xlsx workbook: {type(exc).__name__}") from None
    try:
        if len(book.worksheets) > MAX_SHEETS:
            raise _refuse(f"the workbook has more than {MAX_SHEETS} sheets")
        sheets: Workbook = {}
        for sheet in book.worksheets:
            sheets[sheet.title] = _read_sheet(sheet)
        return sheets
    finally:
        book.close()


def _read_sheet(sheet: Any) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    title = sheet.title
    # at most one column past the limit is read: a sheet that declares a huge dimension is not
    # padded out to it
    for r, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1)):
        if r >= MAX_ROWS:
            raise InvalidInput(
                f"sheet {title!r} has more than {MAX_ROWS} rows",
                errors=[FieldError(f"/{title}", f"more than {MAX_ROWS} rows")],
            )
        values: list[Cell] = []
        for c, cell in enumerate(row):
            if cell.value is None:
                values.append(None)
                continue
            if c >= MAX_COLUMNS:
                raise InvalidInput(
                    f"sheet {title!r} has more than {MAX_COLUMNS} columns",
                    errors=[FieldError(f"/{title}", f"more than {MAX_COLUMNS} columns")],
                )
            where = cell_name(title, r, c)
            if cell.data_type == "f":
                raise InvalidInput(
                    f"{where}: formulas are not accepted; enter the value itself",
                    errors=[FieldError(f"/{title}/{r + 1}", f"{where}: a formula", cell=where)],
                )
            value = cell.value
            if not isinstance(value, str | int | float | bool):
                value = str(value)
            values.append(value)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def import_workbook(data: bytes) -> dict[str, Any]:
    """The template document of an XLSForm workbook's bytes."""
    return from_xlsform(read_workbook(data))


def write_workbook(document: dict[str, Any]) -> bytes:
    """A template document as XLSForm workbook bytes."""
    sheets = to_xlsform(document)
    target = io.BytesIO()
    book = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    for title, rows in sheets.items():
        sheet = book.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
                    where = cell_name(title, r, c)
                    raise InvalidInput(
                        f"the template cannot be written as an XLSForm: {where} would hold "
                        f"{len(value)} characters, more than a spreadsheet cell holds "
                        f"({MAX_CELL_TEXT})",
                        errors=[FieldError("", f"{where}: text too long for a cell", cell=where)],
                    )
                if isinstance(value, str):
                    # never as a formula or a number: a cell's text stays text
                    sheet.write_string(r, c, value, bold if r == 0 else None)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                else:
                    sheet.write_number(r, c, value)
        sheet.freeze_panes(1, 0)
    book.close()
    return target.getvalue()
