"""Validation of report values against a template. Pure: no database."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem of a report: its severity, where it is, and what is wrong."""

    severity: Severity
    question: str
    code: str
    message: str
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form, without empty locations."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def is_answered(value: Any) -> bool:
    """A value counts as an answer unless it is null, blank text or an empty list."""
    if value is None:
        return False
    cls = value.__class__
    if cls is str:
        return bool(value.strip())
    if cls is list:
        return len(value) > 0
    if cls in _OTHER_JSON:
        return True
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, list):
        return len(value) > 0
    return True


_OTHER_JSON = frozenset({bool, int, float, dict})


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value.bit_length() <= 1023
    return isinstance(value, float) and math.isfinite(value)


def check_value(field: dict[str, Any], value: Any) -> list[tuple[str, str]]:
    """(code, message) for each way a non-empty value breaks its field's type and constraints."""
    kind = field["type"]
    problems: list[tuple[str, str]] = []
    if kind == "text":
        if not isinstance(value, str):
            return [("type", "expected text")]
        if "max_length" in field and len(value) > field["max_length"]:
            problems.append(("length", f"longer than {field['max_length']} characters"))
        if "pattern" in field and not _regex(field["pattern"]).search(value):
            problems.append(("pattern", f"does not match {field['pattern']}"))
    elif kind == "number":
        if not _is_number(value):
            return [("type", "expected a number")]
        if field.get("integer") and float(value) != int(value):
            problems.append(("type", "expected a whole number"))
        if "min" in field and value < field["min"]:
            problems.append(("range", f"less than the minimum {field['min']}"))
        if "max" in field and value > field["max"]:
            problems.append(("range", f"greater than the maximum {field['max']}"))
    elif kind == "boolean":
        if not isinstance(value, bool):
            return [("type", "expected true or false")]
    elif kind == "date":
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            return [("type", "expected a date YYYY-MM-DD")]
        if not _calendar_date(value):
            return [("type", "not a calendar date")]
    elif kind == "single_choice":
        codes = {o["code"] for o in field.get("options", [])}
        if not isinstance(value, str):
            return [("type", "expected an option code")]
        if value not in codes:
            problems.append(("option", f"{value!r} is not an option"))
    elif kind == "multi_choice":
        codes = {o["code"] for o in field.get("options", [])}
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return [("type", "expected a list of option codes")]
        unknown = [v for v in value if v not in codes]
        if unknown:
            shown = ", ".join(repr(v[:50]) for v in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            problems.append(("option", f"not options: {shown}{more}"))
        if len(set(value)) != len(value):
            problems.append(("option", "an option is selected twice"))
        if "min_selected" in field and len(value) < field["min_selected"]:
            problems.append(("selected", f"select at least {field['min_selected']}"))
        if "max_selected" in field and len(value) > field["max_selected"]:
            problems.append(("selected", f"select at most {field['max_selected']}"))
    elif kind == "documents":
        if not isinstance(value, list) or not all(_is_document_id(v) for v in value):
            return [("type", "expected a list of document ids")]
        if len(set(value)) != len(value):
            problems.append(("document", "a document is listed twice"))
    elif kind == "table":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            return [("type", "expected a list of rows")]
        if "min_rows" in field and len(value) < field["min_rows"]:
            problems.append(("rows", f"at least {field['min_rows']} rows are needed"))
        if "max_rows" in field and len(value) > field["max_rows"]:
            problems.append(("rows", f"at most {field['max_rows']} rows are allowed"))
    return problems


Check = Callable[[Any], bool]


def _is_document_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _calendar_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def compile_check(field: dict[str, Any]) -> Check:
    """A predicate true exactly when an answered value has no issue: `check_value(field, value)`
    is empty and, for a table, so is `check_table_rows`. Option sets, patterns and column maps
    are computed once; the messages of a value that fails still come from those functions."""
    kind = field["type"]
    if kind == "text":
        longest = field.get("max_length")
        pattern = _regex(field["pattern"]) if "pattern" in field else None
        return lambda v: (
            isinstance(v, str)
            and (longest is None or len(v) <= longest)
            and (pattern is None or pattern.search(v) is not None)
        )
    if kind == "number":
        integer, low, high = bool(field.get("integer")), field.get("min"), field.get("max")
        bounded = low is not None or high is not None

        def number(v: Any) -> bool:
            cls = v.__class__
            if cls is int:
                if v.bit_length() > 1023:
                    return False
            elif cls is float:
                if not math.isfinite(v) or (integer and not v.is_integer()):
                    return False
            elif not _is_number(v) or (integer and float(v) != int(v)):
                return False
            return not bounded or ((low is None or v >= low) and (high is None or v <= high))

        return number
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    if kind == "date":
        return _calendar_date
    if kind == "single_choice":
        known = frozenset(o["code"] for o in field.get("options", []))
        return lambda v: isinstance(v, str) and v in known
    if kind == "multi_choice":
        known = frozenset(o["code"] for o in field.get("options", []))
        fewest, most = field.get("min_selected"), field.get("max_selected")

        def multi(v: Any) -> bool:
            if not isinstance(v, list):
                return False
            try:  # every code a known option (only strings are); a list or dict is unhashable
                if not known.issuperset(v):
                    return False
            except TypeError:
                return False
            return (
                len(set(v)) == len(v)
                and (fewest is None or len(v) >= fewest)
                and (most is None or len(v) <= most)
            )

        return multi
    if kind == "documents":
        return lambda v: (
            isinstance(v, list) and all(_is_document_id(i) for i in v) and len(set(v)) == len(v)
        )
    if kind == "table":
        fewest, most = field.get("min_rows"), field.get("max_rows")
        columns = [(c["id"], bool(c.get("required")), compile_check(c)) for c in field["columns"]]
        ids = frozenset(c["id"] for c in field["columns"])

        def table(v: Any) -> bool:
            if not isinstance(v, list):
                return False
            if (fewest is not None and len(v) < fewest) or (most is not None and len(v) > most):
                return False
            for row in v:
                if not isinstance(row, dict) or not ids.issuperset(row):
                    return False
                for cid, required, ok in columns:
                    cell = row.get(cid)
                    # is_answered, inlined: this runs for every cell of every table
                    if cell is None:
                        blank = True
                    elif cell.__class__ is str:
                        blank = not cell.strip()
                    elif cell.__class__ in _OTHER_JSON:
                        blank = False
                    else:
                        blank = not is_answered(cell)
                    if blank:
                        if required:
                            return False
                    elif not ok(cell):
                        return False
            return True

        return table
    return lambda v: True


def check_table_rows(question: dict[str, Any], rows: list[dict[str, Any]]) -> list[Issue]:
    """Issues of each cell of a table value."""
    issues: list[Issue] = []
    columns = {c["id"]: c for c in question["columns"]}
    qid = question["id"]
    for index, row in enumerate(rows):
        for cid in row:
            if cid not in columns:
                issues.append(
                    Issue("error", qid, "column", f"no column {cid!r}", row=index, column=cid)
                )
        for cid, column in columns.items():
            cell = row.get(cid)
            if not is_answered(cell):
                if column.get("required"):
                    issues.append(
                        Issue("error", qid, "required", "required", row=index, column=cid)
                    )
                continue
            for code, message in check_value(column, cell):
                issues.append(Issue("error", qid, code, message, row=index, column=cid))
    return issues


def value_issues(definition: dict[str, Any], value: Any, where: str) -> list[Issue]:
    """Issues of one non-empty value of a question or concept (`where` names it)."""
    problems = check_value(definition, value)
    issues = [Issue("error", where, code, message) for code, message in problems]
    if definition["type"] == "table" and isinstance(value, list) and not problems:
        issues += check_table_rows(definition | {"id": where}, value)
    return issues
