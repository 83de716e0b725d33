"""Stable ids of table rows in a workspace's answers. Pure: no database.

A row of a table answer carries its id under the reserved key ``@id`` (``@`` is never part of a
column id, so it cannot clash with a column). The id is given when the row is created (by the
browser, or by the server for a row that arrives without one) and kept through saves, drafts,
reloads, carry-forward and reuse, so that two edits of one table merge by row.

The id belongs to the workspace's stored answer only: it is not part of the report. Answers are
stripped of their row ids before they reach validation, projection, transforms, coverage,
suggestions or exports (`without_row_ids`), so the pure core and the submissions it produces
never see it, and every worked case of projection holds unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

ROW_ID = "@id"
MAX_ROW_ID = 64


def new_row_id() -> str:
    """A fresh row id (a random UUID, as browsers make them)."""
    return str(uuid.uuid4())


def _is_rows(value: Any) -> bool:
    return value.__class__ is list and bool(value) and all(r.__class__ is dict for r in value)


def without_row_ids(value: Any) -> Any:
    """The value with the row ids of a table taken out; any other value as it is (the same
    object when there is nothing to take out)."""
    if not _is_rows(value) or not any(ROW_ID in row for row in value):
        return value
    return [{k: v for k, v in row.items() if k != ROW_ID} for row in value]


def row_id_errors(value: Any) -> list[tuple[int, str]]:
    """(row index, message) for each row whose id is not a string of 1 to MAX_ROW_ID
    characters or repeats an earlier row's id; rows without an id are fine."""
    if value.__class__ is not list:
        return []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(value):
        if row.__class__ is not dict or ROW_ID not in row:
            continue
        rid = row[ROW_ID]
        if not isinstance(rid, str) or not rid:
            errors.append((index, "a row id is a non-empty string"))
        elif len(rid) > MAX_ROW_ID:
            errors.append((index, f"a row id is at most {MAX_ROW_ID} characters"))
        elif rid in seen:
            errors.append((index, f"row id repeated (first in row {seen[rid]})"))
        else:
            seen[rid] = index
    return errors


def with_row_ids(value: Any, make: Callable[[], str] = new_row_id) -> Any:
    """A table value whose every row has an id: rows that have one keep it, the others get a
    new one (first in each row). Any value that is not a list of rows is returned as it is."""
    if not _is_rows(value) or all(ROW_ID in row for row in value):
        return value
    return [row if ROW_ID in row else {ROW_ID: make(), **row} for row in value]
