"""A fake web and feed server: HTML pages, RSS and Atom feeds, redirects and a robots.txt.

Pages answer conditional GETs the way real servers do: every page has an ``ETag`` (a hash of its body) and
may have a ``Last-Modified``; ``If-None-Match`` / ``If-Modified-Since`` that match give ``304 Not Modified``
with no body. ``robots_txt`` of None makes ``/robots.txt`` a 404 (no rules).
"""

from __future__ import annotations

import email.utils
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from upswing.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeWeb", "FeedEntry", "atom_feed", "html_page", "rss_feed"]


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    summary: str
    published: datetime
    author: str | None = None


@dataclass
class _Page:
    body: bytes
    content_type: str
    last_modified: str | None
    status: int = 200
    location: str | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FakeWeb(FakeServer):
    name = "fake-web"

    def __init__(self, *, robots_txt: str | None = "User-agent: *\nAllow: /\n") -> None:
        super().__init__()
        self.robots_txt = robots_txt
        self.robots_status = 200  # set to 500 to make robots.txt unreachable
        self.pages: dict[str, _Page] = {}
        self.add_route("GET", r"^/robots\.txt$", "robots", self._robots)
        self.add_route("GET", r"^/.*$", "page", self._page)

    def add_page(self, path: str, body: str | bytes, *, content_type: str = "text/html; charset=utf-8",
                 last_modified: datetime | None = None, status: int = 200) -> str:
        """Serve ``body`` at ``path``; returns the page's full URL (the server must be running) or path."""
        raw = body.encode() if isinstance(body, str) else body
        modified = email.utils.format_datetime(last_modified.astimezone(UTC), usegmt=True) if last_modified else None
        self.pages[path] = _Page(raw, content_type, modified, status)
        return self._full(path)

    def add_redirect(self, path: str, to: str, status: int = 302) -> str:
        self.pages[path] = _Page(b"", "text/plain", None, status, to)
        return self._full(path)

    def add_feed(self, path: str, xml: str, *, atom: bool = False) -> str:
        content_type = "application/atom+xml" if atom else "application/rss+xml"
        return self.add_page(path, xml, content_type=f"{content_type}; charset=utf-8")

    def _full(self, path: str) -> str:
        return f"{self.url}{path}" if self._server is not None else path

    def _robots(self, request: Request) -> Reply:
        if self.robots_status != 200:
            return Reply.text("robots unavailable", self.robots_status)
        if self.robots_txt is None:
            return Reply.text("not found", 404)
        return Reply.text(self.robots_txt)

    def _page(self, request: Request) -> Reply:
        page = self.pages.get(request.path)
        if page is None:
            return Reply.text("<html><body>Not found</body></html>", 404, "text/html")
        if page.location is not None:
            return Reply(page.status, b"", {"Location": page.location}, "text/plain")
        headers = {"ETag": page.etag}
        if page.last_modified:
            headers["Last-Modified"] = page.last_modified
        if _not_modified(request, page):
            return Reply(304, b"", headers, page.content_type)
        return Reply(page.status, page.body, headers, page.content_type)


def _not_modified(request: Request, page: _Page) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return page.etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and page.last_modified:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
            modified = email.utils.parsedate_to_datetime(page.last_modified)
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


def html_page(title: str, paragraphs: Iterable[str], *, nav: Iterable[str] = ("Home", "About", "Contact"),
              extra_head: str = "") -> str:
    """An HTML page with navigation and footer boilerplate around an article (for text extraction)."""
    nav_html = "".join(f'<li><a href="/{escape(item.lower())}">{escape(item)}</a></li>' for item in nav)
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    return (f"<!doctype html><html><head><title>{escape(title)}</title>{extra_head}</head><body>"
            f"<header><nav><ul>{nav_html}</ul></nav></header>"
            f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
            f"<footer><p>Copyright 2026. All rights reserved. Privacy policy. Cookie settings.</p></footer>"
            f"</body></html>")


def rss_feed(title: str, link: str, entries: Iterable[FeedEntry]) -> str:
    items = "".join(
        f"<item><guid isPermaLink=\"false\">{escape(entry.id)}</guid><title>{escape(entry.title)}</title>"
        f"<link>{escape(entry.link)}</link><description>{escape(entry.summary)}</description>"
        f"<pubDate>{email.utils.format_datetime(entry.published.astimezone(UTC), usegmt=True)}</pubDate>"
        + (f"<author>{escape(entry.author)}</author>" if entry.author else "") + "</item>"
        for entry in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>{escape(link)}</link><description>{escape(title)}</description>{items}</channel></rss>")


def atom_feed(title: str, link: str, entries: Iterable[FeedEntry]) -> str:
    items = "".join(
        f"<entry><id>{escape(entry.id)}</id><title>{escape(entry.title)}</title>"
        f'<link href="{escape(entry.link)}"/><summary>{escape(entry.summary)}</summary>'
        f"<updated>{entry.published.astimezone(UTC).isoformat()}</updated>"
        f"<published>{entry.published.astimezone(UTC).isoformat()}</published>"
        + (f"<author><name>{escape(entry.author)}</name></author>" if entry.author else "") + "</entry>"
        for entry in entries)
    updated = datetime.now(UTC).isoformat()
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>{escape(link)}</id><link href=\"{escape(link)}\"/>"
            f"<updated>{updated}</updated>{items}</feed>")


def page_headers(mapping: Mapping[str, Any]) -> dict[str, str]:
    return {str(key): str(value) for key, value in mapping.items()}
