"""Reading points in time the way people and exports write them.

Every timestamp Upswing accepts (API query parameters, CLI options, export fields) goes through
``parse_timestamp``: ISO 8601 with or without a zone (no zone means UTC), a bare date (midnight UTC), or
seconds/milliseconds since the epoch. ``LooseDatetime`` is the same rule as a Pydantic type for API schemas;
a value outside what a UTC timestamp can hold is a validation error (422), never a crash.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

#: Seconds since the epoch above this are taken as milliseconds.
_MILLISECONDS_FROM = 1e11


def parse_timestamp(value: object) -> datetime | None:
    """A UTC datetime from an ISO 8601 string, a date, or epoch seconds/milliseconds; None if unreadable."""
    try:
        return _parse(value)
    except (ValueError, OverflowError, OSError):
        return None


def _parse(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > _MILLISECONDS_FROM else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


def _loose(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError("expected an ISO 8601 date or time (no zone means UTC), e.g. 2026-12-06 or "
                         "2026-12-06T08:00:00Z, within years 1–9999 in UTC")
    return parsed


#: An API datetime that also accepts a date or a time without a zone (taken as UTC, as the CLI does).
LooseDatetime = Annotated[
    datetime, BeforeValidator(_loose),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "description": "ISO 8601 date or date-time; without a zone it is UTC"}),
]
