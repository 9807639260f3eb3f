"""Keyset (cursor) pagination shared by every list endpoint.

A cursor is opaque to clients: base64url of the last row's sort key and id. Keyset
pagination stays correct while rows are inserted between pages (offsets would skip or
repeat rows) and costs one index range scan per page however deep the client goes.
Lists are ordered newest first by `(sort_key, id)`; the id breaks ties between rows
written in the same microsecond.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from servio.kit.clock import as_utc
from servio.kit.errors import ProblemError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")
RowT = TypeVar("RowT")
SelectT = TypeVar("SelectT", bound=Select[Any])
SortKey = datetime | int | str


class Page(BaseModel, Generic[T]):
    """Every list response: `{"items": [...], "next_cursor": "..." | null}`."""

    model_config = ConfigDict(from_attributes=True)

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )


@dataclass(frozen=True)
class Cursor:
    sort_key: SortKey
    id: str


class InvalidCursor(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "INVALID_CURSOR",
            "the pagination cursor is not valid",
            hint="pass back the next_cursor of a previous page unchanged",
        )


def encode_cursor(sort_key: SortKey, row_id: str) -> str:
    if isinstance(sort_key, datetime):
        packed: list[Any] = ["t", as_utc(sort_key).isoformat(), row_id]
    elif isinstance(sort_key, int):
        packed = ["i", sort_key, row_id]
    else:
        packed = ["s", sort_key, row_id]
    return base64.urlsafe_b64encode(orjson.dumps(packed)).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """Raises `InvalidCursor` (422) for anything `encode_cursor` did not produce."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        kind, key, row_id = orjson.loads(raw)
        if not isinstance(row_id, str):
            raise ValueError(row_id)
        if kind == "t" and isinstance(key, str):
            return Cursor(as_utc(datetime.fromisoformat(key)), row_id)
        if kind == "i" and isinstance(key, int) and not isinstance(key, bool):
            return Cursor(key, row_id)
        if kind == "s" and isinstance(key, str):
            return Cursor(key, row_id)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        pass
    raise InvalidCursor()


@dataclass(frozen=True)
class PageParams:
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def page_params(
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
) -> PageParams:
    """FastAPI dependency: `params: Annotated[PageParams, Depends(page_params)]`."""
    return PageParams(cursor=cursor, limit=limit)


def apply_keyset(
    stmt: SelectT,
    sort_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    *,
    cursor: str | None,
    limit: int,
) -> SelectT:
    """Order `stmt` newest first by (sort_column, id_column), start after `cursor`, and
    fetch one row more than `limit` so `build_page` can tell whether a next page exists."""
    if cursor:
        after = decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                sort_column < after.sort_key,
                and_(sort_column == after.sort_key, id_column < after.id),
            )
        )
    return stmt.order_by(sort_column.desc(), id_column.desc()).limit(limit + 1)


def build_page(
    rows: Sequence[RowT], *, limit: int, key: Callable[[RowT], tuple[SortKey, str]]
) -> tuple[list[RowT], str | None]:
    """Trim the look-ahead row fetched by `apply_keyset` and derive `next_cursor`."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    return items, encode_cursor(*key(items[-1]))
