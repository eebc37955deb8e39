"""Paging every list the same way, with bounds a client cannot push past (no overflow, no unbounded scans)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import Query
from pydantic import Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from upswing.core.errors import ValidationFailedError

#: The deepest ``offset`` a list accepts: deeper pages are reached by narrowing the filters (or, where a list
#: has one, by its cursor).
MAX_OFFSET = 10_000
#: The most items one page returns.
MAX_LIMIT = 1000

#: ``offset`` as a query parameter of an endpoint function.
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Items to skip (at most {MAX_OFFSET})")]


def offset_field() -> int:
    """``offset`` in a filters model (``offset: int = offset_field()``)."""
    return Field(default=0, ge=0, le=MAX_OFFSET,
                 description=f"Items to skip (at most {MAX_OFFSET}; narrow the filters to go further)")


def cursor_field() -> str | None:
    """``cursor`` in the filters model of a list that pages by cursor."""
    return Field(default=None, max_length=500,
                 description="The next_cursor of the previous page (then offset is not used)")


def count_field() -> bool:
    """``count`` in the filters model of a list that counts only when asked."""
    return Field(default=False, description=(
        f"Also count the matches, up to {COUNT_CAP:,} (total, total_is_exact). Counting costs more than the page "
        "itself on a large book: ask for it when the number is shown, not on every page"))


# --------------------------------------------------------------------------------------------------
# Cursors: keyset pagination that stays stable while rows are added
# --------------------------------------------------------------------------------------------------

#: Lists count their matches up to this many (``total``); beyond it ``total_is_exact`` is false and ``total`` is
#: this cap ("1,000+"). An exact count of a large book costs a scan of it on every page; counting 10,000 rows
#: of an agent's feed cost 13 ms of database time per request, counting 1,000 about a tenth of that.
COUNT_CAP = 1_000


def encode_cursor(kind: str, values: Sequence[Any]) -> str:
    """An opaque cursor: where the next page starts, in a list sorted by ``kind``."""
    raw = orjson.dumps([kind, [_plain(v) for v in values]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, kind: str) -> list[Any]:
    """The sort-key values a cursor holds; a cursor from another list or sort, or a made-up one, is a 422."""
    try:
        padded = token + "=" * (-len(token) % 4)
        stored_kind, values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if stored_kind != kind or not isinstance(values, list):
            raise ValueError(kind)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationFailedError("cursor: not a cursor of this list and sort (use the next_cursor a page gave)",
                                    [{"row": None, "field": "cursor", "message": "invalid cursor"}]) from None
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def capped_count(session: Session, query: Select[Any], cap: int = COUNT_CAP,
                 *, scopes: Sequence[ColumnElement[bool]] | None = None) -> tuple[int, bool]:
    """``(count, exact)``: the number of rows the query returns, counted up to ``cap`` only.

    ``scopes``: disjoint conditions whose union is what the user may see (an agent's own rows, the rest of their
    team's), each counted on its own index: one ``OR`` over both would read every index entry of the team first.
    """
    parts = [query] if scopes is None else [query.where(scope) for scope in scopes]
    counts = [select(func.count()).select_from(part.order_by(None).limit(cap + 1).subquery()).scalar_subquery()
              for part in parts]
    summed: ColumnElement[int] = counts[0]
    for count in counts[1:]:
        summed = summed + count
    counted = session.scalar(select(summed)) or 0
    return (counted, True) if counted <= cap else (cap, False)
