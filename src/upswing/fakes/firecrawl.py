"""A fake Firecrawl API, v1 and v2 side by side (reference §3).

* ``POST /{v1,v2}/scrape`` ``{url, formats, onlyMainContent, ...}`` → ``{"success": true, "data": {markdown?,
  html?, links?, metadata{title, description, language, sourceURL, url, statusCode, contentType, scrapeId,
  creditsUsed, proxyUsed, cacheState}}}``. v1 takes string formats only; v2 also ``{"type": ...}`` objects.
  A page the fake does not know is still a success with ``metadata.statusCode`` 404, as Firecrawl reports
  the target site's status rather than failing.
* ``POST /{v1,v2}/map`` ``{url, search?, limit?}`` → ``links``: plain strings on v1, ``{url, title?,
  description?}`` objects on v2.
* ``POST /{v1,v2}/search`` ``{query, limit?}`` → v1 ``data: [{url, title, description}]``; v2 ``data: {web:
  [{url, title, description, position}]}``. (Search is not in the reference; the shapes follow Firecrawl's
  public docs and are marked unverified in ``docs/sources.md``.)
* Errors ``{"success": false, "error": "...", "code"?}``: 401 bad token, 402 out of credits, 400 bad input.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from upswing.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeFirecrawl", "firecrawl_error"]

_V1_FORMATS = {"markdown", "html", "rawHtml", "links", "screenshot", "screenshot@fullPage", "json", "changeTracking"}


def firecrawl_error(status: int, message: str, code: str | None = None) -> Reply:
    body: dict[str, Any] = {"success": False, "error": message}
    if code:
        body["code"] = code
    return Reply.json(body, status)


@dataclass
class FakePage:
    url: str
    markdown: str
    title: str | None = None
    description: str | None = None
    links: list[str] = field(default_factory=list)
    status_code: int = 200

    @property
    def html(self) -> str:
        return f"<html><head><title>{self.title or ''}</title></head><body>{self.markdown}</body></html>"


class FakeFirecrawl(FakeServer):
    name = "fake-firecrawl"

    def __init__(self, *, api_key: str = "fc-test-key", credits: int | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.credits = credits  # None: unlimited
        self.pages: dict[str, FakePage] = {}
        self._searches: list[tuple[str, list[dict[str, str]]]] = []
        self._credit_lock = threading.Lock()
        for version in ("v1", "v2"):
            self.add_route("POST", rf"^/{version}/scrape$", f"{version}-scrape", self._scrape)
            self.add_route("POST", rf"^/{version}/map$", f"{version}-map", self._map)
            self.add_route("POST", rf"^/{version}/search$", f"{version}-search", self._search)

    # ---- seeding

    def add_page(self, url: str, markdown: str, *, title: str | None = None, description: str | None = None,
                 links: Iterable[str] = (), status_code: int = 200) -> None:
        self.pages[_key(url)] = FakePage(url, markdown, title, description, list(links), status_code)

    def add_search(self, query_contains: str, results: Iterable[Mapping[str, str]]) -> None:
        self._searches.append((query_contains.casefold(), [dict(r) for r in results]))

    # ---- handlers

    def _check(self, request: Request, cost: int) -> Reply | dict[str, Any]:
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.api_key}":
            return firecrawl_error(401, "Unauthorized: Invalid token")
        try:
            body = request.json()
        except ValueError:
            return firecrawl_error(400, "Bad Request: body is not valid JSON")
        if not isinstance(body, dict):
            return firecrawl_error(400, "Bad Request: expected a JSON object")
        with self._credit_lock:
            if self.credits is not None:
                if self.credits < cost:
                    return firecrawl_error(402, "Payment Required: Insufficient credits to perform this request.")
                self.credits -= cost
        return body

    def _scrape(self, request: Request) -> Reply:
        body = self._check(request, 1)
        if isinstance(body, Reply):
            return body
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return firecrawl_error(400, "Bad Request: Invalid URL", "BAD_REQUEST")
        formats = _formats(body.get("formats", ["markdown"]), v1=request.path.startswith("/v1/"))
        if formats is None:
            return firecrawl_error(400, "Bad Request: invalid formats", "BAD_REQUEST")
        page = self.pages.get(_key(url))
        status = page.status_code if page else 404
        metadata: dict[str, Any] = {
            "title": page.title if page else "Not Found", "description": page.description if page else None,
            "language": "en", "sourceURL": url, "url": page.url if page else url, "statusCode": status,
            "contentType": "text/html; charset=utf-8", "scrapeId": str(uuid.uuid4()), "creditsUsed": 1,
            "proxyUsed": "basic", "cacheState": "miss",
        }
        if page is None:
            metadata["error"] = "Not Found"
        data: dict[str, Any] = {"metadata": {k: v for k, v in metadata.items() if v is not None}}
        if "markdown" in formats:
            data["markdown"] = page.markdown if page else "# Not Found"
        if "html" in formats or "rawHtml" in formats:
            data["html" if "html" in formats else "rawHtml"] = page.html if page else ""
        if "links" in formats:
            data["links"] = list(page.links) if page else []
        return Reply.json({"success": True, "data": data})

    def _map(self, request: Request) -> Reply:
        body = self._check(request, 1)
        if isinstance(body, Reply):
            return body
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return firecrawl_error(400, "Bad Request: Invalid URL", "BAD_REQUEST")
        host = _site(url)
        search = str(body.get("search") or "").casefold()
        limit = body.get("limit") if isinstance(body.get("limit"), int) else 5000
        found = [page for page in self.pages.values() if _site(page.url) == host
                 and (not search or search in page.url.casefold() or search in (page.title or "").casefold())]
        found = found[:limit]
        if request.path.startswith("/v1/"):
            return Reply.json({"success": True, "links": [page.url for page in found]})
        links = [{"url": page.url, **({"title": page.title} if page.title else {}),
                  **({"description": page.description} if page.description else {})} for page in found]
        return Reply.json({"success": True, "links": links})

    def _search(self, request: Request) -> Reply:
        body = self._check(request, 1)
        if isinstance(body, Reply):
            return body
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return firecrawl_error(400, "Bad Request: query is required", "BAD_REQUEST")
        limit = body.get("limit") if isinstance(body.get("limit"), int) else 5
        found = [r for needle, results in self._searches if needle in query.casefold() for r in results][:limit]
        if request.path.startswith("/v1/"):
            return Reply.json({"success": True, "data": found, "warning": None})
        web = [{**r, "position": n} for n, r in enumerate(found, start=1)]
        return Reply.json({"success": True, "data": {"web": web}, "creditsUsed": 1})


def _formats(raw: Any, *, v1: bool) -> set[str] | None:
    if not isinstance(raw, list):
        return None
    names: set[str] = set()
    for entry in raw:
        if isinstance(entry, str):
            if v1 and entry not in _V1_FORMATS:
                return None
            names.add(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("type"), str) and not v1:
            names.add(entry["type"])
        else:
            return None
    return names


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").casefold()
    return host.removeprefix("www.")


def _key(url: str) -> str:
    parts = urlsplit(url)
    return f"{_site(url)}{parts.path.rstrip('/') or '/'}"
