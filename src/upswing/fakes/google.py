"""A fake Google Custom Search JSON API (``customsearch/v1``, reference §2).

``GET /customsearch/v1`` (and ``/customsearch/v1/siterestrict``) with ``key``, ``cx``, ``q``, ``num`` (1–10)
and ``start`` (1-based; ``start + num`` must not pass 100). Zero results leave out ``items`` and ``nextPage``
(not an empty list). Over the daily quota the answer is the current 429 ``RESOURCE_EXHAUSTED`` or, with
``quota_style="403"``, the legacy 403 ``dailyLimitExceeded``; ``closed=True`` answers the 403 new projects
get since the API closed to new customers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from upswing.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeGoogleSearch", "google_error"]


def google_error(code: int, status: str, message: str, reason: str, domain: str = "global") -> Reply:
    return Reply.json({"error": {"code": code, "message": message, "status": status,
                                 "errors": [{"message": message, "domain": domain, "reason": reason}]}}, code)


class FakeGoogleSearch(FakeServer):
    name = "fake-google-cse"

    def __init__(self, *, key: str = "google-test-key", cx: str = "test-engine", daily_quota: int = 100,
                 quota_style: str = "429", closed: bool = False) -> None:
        super().__init__()
        self.key = key
        self.cx = cx
        self.daily_quota = daily_quota
        self.quota_style = quota_style
        self.closed = closed
        self.queries_today = 0
        self._results: list[tuple[str, list[dict[str, Any]]]] = []
        self._count_lock = threading.Lock()
        self.add_route("GET", r"^/customsearch/v1(?:/siterestrict)?$", "search", self._search)

    def add_results(self, query_contains: str, results: Iterable[Mapping[str, str]]) -> None:
        """Queries containing ``query_contains`` (case-insensitive) get these results (title, link, snippet)."""
        self._results.append((query_contains.casefold(), [_result(r) for r in results]))

    def _search(self, request: Request) -> Reply:
        key = request.arg("key")
        if not key:
            return google_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers "
                                "without established identity). Please use API Key or other form of API consumer "
                                "identity to call this API.", "forbidden")
        if key != self.key:
            return google_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                                "badRequest")
        if self.closed:
            return google_error(403, "PERMISSION_DENIED",
                                "This project does not have the access to Custom Search JSON API.", "forbidden")
        if request.arg("cx") != self.cx:
            return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "badRequest")
        query = request.arg("q") or ""
        num = _int(request.arg("num"), 10)
        start = _int(request.arg("start"), 1)
        if not query or not 1 <= num <= 10 or start < 1 or start + num > 101:
            return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "badRequest")
        with self._count_lock:
            if self.queries_today >= self.daily_quota:
                return self._quota_error()
            self.queries_today += 1
        matched = [item for needle, items in self._results if needle in query.casefold() for item in items]
        page = matched[start - 1: start - 1 + num]
        request_info = {"title": "Google Custom Search - " + query, "totalResults": str(len(matched)),
                        "searchTerms": query, "count": len(page), "startIndex": start, "inputEncoding": "utf8",
                        "outputEncoding": "utf8", "safe": "off", "cx": self.cx}
        body: dict[str, Any] = {
            "kind": "customsearch#search",
            "url": {"type": "application/json", "template": "https://www.googleapis.com/customsearch/v1?q={searchTerms}"
                    "&num={count?}&start={startIndex?}&cx={cx?}&key={key?}&alt=json"},
            "queries": {"request": [request_info]},
            "context": {"title": "Fake engine"},
            "searchInformation": {"searchTime": 0.21, "formattedSearchTime": "0.21",
                                  "totalResults": str(len(matched)), "formattedTotalResults": f"{len(matched):,}"},
        }
        if page:
            body["items"] = page
        if start - 1 + num < len(matched) and start + 2 * num <= 101:
            body["queries"]["nextPage"] = [{**request_info, "startIndex": start + num}]
        return Reply.json(body)

    def _quota_error(self) -> Reply:
        if self.quota_style == "403":
            return google_error(403, "PERMISSION_DENIED", "Daily Limit Exceeded", "dailyLimitExceeded",
                                "usageLimits")
        return google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries' and limit "
                            "'Queries per day' of service 'customsearch.googleapis.com'.", "rateLimitExceeded")


def _result(raw: Mapping[str, str]) -> dict[str, Any]:
    link = raw["link"]
    host = urlsplit(link).hostname or ""
    title = raw.get("title", host)
    return {"kind": "customsearch#result", "title": title, "htmlTitle": title, "link": link, "displayLink": host,
            "snippet": raw.get("snippet", ""), "htmlSnippet": raw.get("snippet", ""),
            "formattedUrl": link, "htmlFormattedUrl": link, "cacheId": "fakeCache",
            "pagemap": {"metatags": [{"og:title": title}]}}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return -1
