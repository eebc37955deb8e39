"""The batch contract behind ``upswing classify``: JSONL texts in, one JSONL line of results per text out.

Input lines are ``{"id": …, "text": …}``; output lines are exactly
``{"id", "label", "best_label", "confidence", "title", "organization", "sentiment"}`` in input order (``label``
is the decision at the type's threshold, ``best_label`` the top guess, ``confidence`` the top guess's). A bad line stops
the run with every bad line's number and field, and the output file is written to a temporary file next to
it and renamed only when every line went through: a failed run leaves no output (and no half of one).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from upswing.core.errors import ValidationFailedError
from upswing.detection.text import Classifier, TextKind, analyze_texts

__all__ = ["BATCH_SIZE", "MAX_ERRORS", "classify_file", "count_lines"]

BATCH_SIZE = 512
#: A broken file lists at most this many bad lines (it stops reading after that).
MAX_ERRORS = 50


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _items(path: Path, errors: list[dict[str, Any]]) -> Iterator[tuple[Any, str]]:
    """Each valid line's (id, text); each bad line is appended to ``errors`` instead."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                item = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                errors.append({"line": number, "field": None, "message": f"not valid JSON ({exc})"})
            else:
                problem = _problem(item)
                if problem is None:
                    yield item["id"], item["text"]
                else:
                    errors.append({"line": number, "field": problem[0], "message": problem[1]})
            if len(errors) >= MAX_ERRORS:
                return


def _problem(item: Any) -> tuple[str | None, str] | None:
    if not isinstance(item, dict):
        return None, f"a line must be a JSON object, not {type(item).__name__}"
    if "id" not in item or item["id"] is None:
        return "id", "missing"
    if not isinstance(item["id"], (str, int)) or isinstance(item["id"], bool):
        return "id", f"must be a string or an integer, not {type(item['id']).__name__}"
    if "text" not in item:
        return "text", "missing"
    if not isinstance(item["text"], str):
        return "text", f"must be a string, not {type(item['text']).__name__}"
    if not item["text"].strip():
        return "text", "is empty"
    return None


def classify_file(source: Path, target: Path, *, kind: TextKind = "person", reference_date: date | None = None,
                  classifier: Classifier | None = None, batch_size: int = BATCH_SIZE,
                  progress: Callable[[int], None] | None = None) -> int:
    """Classify every line of ``source`` into ``target``; returns how many texts were classified.

    Raises ``ValidationFailedError`` (errors carry ``line``, ``field`` and ``message``) when a line is bad;
    ``target`` is then left as it was.
    """
    errors: list[dict[str, Any]] = []
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            batch: list[tuple[Any, str]] = []

            def flush() -> None:
                nonlocal written
                analyses = analyze_texts([text for _, text in batch], kind=kind, reference_date=reference_date,
                                         classifier=classifier)
                out.write(b"".join(orjson.dumps(a.contract(item_id)) + b"\n"
                                   for (item_id, _), a in zip(batch, analyses, strict=True)))
                written += len(batch)
                if progress:
                    progress(len(batch))
                batch.clear()

            for item in _items(source, errors):
                if errors:
                    continue  # keep reading to report every bad line, but classify no more
                batch.append(item)
                if len(batch) >= batch_size:
                    flush()
            if batch and not errors:
                flush()
        if errors:
            raise ValidationFailedError(
                f"{len(errors)}{'+' if len(errors) >= MAX_ERRORS else ''} bad line(s) in {source.name}; "
                f"{target.name} was not written", errors)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
