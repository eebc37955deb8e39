from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from upswing.observation.reader import item_timestamp, open_items, parse_timestamp


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
