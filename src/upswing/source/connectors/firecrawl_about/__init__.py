"""``firecrawl-about``: the company's About page through Firecrawl, as cleaned, trimmed markdown
(fills ``companyAbout``).

Target value: the company's domain (or its home page URL). The About page is found with Firecrawl map
(``search: "about"``), else among the home page's links; it is scraped as main-content markdown, cleaned of
images, links, navigation and footers, and trimmed to ``max_chars`` at a paragraph or sentence boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field

from upswing.core.http import Blocked, BudgetExhausted, HttpError
from upswing.source.connector import (
    Capability,
    Connector,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
    Target,
)
from upswing.source.connectors._firecrawl import FirecrawlApi, FirecrawlSettings, text_value
from upswing.source.connectors.firecrawl_about.markdown import clean_markdown, trim

SCRAPE_BUDGET = "firecrawl-credits"
# Path words that name an About page, best first.
_ABOUT_WORDS = ("about-us", "about", "who-we-are", "our-story", "company", "our-company", "uber-uns", "a-propos")
_NOT_ABOUT = re.compile(r"(career|job|news|blog|press|contact|privacy|terms|login|cart)", re.IGNORECASE)


class FirecrawlAboutConfig(FirecrawlSettings):
    max_chars: int = Field(default=4000, ge=200, le=100_000, description="Longest companyAbout kept")
    min_chars: int = Field(default=80, ge=0, description="Shorter cleaned text counts as no About page")
    daily_credit_budget: int = Field(default=500, ge=0, description="Firecrawl credits per day (map + scrape)")


def about_score(url: str, title: str = "") -> int:
    """How much a URL (and its title) looks like an About page; 0 = not at all."""
    path = urlsplit(url).path.casefold().strip("/")
    if not path or _NOT_ABOUT.search(path):
        return 0
    segments = path.split("/")
    for rank, word in enumerate(_ABOUT_WORDS):
        if word in segments or segments[-1].startswith(word):
            return 100 - rank * 5 - (len(segments) - 1) * 10  # shallow pages first
    return 40 if "about" in title.casefold() else 0


def best_about_link(base_host: str, links: Iterable[tuple[str, str]]) -> str | None:
    """The most About-like page on the company's own site (subdomains like www. allowed)."""
    candidates = []
    for url, title in links:
        host = (urlsplit(url).hostname or "").casefold().removeprefix("www.")
        if host != base_host and not host.endswith("." + base_host):
            continue
        score = about_score(url, title)
        if score > 0:
            candidates.append((score, -len(url), url))
    return max(candidates)[2] if candidates else None


class FirecrawlAboutConnector(Connector[FirecrawlAboutConfig]):
    slug: ClassVar[str] = "firecrawl-about"
    title: ClassVar[str] = "Company About page (Firecrawl)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SCRAPE})
    config_model: ClassVar[type[FirecrawlAboutConfig]] = FirecrawlAboutConfig

    def budgets(self, config: FirecrawlAboutConfig) -> dict[str, int]:
        return {SCRAPE_BUDGET: config.daily_credit_budget}

    def _api(self, config: FirecrawlAboutConfig) -> FirecrawlApi:
        return FirecrawlApi(self.http, config.api_key, config.base_url, config.api_version)

    def check(self, config: FirecrawlAboutConfig) -> Health:
        try:
            self._api(config).map("https://example.com", limit=1)
        except Blocked as exc:
            return Health(False, str(exc), blocked=True)
        except HttpError as exc:
            return Health(False, str(exc))
        return Health(True, f"Firecrawl {config.api_version} answers")

    def fetch(self, config: FirecrawlAboutConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        api = self._api(config)
        items: list[RawItem] = []
        errors: list[str] = []
        spent = 0
        targets = list(request.targets)[: request.limit] if request.limit is not None else list(request.targets)
        for done, target in enumerate(targets):
            try:
                item, credits = self._one(api, config, target, errors)
            except HttpError as exc:
                if done == 0:
                    raise
                return FetchResult(items, cursor, {SCRAPE_BUDGET: spent}, errors, [t.key for t in targets[done:]],
                                   failure=None if isinstance(exc, BudgetExhausted) else exc)
            spent += credits
            if item is not None:
                items.append(item)
        return FetchResult(items, cursor, {SCRAPE_BUDGET: spent}, errors)

    def _one(self, api: FirecrawlApi, config: FirecrawlAboutConfig, target: Target,
             errors: list[str]) -> tuple[RawItem | None, int]:
        home = _home_url(target.value)
        if home is None:
            errors.append(f"{target.key}: not a domain or URL ({target.value[:80]!r})")
            return None, 0
        host = (urlsplit(home).hostname or "").removeprefix("www.")
        self.http.spend(SCRAPE_BUDGET, 2)  # a map (or home-page scrape) and the About scrape
        about = best_about_link(host, api.map(home, search="about", limit=50))
        credits = 1
        if about is None:
            home_page = api.scrape(home, formats=["links"], only_main_content=False)
            links = home_page.get("links") if isinstance(home_page.get("links"), list) else []
            about = best_about_link(host, [(link, "") for link in links or [] if isinstance(link, str)])
            self.http.spend(SCRAPE_BUDGET, 1)
            credits += 1
        if about is None:
            errors.append(f"{target.key}: no About page found on {host}")
            return None, credits
        page = api.scrape(about, formats=["markdown"])
        credits += 1
        metadata = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
        status = metadata.get("statusCode") if isinstance(metadata, dict) else None
        if isinstance(status, int) and status >= 400:
            errors.append(f"{target.key}: {about} answered {status}")
            return None, credits
        markdown = page.get("markdown")
        cleaned = trim(clean_markdown(markdown), config.max_chars) if isinstance(markdown, str) else ""
        if len(cleaned) < config.min_chars:
            errors.append(f"{target.key}: the About page of {host} has too little text")
            return None, credits
        payload = {"domain": host, "url": about, "markdown": cleaned,
                   "title": text_value(metadata.get("title")) if isinstance(metadata, dict) else "",
                   "description": text_value(metadata.get("description")) if isinstance(metadata, dict) else "",
                   "chars_scraped": len(markdown) if isinstance(markdown, str) else 0}
        return RawItem(kind=ItemKind.COMPANY_ABOUT, payload=payload, target_key=target.key, url=about), credits


def _home_url(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    url = value if "://" in value else f"https://{value}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"
