"""Membership lists: a convention's Parties as a depositary or secretariat publishes them.

A list is read from JSON or CSV into rows and checked before anything is stored: each row
names a Party, the date the convention entered into force for it and, where it withdrew or
denounced the convention, the date that took effect; each row cites the list it was taken
from (its address and the date it was read). A Party is a member on a day when the
convention had entered into force for it and no withdrawal had taken effect.

JSON::

    {"convention": "CMS",
     "source": {"name": "…", "url": "https://…", "read_on": "2026-12-01"},
     "memberships": [{"party": "KEN", "entry_into_force": "1999-05-01", "withdrawal": null}]}

CSV (a header row, then one row per Party; `name` is for the reader and not stored)::

    convention,party,name,entry_into_force,withdrawal,source_name,source_url,source_read_on
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cmsreporting.errors import FieldError

MAX_ROWS = 1000
MAX_ERRORS = 100
CSV_COLUMNS = (
    "convention",
    "party",
    "name",
    "entry_into_force",
    "withdrawal",
    "source_name",
    "source_url",
    "source_read_on",
)
CSV_REQUIRED = ("convention", "party", "entry_into_force", "source_url", "source_read_on")
PARTY_CODE = re.compile(r"^(?:[A-Z]{3}|EU)$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """The published list a row was taken from."""

    url: str
    name: str | None
    read_on: date


@dataclass(frozen=True)
class Row:
    """One Party's membership as the list gives it."""

    index: int
    party: str
    since: date
    withdrawn_on: date | None
    source: Source
    where: str  # "row 3" or "row 3 (line 4)", for messages

    def pointer(self, field: str) -> str:
        """The JSON pointer of one of the row's fields."""
        return f"/memberships/{self.index}/{field}"


@dataclass(frozen=True)
class MembershipList:
    """A checked list: its convention and rows (Party codes not yet checked against the
    registry)."""

    convention: str
    rows: tuple[Row, ...]


class ListProblems(Exception):
    """The list breaks rules; `errors` name each row and field."""

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


def is_member_on(since: date | None, withdrawn_on: date | None, day: date) -> bool:
    """A membership with these dates holds on that day (no entry date: from the start)."""
    return (since is None or since <= day) and (withdrawn_on is None or day < withdrawn_on)


def _date(value: Any) -> date | str | None:
    """A date from an ISO 8601 text (YYYY-MM-DD); None when blank; else the complaint."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return "expected a date as YYYY-MM-DD"
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return "not a date of the calendar"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return None
    return value.strip() or None


class _Checker:
    def __init__(self, *, expected: str | None, today: date) -> None:
        self.expected = expected
        self.today = today
        self.errors: list[FieldError] = []

    def fail(self, ptr: str, detail: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FieldError(ptr, detail))

    def convention(self, value: Any, ptr: str, where: str) -> str | None:
        code = _text(value)
        if code is None:
            self.fail(ptr, f"{where}: the convention is missing")
            return None
        if self.expected is not None and code.upper() != self.expected.upper():
            self.fail(
                ptr, f"{where}: this list is for {code}, not {self.expected}; nothing was stored"
            )
            return None
        return code

    def source(
        self, url: Any, name: Any, read_on: Any, ptrs: tuple[str, str, str], where: str
    ) -> Source | None:
        ok = True
        link = _text(url)
        if link is None:
            self.fail(ptrs[0], f"{where}: no source: give the address of the published list")
            ok = False
        elif len(link) > 2000 or not URL.match(link):
            self.fail(ptrs[0], f"{where}: the source must be an http(s) address")
            ok = False
        label = _text(name)
        if name is not None and not isinstance(name, str):
            self.fail(ptrs[1], f"{where}: the source's name must be text")
            ok = False
        elif label is not None and len(label) > 300:
            self.fail(ptrs[1], f"{where}: the source's name is longer than 300 characters")
            ok = False
        read = _date(read_on)
        if read is None:
            self.fail(ptrs[2], f"{where}: give the date the source was read")
            ok = False
        elif isinstance(read, str):
            self.fail(ptrs[2], f"{where}: {read}")
            ok = False
        elif read > self.today + timedelta(days=1):  # a day ahead of UTC somewhere on earth
            self.fail(ptrs[2], f"{where}: the source cannot have been read after today")
            ok = False
        if not ok or link is None or not isinstance(read, date):
            return None
        return Source(url=link, name=label, read_on=read)

    def row(
        self, index: int, item: dict[str, Any], source: Source | None, where: str
    ) -> Row | None:
        base = f"/memberships/{index}"
        ok = source is not None
        party = _text(item.get("party"))
        if party is None:
            self.fail(f"{base}/party", f"{where}: no Party code")
            ok = False
        else:
            party = party.upper()
            if not PARTY_CODE.match(party):
                self.fail(
                    f"{base}/party",
                    f"{where}: {party!r} is not an ISO 3166-1 alpha-3 code (or EU)",
                )
                ok = False
        since = _date(item.get("entry_into_force"))
        if since is None:
            self.fail(f"{base}/entry_into_force", f"{where}: no date of entry into force")
            ok = False
        elif isinstance(since, str):
            self.fail(f"{base}/entry_into_force", f"{where}: {since}")
            ok = False
        withdrawn = _date(item.get("withdrawal"))
        if isinstance(withdrawn, str):
            self.fail(f"{base}/withdrawal", f"{where}: {withdrawn}")
            ok = False
        elif isinstance(withdrawn, date) and isinstance(since, date) and withdrawn <= since:
            self.fail(
                f"{base}/withdrawal",
                f"{where}: the withdrawal ({withdrawn.isoformat()}) must take effect after "
                f"the entry into force ({since.isoformat()})",
            )
            ok = False
        if not ok or party is None or not isinstance(since, date) or source is None:
            return None
        return Row(
            index=index,
            party=party,
            since=since,
            withdrawn_on=withdrawn if isinstance(withdrawn, date) else None,
            source=source,
            where=where,
        )

    def finish(self, convention: str | None, rows: list[Row]) -> MembershipList:
        seen: dict[str, Row] = {}
        for row in rows:
            first = seen.get(row.party)
            if first is not None:
                self.fail(
                    row.pointer("party"),
                    f"{row.where}: {row.party} is listed twice (first in {first.where})",
                )
            else:
                seen[row.party] = row
        if self.errors or convention is None:
            raise ListProblems(
                f"the membership list was refused ({len(self.errors)} problem"
                f"{'' if len(self.errors) == 1 else 's'}); nothing was stored",
                self.errors,
            )
        return MembershipList(convention=convention.upper(), rows=tuple(rows))


def _bounded(count: int) -> None:
    if count == 0:
        raise ListProblems(
            "the membership list has no rows",
            [FieldError("/memberships", "list at least one Party")],
        )
    if count > MAX_ROWS:
        raise ListProblems(
            f"at most {MAX_ROWS} rows in a membership list ({count} sent)",
            [FieldError("/memberships", f"more than {MAX_ROWS} rows")],
        )


def read_json(document: Any, *, expected: str | None, today: date) -> MembershipList:
    """Check a membership list given as JSON."""
    if not isinstance(document, dict):
        raise ListProblems(
            "a membership list is a JSON object", [FieldError("", "expected an object")]
        )
    unknown = sorted(set(document) - {"convention", "source", "memberships"})
    items = document.get("memberships")
    if not isinstance(items, list):
        raise ListProblems(
            "the membership list has no `memberships` list",
            [FieldError("/memberships", "expected a list")],
        )
    _bounded(len(items))
    check = _Checker(expected=expected, today=today)
    for key in unknown:
        check.fail(f"/{key}", f"unknown field {key!r}")
    convention = check.convention(document.get("convention"), "/convention", "the list")
    raw_source = document.get("source")
    source: Source | None = None
    if not isinstance(raw_source, dict):
        check.fail(
            "/source",
            'no source: give the published list it was taken from ({"name", "url", "read_on"})',
        )
    else:
        for key in sorted(set(raw_source) - {"name", "url", "read_on"}):
            check.fail(f"/source/{key}", f"unknown field {key!r}")
        source = check.source(
            raw_source.get("url"),
            raw_source.get("name"),
            raw_source.get("read_on"),
            ("/source/url", "/source/name", "/source/read_on"),
            "the list",
        )
    rows: list[Row] = []
    for index, item in enumerate(items):
        where = f"row {index + 1}"
        if not isinstance(item, dict):
            check.fail(f"/memberships/{index}", f"{where}: expected an object")
            continue
        for key in sorted(set(item) - {"party", "name", "entry_into_force", "withdrawal"}):
            check.fail(f"/memberships/{index}/{key}", f"{where}: unknown field {key!r}")
        row = check.row(index, item, source, where)
        if row is not None:
            rows.append(row)
    return check.finish(convention, rows)


def read_csv(raw: bytes, *, expected: str | None, today: date) -> MembershipList:
    """Check a membership list given as CSV (UTF-8, a header row, comma-separated)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ListProblems(
            "the CSV file is not UTF-8", [FieldError("", f"byte {exc.start} is not UTF-8")]
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ListProblems(
            f"the CSV file cannot be read (line {reader.line_num}: {exc})",
            [FieldError("", str(exc))],
        ) from None
    if not lines:
        raise ListProblems("the CSV file is empty", [FieldError("", "no header row")])
    header = [cell.strip().lower() for cell in lines[0][1]]
    problems = [
        FieldError(f"/columns/{i}", f"unknown column {name!r}; known: {', '.join(CSV_COLUMNS)}")
        for i, name in enumerate(header)
        if name not in CSV_COLUMNS
    ]
    problems += [
        FieldError(f"/columns/{i}", f"column {name!r} appears twice")
        for i, name in enumerate(header)
        if name in header[:i]
    ]
    problems += [
        FieldError("/columns", f"missing column {name!r}")
        for name in CSV_REQUIRED
        if name not in header
    ]
    if problems:
        raise ListProblems("the CSV header is not a membership list's", problems)
    body = lines[1:]
    _bounded(len(body))
    check = _Checker(expected=expected, today=today)
    conventions: set[str] = set()
    rows: list[Row] = []
    for index, (line, cells) in enumerate(body):
        where = f"row {index + 1} (line {line})"
        if len(cells) != len(header):
            check.fail(
                f"/memberships/{index}",
                f"{where}: {len(cells)} cells where the header has {len(header)}",
            )
            continue
        item = dict(zip(header, cells, strict=True))
        code = check.convention(item["convention"], f"/memberships/{index}/convention", where)
        if code is not None:
            conventions.add(code.upper())
        source = check.source(
            item.get("source_url"),
            item.get("source_name"),
            item.get("source_read_on"),
            (
                f"/memberships/{index}/source_url",
                f"/memberships/{index}/source_name",
                f"/memberships/{index}/source_read_on",
            ),
            where,
        )
        row = check.row(index, item, source, where)
        if row is not None:
            rows.append(row)
    if len(conventions) > 1:
        check.fail("/memberships", f"the rows name several conventions: {sorted(conventions)}")
    convention = next(iter(conventions)) if len(conventions) == 1 else None
    return check.finish(convention, rows)
