"""Reading dataset exports: a JSON array or JSON Lines, whatever the file extension says.

A file that holds no item is refused, never read as "nothing new": an empty (0-byte) file, one with only
whitespace, an empty JSON array, or a file that is neither a JSON array nor JSON Lines is what a failed or
unfinished scrape leaves behind, and must not look like a quiet day. Each refusal is a
``ValidationFailedError`` that names the file and the problem (the API answers 422, the CLI exits 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from upswing.core.errors import ValidationFailedError
from upswing.core.timeparse import parse_timestamp

# Fields an export may carry for when the item was fetched, in order of preference.
TIMESTAMP_FIELDS = ("scrapedAt", "scraped_at", "scrapeTimestamp", "crawledAt", "fetchedAt", "retrievedAt",
                    "timestamp")
_BOM = b"\xef\xbb\xbf"
_CHUNK = 64 * 1024
_NOT_JSON = "is neither a JSON array nor JSON Lines"


def open_items(path: Path) -> tuple[int, Iterator[tuple[int, dict[str, Any]]]]:
    """How many items a file holds (for a progress bar) and an iterator over them, reading it once
    for a JSON array and streaming it for JSON Lines.

    Refuses, before returning, a file without items (empty, only whitespace, ``[]``) and one whose first
    item is not JSON; a bad line further down is reported when the iterator reaches it.
    """
    if _layout(path) == "array":
        data = _load_array(path)
        return len(data), (
            (number, _expect_object(item, number, path)) for number, item in enumerate(data, start=1))
    total = 0
    with path.open("rb") as handle:
        for number, line in _non_blank(handle):
            if total == 0:
                _parse_line(line, number, path, first=True)
            total += 1
    return total, _read_lines(path)


def read_items(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (1-based item number, item). A malformed file names the line or item that is wrong; a file
    without items is refused (see the module docstring)."""
    if _layout(path) == "array":
        for number, item in enumerate(_load_array(path), start=1):
            yield number, _expect_object(item, number, path)
        return
    yield from _read_lines(path)


def _layout(path: Path) -> Literal["array", "lines"]:
    """``array`` when the first character that is not whitespace is ``[``, else ``lines``; refuses a file
    with no such character."""
    with path.open("rb") as handle:
        chunk = handle.read(_CHUNK)
        if not chunk:
            raise _no_items(path, "is empty (0 bytes)")
        chunk = chunk.removeprefix(_BOM)
        while chunk and not chunk.strip():
            chunk = handle.read(_CHUNK)
    if not chunk:
        raise _no_items(path, "holds only whitespace")
    return "array" if chunk.lstrip().startswith(b"[") else "lines"


def _no_items(path: Path, problem: str) -> ValidationFailedError:
    return ValidationFailedError(f"{path.name} {problem}: no items to ingest (a failed or unfinished export?); "
                                 "nothing was stored")


def _load_array(path: Path) -> list[Any]:
    try:
        data = orjson.loads(path.read_bytes().removeprefix(_BOM))
    except json.JSONDecodeError as exc:
        raise ValidationFailedError(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})",
                                    [{"row": exc.lineno, "field": None, "message": exc.msg}]) from None
    if not isinstance(data, list):
        raise ValidationFailedError(f"{path.name}: expected a JSON array of items")
    if not data:
        raise _no_items(path, "is an empty JSON array")
    return data


def _non_blank(handle: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line) for each line that is not blank; a byte-order mark starting the file is dropped."""
    for number, line in enumerate(handle, start=1):
        if number == 1:
            line = line.removeprefix(_BOM)
        if line.strip():
            yield number, line


def _read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    seen = 0
    with path.open("rb") as handle:
        for number, line in _non_blank(handle):
            item = _parse_line(line, number, path, first=seen == 0)
            seen += 1
            yield number, _expect_object(item, number, path)
    if not seen:
        raise _no_items(path, "holds only whitespace")


def _parse_line(line: bytes, number: int, path: Path, *, first: bool) -> Any:
    try:
        return orjson.loads(line)
    except json.JSONDecodeError as exc:
        if first:
            message = f"{path.name} {_NOT_JSON}: line {number} is not valid JSON ({exc.msg})"
        else:
            message = f"{path.name}: line {number} is not valid JSON ({exc.msg})"
        raise ValidationFailedError(message, [{"row": number, "field": None, "message": exc.msg}]) from None


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
