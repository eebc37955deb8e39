"""``rss``: RSS and Atom feeds (news, press releases, company newsrooms) → TEXT items.

Feeds are fetched as pages: robots.txt first, conditional GET with the ETag/Last-Modified kept in the
cursor, so an unchanged feed costs one 304. The cursor keeps, per feed, the newest entry date and the
ids of recent entries: an entry is new when its id was not seen and it is not older than the newest
date already seen.
"""

from __future__ import annotations

import calendar
import html
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser  # type: ignore[import-untyped]
from pydantic import Field

from upswing.core.http import Disallowed, HttpError, Validators
from upswing.source.connector import (
    Capability,
    Connector,
    ConnectorConfig,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
    Target,
)
from upswing.source.connectors._pages import dump_cursor, load_cursor, url_targets

_TAG = re.compile(r"<[^>]+>")
_SEEN_KEPT = 500  # ids remembered per feed


class RssConfig(ConnectorConfig):
    feeds: list[str] = Field(default_factory=list, description="Feed URLs watched on every run")
    max_entries_per_feed: int = Field(default=100, ge=1, le=10_000, description="Newest entries read per feed")
    about: str | None = Field(default=None, description="'company' when the feeds are company news")


def _plain(text: Any) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split()) if isinstance(text, str) else ""


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


class RssConnector(Connector[RssConfig]):
    slug: ClassVar[str] = "rss"
    title: ClassVar[str] = "RSS and Atom feeds"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PULL})
    config_model: ClassVar[type[RssConfig]] = RssConfig

    def check(self, config: RssConfig) -> Health:
        if not config.feeds:
            return Health(True, "no feeds configured; feeds can come with each request")
        try:
            response = self.http.get_page(config.feeds[0], conditional=False)
        except Disallowed as exc:
            return Health(False, str(exc))
        except HttpError as exc:
            return Health(False, str(exc), blocked=exc.blocks_source)
        parsed = feedparser.parse(response.content)
        if parsed.bozo and not parsed.entries:
            return Health(False, f"{config.feeds[0]} is not a readable feed")
        return Health(True, f"{config.feeds[0]}: {len(parsed.entries)} entries")

    def fetch(self, config: RssConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        state = load_cursor(cursor)
        feeds_state: dict[str, Any] = state.setdefault("feeds", {})
        items: list[RawItem] = []
        errors: list[str] = []
        targets = url_targets(config.feeds, request, errors)
        for done, target in enumerate(targets):
            try:
                items.extend(self._feed(config, target, feeds_state, errors))
            except Disallowed as exc:
                errors.append(f"{target.key}: {exc}")
            except HttpError as exc:
                if done == 0 and not items:
                    raise
                return FetchResult(items, dump_cursor(state), {}, errors, [t.key for t in targets[done:]], exc)
            if request.limit is not None and len(items) >= request.limit:
                break
        return FetchResult(items, dump_cursor(state), {"feeds": len(targets)}, errors)

    def _feed(self, config: RssConfig, target: Target, feeds_state: dict[str, Any],
              errors: list[str]) -> list[RawItem]:
        url = target.value
        known: dict[str, Any] = feeds_state.get(url) or {}
        validators = Validators(known.get("etag"), known.get("last_modified"))
        response = self.http.get_page(url, validators=validators if known else None)
        if response.not_modified:
            return []
        parsed = feedparser.parse(response.content)
        if parsed.bozo and not parsed.entries:
            errors.append(f"{target.key}: {url} is not a readable RSS/Atom feed")
            return []
        newest = datetime.fromisoformat(known["newest"]) if known.get("newest") else None
        seen: list[str] = list(known.get("seen") or [])
        seen_set = set(seen)
        feed_title = _plain(parsed.feed.get("title"))
        items: list[RawItem] = []
        newest_now = newest
        for entry in parsed.entries[: config.max_entries_per_feed]:
            entry_id = str(entry.get("id") or entry.get("link") or entry.get("title") or "")
            if not entry_id or entry_id in seen_set:
                continue
            published = _entry_time(entry)
            if published is not None and newest is not None and published < newest:
                continue  # older than what we already had: an edit or a reshuffle, not news
            title = _plain(entry.get("title"))
            summary = _plain(entry.get("summary") or entry.get("description"))
            if not (title or summary):
                continue
            payload: dict[str, Any] = {
                "id": entry_id, "title": title, "link": entry.get("link"), "summary": summary,
                "text": f"{title}. {summary}".strip(". ") if summary else title,
                "published": published.isoformat() if published else None,
                "author": _plain(entry.get("author")) or None, "feed": url, "feed_title": feed_title,
            }
            if config.about:
                payload["about"] = config.about
            items.append(RawItem(kind=ItemKind.TEXT, payload=payload,
                                 target_key=None if target.key == url else target.key,
                                 url=entry.get("link"), observed_at=published))
            seen.append(entry_id)
            seen_set.add(entry_id)
            if published is not None and (newest_now is None or published > newest_now):
                newest_now = published
        feeds_state[url] = {"etag": response.validators.etag, "last_modified": response.validators.last_modified,
                            "newest": newest_now.isoformat() if newest_now else None, "seen": seen[-_SEEN_KEPT:]}
        return items
