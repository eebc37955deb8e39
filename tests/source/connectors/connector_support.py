"""Helpers for connector tests: demo items in each actor's real shape."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

TOKEN = "apify_api_test_token"


def demo_items(name: str) -> list[dict[str, Any]]:
    """Real-shaped actor items shipped with the demo (``src/upswing/demo/data``)."""
    data = resources.files("upswing.demo").joinpath("data", name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in data.splitlines() if line.strip()]
    loaded: list[dict[str, Any]] = json.loads(data)
    return loaded
