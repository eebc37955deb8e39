"""``web-page``: watched web pages (newsrooms, press pages) → their main text as TEXT items.

Robots.txt is checked before every page (a disallowed page is reported and never requested). Pages are
fetched with conditional GET, the ETag/Last-Modified and a hash of the extracted text kept in the cursor:
an unchanged page costs a 304, and a page whose markup changed but whose text did not gives no item.
Main text comes from trafilatura (navigation, footers and ads removed).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

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


class WebPageConfig(ConnectorConfig):
    urls: list[str] = Field(default_factory=list, description="Pages watched on every run")
    min_chars: int = Field(default=100, ge=0, description="Less main text than this is not stored")
    max_chars: int = Field(default=20_000, ge=100, description="Longest text kept per page")
    about: str | None = Field(default=None, description="'company' when the pages are company news")


def extract_main_text(html: str, url: str) -> tuple[str, dict[str, Any]]:
    """(main text, metadata{title, date, author, sitename}) of an HTML page; empty text when none."""
    import trafilatura  # imported here: it takes a while, and only this connector needs it

    extracted = trafilatura.extract(html, url=url, output_format="json", with_metadata=True,
                                    include_comments=False, include_tables=False, favor_precision=True)
    if not extracted:
        return "", {}
    data = json.loads(extracted)
    text = data.get("text") or ""
    metadata = {key: data.get(key) for key in ("title", "date", "author", "sitename") if data.get(key)}
    return text, metadata


class WebPageConnector(Connector[WebPageConfig]):
    slug: ClassVar[str] = "web-page"
    title: ClassVar[str] = "Web pages (main text)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PULL, Capability.SCRAPE})
    config_model: ClassVar[type[WebPageConfig]] = WebPageConfig

    def check(self, config: WebPageConfig) -> Health:
        if not config.urls:
            return Health(True, "no pages configured; pages can come with each request")
        try:
            self.http.get_page(config.urls[0], conditional=False)
        except Disallowed as exc:
            return Health(False, str(exc))
        except HttpError as exc:
            return Health(False, str(exc), blocked=exc.blocks_source)
        return Health(True, f"{config.urls[0]} answers")

    def fetch(self, config: WebPageConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        state = load_cursor(cursor)
        pages: dict[str, Any] = state.setdefault("pages", {})
        items: list[RawItem] = []
        errors: list[str] = []
        targets = url_targets(config.urls, request, errors)
        for done, target in enumerate(targets):
            try:
                item = self._page(config, target, pages, errors)
            except Disallowed as exc:
                errors.append(f"{target.key}: {exc}")
                continue
            except HttpError as exc:
                if done == 0 and not items:
                    raise
                return FetchResult(items, dump_cursor(state), {}, errors, [t.key for t in targets[done:]], exc)
            if item is not None:
                items.append(item)
            if request.limit is not None and len(items) >= request.limit:
                break
        return FetchResult(items, dump_cursor(state), {"pages": len(targets)}, errors)

    def _page(self, config: WebPageConfig, target: Target, pages: dict[str, Any],
              errors: list[str]) -> RawItem | None:
        url = target.value
        known: dict[str, Any] = pages.get(url) or {}
        response = self.http.get_page(url, validators=Validators(known.get("etag"), known.get("last_modified"))
                                      if known else None)
        if response.not_modified:
            return None
        content_type = response.headers.get("content-type", "")
        if content_type and "html" not in content_type and "xml" not in content_type:
            errors.append(f"{target.key}: {url} is {content_type.split(';')[0]}, not a web page")
            return None
        text, metadata = extract_main_text(response.text, url)
        text = text[: config.max_chars]
        digest = hashlib.sha256(text.encode()).hexdigest()
        pages[url] = {"etag": response.validators.etag, "last_modified": response.validators.last_modified,
                      "hash": digest}
        if len(text) < config.min_chars:
            errors.append(f"{target.key}: {url} has no main text worth keeping ({len(text)} characters)")
            return None
        if known.get("hash") == digest:
            return None  # the markup changed, the text did not
        payload: dict[str, Any] = {"url": url, "text": text, **metadata}
        if metadata.get("date"):
            payload["published"] = metadata["date"]
        if config.about:
            payload["about"] = config.about
        return RawItem(kind=ItemKind.TEXT, payload=payload, target_key=None if target.key == url else target.key,
                       url=url)
