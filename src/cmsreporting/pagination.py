"""Keyset pagination with opaque cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from cmsreporting.errors import BadRequest, FieldError

T = TypeVar("T")
ItemT = TypeVar("ItemT")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass
class Page(Generic[T]):
    """One page of rows and the cursor of the next page."""

    items: list[T]
    next_cursor: str | None


class PageOut(BaseModel, Generic[ItemT]):
    """A page of a list: pass next_cursor back as ?cursor= for the following page."""

    items: list[ItemT]
    next_cursor: str | None = Field(description="Cursor of the next page; null on the last page")


def encode_cursor(value: Any) -> str:
    """An opaque cursor from the last key of a page."""
    raw = json.dumps({"k": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The key a cursor stands for; a malformed cursor is a 400 naming the parameter."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(
            "the cursor is not one this service issued",
            errors=[FieldError("/cursor", "malformed cursor", parameter="cursor")],
        ) from exc


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    key: InstrumentedAttribute[Any],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    key_type: type = int,
) -> Page[Any]:
    """Rows of `stmt` after the cursor, ordered by the unique column `key`."""
    if cursor is not None:
        after = decode_cursor(cursor)
        limit_bits = 63 if isinstance(key.type, BigInteger) else 31
        if isinstance(after, str) and "\x00" in after:
            after = None
        if type(after) is not key_type or (
            key_type is int and not -(2**limit_bits) <= after < 2**limit_bits
        ):
            raise BadRequest(
                "the cursor is not one this list issued",
                errors=[FieldError("/cursor", "cursor of another list", parameter="cursor")],
            )
        stmt = stmt.where(key < after if descending else key > after)
    stmt = stmt.order_by(key.desc() if descending else key.asc()).limit(limit + 1)
    rows = list((await session.scalars(stmt)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], key.key))
    return Page(items=rows, next_cursor=next_cursor)


@dataclass
class PageParams:
    """The limit and cursor of a list request."""

    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=500, description="next_cursor of the previous page")
    ] = None,
) -> PageParams:
    """Pagination query parameters shared by every list."""
    return PageParams(limit=limit, cursor=cursor)


Paging = Annotated[PageParams, Depends(page_params)]
