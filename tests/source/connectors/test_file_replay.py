"""file-replay: saved exports read offline, each file once, profiles and texts told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from source.connectors.connector_support import demo_items
from upswing.core.errors import ValidationFailedError
from upswing.core.http import HttpClient
from upswing.source.connector import FetchRequest, ItemKind, Target
from upswing.source.connectors.file_replay import FileReplayConfig, FileReplayConnector


def test_replays_each_file_once_and_new_files_later(tmp_path: Path, http: HttpClient) -> None:
    profiles = demo_items("apify-harvestapi-2026-09-01.json")[:5]
    (tmp_path / "a.json").write_text(json.dumps(profiles))
    connector = FileReplayConnector(http)
    config = FileReplayConfig(path=str(tmp_path))
    first = connector.fetch(config, None, FetchRequest())
    assert len(first.items) == 5 and all(item.kind is ItemKind.PROFILE for item in first.items)
    assert connector.fetch(config, first.next_cursor, FetchRequest()).items == []
    posts = [{"id": "p1", "content": "Started a new job!", "authorPublicIdentifier": "Jane-Doe",
              "postedAt": {"timestamp": 1_790_000_000_000}}, {"nothing": "useful"}]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(p) for p in posts))
    second = connector.fetch(config, first.next_cursor, FetchRequest([Target("lead-9", "https://linkedin.com/in/jane-doe")]))
    (post,) = second.items
    assert post.kind is ItemKind.TEXT and post.target_key == "lead-9"
    assert post.subject_url == "https://www.linkedin.com/in/jane-doe" and post.observed_at is not None
    assert second.errors == ["b.jsonl item 2: neither a profile nor a text; skipped"]


def test_profiles_match_targets_and_all_actor_shapes_are_read(tmp_path: Path, http: HttpClient) -> None:
    mixed = (demo_items("apify-dev_fusion-2026-11-01.json")[:2] + demo_items("apify-apimaestro-2026-11-03.json")[:2]
             + demo_items("apify-harvestapi-2026-10-01.jsonl")[:2])
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(mixed))
    target_url = mixed[0]["linkedinUrl"]
    result = FileReplayConnector(http).fetch(FileReplayConfig(path=str(path)), None,
                                             FetchRequest([Target("lead-1", target_url)]))
    assert len(result.items) == 6 and result.errors == []
    assert [item.target_key for item in result.items].count("lead-1") == 1


def test_malformed_file_is_reported_and_missing_path_is_a_clear_error(tmp_path: Path, http: HttpClient) -> None:
    (tmp_path / "bad.json").write_text("[{\"a\": 1},")
    result = FileReplayConnector(http).fetch(FileReplayConfig(path=str(tmp_path)), None, FetchRequest())
    assert result.items == [] and "bad.json: not valid JSON" in result.errors[0]
    with pytest.raises(ValidationFailedError, match="does not exist"):
        FileReplayConnector(http).fetch(FileReplayConfig(path=str(tmp_path / "nope")), None, FetchRequest())
    assert not FileReplayConnector(http).check(FileReplayConfig(path=str(tmp_path / "nope"))).ok
