"""Reading dataset exports: a JSON array or JSON Lines, whatever the file extension says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from upswing.core.errors import ValidationFailedError

# Fields an export may carry for when the item was fetched, in order of preference.
TIMESTAMP_FIELDS = ("scrapedAt", "scraped_at", "scrapeTimestamp", "crawledAt", "fetchedAt", "retrievedAt",
                    "timestamp")


def open_items(path: Path) -> tuple[int, Iterator[tuple[int, dict[str, Any]]]]:
    """How many items a file holds (for a progress bar) and an iterator over them, reading it once
    for a JSON array and streaming it for JSON Lines."""
    if _is_json_array(path):
        data = _load_array(path)
        return len(data), (
            (number, _expect_object(item, number, path)) for number, item in enumerate(data, start=1))
    with path.open("rb") as handle:
        total = sum(1 for line in handle if line.strip())
    return total, _read_lines(path)


def read_items(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (1-based item number, item). A malformed file names the line or item that is wrong."""
    if _is_json_array(path):
        for number, item in enumerate(_load_array(path), start=1):
            yield number, _expect_object(item, number, path)
        return
    yield from _read_lines(path)


def _is_json_array(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4096).lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"[")


def _load_array(path: Path) -> list[Any]:
    try:
        data = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    except json.JSONDecodeError as exc:
        raise ValidationFailedError(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})",
                                    [{"row": exc.lineno, "field": None, "message": exc.msg}]) from None
    if not isinstance(data, list):
        raise ValidationFailedError(f"{path.name}: expected a JSON array of items")
    return data


def _read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationFailedError(f"{path.name}: line {number} is not valid JSON ({exc.msg})",
                                            [{"row": number, "field": None, "message": exc.msg}]) from None
            yield number, _expect_object(item, number, path)


def _expect_object(item: object, number: int, path: Path) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationFailedError(f"{path.name}: item {number} is not a JSON object",
                                    [{"row": number, "field": None, "message": "expected an object"}])
    return item


def item_timestamp(item: dict[str, Any]) -> datetime | None:
    """The time the item says it was fetched, if it says so."""
    container = item.get("element") if isinstance(item.get("element"), dict) else item
    for source in (item, container):
        for field in TIMESTAMP_FIELDS:
            value = source.get(field) if isinstance(source, dict) else None
            parsed = parse_timestamp(value)
            if parsed is not None:
                return parsed
    return None


def parse_timestamp(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # milliseconds or seconds since the epoch
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None
