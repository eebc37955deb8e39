"""What the feed and page connectors share: JSON cursors and the list of URLs a fetch covers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from upswing.source.connector import FetchRequest, Target


def load_cursor(cursor: str | None) -> dict[str, Any]:
    """A JSON-object cursor; anything else (None, an old format) starts afresh."""
    if not cursor:
        return {}
    try:
        loaded = json.loads(cursor)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def dump_cursor(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


def url_targets(configured: Sequence[str], request: FetchRequest, errors: list[str]) -> list[Target]:
    """The configured URLs (keyed by themselves) and the request's URL targets (keyed by whom they are for).

    A target whose value is not an http(s) URL is reported, except the engine's placeholder for a pull
    source (key == value == the source's slug), which just means "everything configured"."""
    targets = [Target(key=url, value=url) for url in configured]
    for target in request.targets:
        if target.value.startswith(("http://", "https://")):
            targets.append(target)
        elif target.key != target.value:
            errors.append(f"{target.key}: not an http(s) URL ({target.value[:80]!r})")
    seen: set[tuple[str, str]] = set()
    unique = []
    for target in targets:
        if (target.key, target.value) not in seen:
            seen.add((target.key, target.value))
            unique.append(target)
    return unique
