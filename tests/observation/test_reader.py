from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from upswing.core.errors import ValidationFailedError
from upswing.core.timeparse import parse_timestamp
from upswing.observation.reader import item_timestamp, open_items, read_items


def test_item_timestamp_prefers_scrape_time_fields() -> None:
    assert item_timestamp({"scrapedAt": "2026-10-01T06:00:00Z", "timestamp": 0}) == datetime(
        2026, 10, 1, 6, tzinfo=UTC)
    assert item_timestamp({"element": {"crawledAt": "2026-09-02T00:00:00+02:00"}}) == datetime(
        2026, 9, 1, 22, tzinfo=UTC)
    assert item_timestamp({"timestamp": 1_790_000_000_000}) == datetime.fromtimestamp(1_790_000_000, UTC)
    assert item_timestamp({"headline": "no time here"}) is None
    assert parse_timestamp("not a date") is None


def test_open_items_counts_and_streams_both_formats(tmp_path: Path) -> None:
    array = tmp_path / "a.json"
    array.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"n": 1}, {"n": 2}]).encode())
    total, items = open_items(array)
    assert total == 2 and [item["n"] for _, item in items] == [1, 2]
    lines = tmp_path / "a.data"
    lines.write_text('{"n": 1}\n\n{"n": 2}\n{"n": 3}\n')
    total, items = open_items(lines)
    assert total == 3 and [number for number, _ in items] == [1, 3, 4]


def test_a_file_without_items_is_refused_by_both_readers(tmp_path: Path) -> None:
    cases = {b"": "is empty (0 bytes)", b"\n  \n": "holds only whitespace",
             b"\xef\xbb\xbf" + b" " * 70_000 + b"\n": "holds only whitespace", b"[ ]": "is an empty JSON array",
             b"Service Unavailable\n": "is neither a JSON array nor JSON Lines: line 1"}
    for number, (content, problem) in enumerate(cases.items()):
        path = tmp_path / f"export-{number}.json"
        path.write_bytes(content)
        with pytest.raises(ValidationFailedError, match=re.escape(f"export-{number}.json {problem}")):
            open_items(path)
        with pytest.raises(ValidationFailedError, match=re.escape(f"export-{number}.json {problem}")):
            list(read_items(path))


def test_blank_lines_and_a_bom_around_json_lines_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"\xef\xbb\xbf\n\n" + b'{"n": 1}\n   \n{"n": 2}\n\n')
    total, items = open_items(path)
    assert total == 2 and [(number, item["n"]) for number, item in items] == [(3, 1), (5, 2)]
