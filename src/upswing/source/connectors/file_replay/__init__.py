"""``file-replay``: saved exports (a file, or every matching file in a directory) replayed offline.

What the demo uses: no network at all. Each file is read once (JSON array or JSON Lines, through the
same reader as ``upswing observations import``); the cursor lists the files done with their sizes, so a
new file, or a file that grew, is read on the next run. Items that look like a LinkedIn profile actor's
output become PROFILE items; items with ``content``/``text`` become TEXT items (posts, news); anything
else is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from upswing.core.errors import ValidationFailedError
from upswing.core.identifiers import normalize_linkedin_url
from upswing.core.timeparse import parse_timestamp
from upswing.observation.apify import UnknownShapeError, detect_shape, normalize_item
from upswing.observation.reader import item_timestamp, read_items
from upswing.source.connector import (
    Capability,
    Connector,
    ConnectorConfig,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
)
from upswing.source.connectors._pages import dump_cursor, load_cursor


class FileReplayConfig(ConnectorConfig):
    path: str = Field(description="An export file, or a directory of them")
    pattern: str = Field(default="*.json*", description="Files read from a directory (glob)")
    kind: Literal["auto", "profile", "text"] = Field(default="auto", description="What the items are")


class FileReplayConnector(Connector[FileReplayConfig]):
    slug: ClassVar[str] = "file-replay"
    title: ClassVar[str] = "Saved exports (offline replay)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PULL})
    config_model: ClassVar[type[FileReplayConfig]] = FileReplayConfig

    def files(self, config: FileReplayConfig) -> list[Path]:
        root = Path(config.path).expanduser()
        if root.is_file():
            return [root]
        if root.is_dir():
            return sorted(p for p in root.glob(config.pattern) if p.is_file())
        raise ValidationFailedError(f"file-replay: {root} does not exist",
                                    [{"row": None, "field": "path", "message": "no such file or directory"}])

    def check(self, config: FileReplayConfig) -> Health:
        try:
            files = self.files(config)
        except ValidationFailedError as exc:
            return Health(False, str(exc))
        return Health(bool(files), f"{len(files)} export file(s) at {config.path}")

    def fetch(self, config: FileReplayConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        state = load_cursor(cursor)
        done: dict[str, int] = state.setdefault("files", {})
        by_public_id = {}
        for target in request.targets:
            normalized = normalize_linkedin_url(target.value)
            if normalized:
                by_public_id[normalized[1]] = target.key
        items: list[RawItem] = []
        errors: list[str] = []
        files = self.files(config)
        for path in files:
            size = path.stat().st_size
            if done.get(str(path)) == size:
                continue
            try:
                for number, raw in read_items(path):
                    item = self._item(config, raw, by_public_id)
                    if item is None:
                        errors.append(f"{path.name} item {number}: neither a profile nor a text; skipped")
                    else:
                        items.append(item)
            except ValidationFailedError as exc:
                errors.append(str(exc))  # reported once; the file is read again when it changes
            done[str(path)] = size
            if request.limit is not None and len(items) >= request.limit:
                break  # whole files only: the rest waits for the next run
        return FetchResult(items, dump_cursor(state), {"files": len(files)}, errors)

    @staticmethod
    def _item(config: FileReplayConfig, raw: dict[str, Any], by_public_id: dict[str, str]) -> RawItem | None:
        if config.kind in ("auto", "profile"):
            try:
                snapshot = normalize_item(raw, detect_shape(raw))
            except UnknownShapeError:
                snapshot = None
            if snapshot is not None:
                key = by_public_id.get((snapshot.public_identifier or "").casefold())
                return RawItem(ItemKind.PROFILE, raw, target_key=key, url=snapshot.linkedin_url,
                               observed_at=item_timestamp(raw), subject_url=snapshot.linkedin_url)
            if config.kind == "profile":
                return None
        text = raw.get("text") or raw.get("content")
        if not isinstance(text, str) or not text.strip():
            return None
        author = raw.get("authorPublicIdentifier")
        subject = f"https://www.linkedin.com/in/{author.casefold()}" if isinstance(author, str) and author else None
        posted = raw.get("postedAt")
        published = parse_timestamp(posted.get("timestamp") if isinstance(posted, dict) else posted) or \
            parse_timestamp(raw.get("published") or raw.get("publishedAt"))
        return RawItem(ItemKind.TEXT, raw, target_key=by_public_id.get(author.casefold()) if isinstance(author, str)
                       else None, url=raw.get("linkedinUrl") or raw.get("url") or raw.get("link"),
                       observed_at=published, subject_url=subject)
