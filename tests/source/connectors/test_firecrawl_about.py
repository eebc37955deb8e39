"""firecrawl-about against the fake Firecrawl (v1 and v2): find the About page, clean and trim it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from upswing.core.http import Blocked, HttpClient
from upswing.fakes.firecrawl import FakeFirecrawl
from upswing.fakes.server import Fault
from upswing.source.connector import FetchRequest, ItemKind, Target
from upswing.source.connectors.firecrawl_about import FirecrawlAboutConfig, FirecrawlAboutConnector, about_score
from upswing.source.connectors.firecrawl_about.markdown import clean_markdown, trim

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")

ABOUT_MARKDOWN = """[Skip to content](#main)

- [Home](https://www.bannerhealth.com/)
- [Careers](https://www.bannerhealth.com/careers)

![logo](https://www.bannerhealth.com/logo.png)

# About Banner Health

Banner Health is a nonprofit health system based in [Phoenix, Arizona](https://maps.example/phx). It runs
28 hospitals in six states and employs more than 50,000 people.

## Our mission

Making health care easier, so life can be better.

Privacy Policy
© 2026 Banner Health. All rights reserved.
"""


BANNER_REQUEST = FetchRequest([Target("l", "bannerhealth.com")])


@pytest.fixture
def firecrawl() -> Iterator[FakeFirecrawl]:
    fake = FakeFirecrawl()
    fake.add_page("https://www.bannerhealth.com/", "# Welcome", title="Home",
                  links=["https://www.bannerhealth.com/about", "https://www.bannerhealth.com/careers"])
    fake.add_page("https://www.bannerhealth.com/careers", "Jobs", title="Careers")
    fake.add_page("https://www.bannerhealth.com/about", ABOUT_MARKDOWN, title="About Banner Health")
    fake.add_page("https://www.bannerhealth.com/news/about-our-awards", "News", title="About our awards")
    with fake:
        yield fake


def config(fake: FakeFirecrawl, **overrides: Any) -> FirecrawlAboutConfig:
    return FirecrawlAboutConfig.model_validate({"api_key": fake.api_key, "base_url": fake.url, **overrides})


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_about_page_found_by_map_scraped_and_cleaned(firecrawl: FakeFirecrawl, http: HttpClient,
                                                     version: str) -> None:
    result = FirecrawlAboutConnector(http).fetch(config(firecrawl, api_version=version), None,
                                                 FetchRequest([Target("lead-1", "bannerhealth.com")]))
    (item,) = result.items
    assert item.kind is ItemKind.COMPANY_ABOUT and item.target_key == "lead-1"
    assert item.payload["url"] == "https://www.bannerhealth.com/about"
    text = item.payload["markdown"]
    assert text.startswith("# About Banner Health")
    assert "Phoenix, Arizona" in text and "maps.example" not in text
    assert "logo" not in text and "Careers" not in text and "Privacy" not in text and "©" not in text
    assert firecrawl.requests_to(f"{version}-map")[0].json()["search"] == "about"
    scrape = firecrawl.requests_to(f"{version}-scrape")[0].json()
    assert scrape == {"url": "https://www.bannerhealth.com/about", "formats": ["markdown"], "onlyMainContent": True}


def test_home_page_links_when_map_finds_nothing(http: HttpClient) -> None:
    fake = FakeFirecrawl()
    fake.add_page("https://acme.com/who-we-are", "# Who we are\n\n" + "Acme makes anvils since 1920. " * 5)
    with fake:
        fake.inject("v2-map", Fault.unexpected({"success": True, "links": []}))
        fake.add_page("https://acme.com/", "home", links=["https://acme.com/who-we-are", "https://x.com/acme"])
        result = FirecrawlAboutConnector(http).fetch(config(fake), None, FetchRequest([Target("c", "acme.com")]))
    assert result.items[0].payload["url"] == "https://acme.com/who-we-are"
    assert fake.requests_to("v2-scrape")[0].json()["formats"] == ["links"]


def test_trimmed_to_max_chars(firecrawl: FakeFirecrawl, http: HttpClient) -> None:
    long_story = "\n\n".join(f"Paragraph {n}. " + "We grow every year. " * 10 for n in range(30))
    firecrawl.add_page("https://www.bannerhealth.com/about", long_story)
    result = FirecrawlAboutConnector(http).fetch(config(firecrawl, max_chars=500), None,
                                                 FetchRequest([Target("lead-1", "https://www.bannerhealth.com")]))
    text = result.items[0].payload["markdown"]
    assert len(text) <= 500 and text.endswith(".")


def test_missing_about_and_bad_targets_are_reported(http: HttpClient) -> None:
    fake = FakeFirecrawl()
    fake.add_page("https://nowhere.com/", "home", links=["https://nowhere.com/products"])
    with fake:
        result = FirecrawlAboutConnector(http).fetch(config(fake), None, FetchRequest(
            [Target("a", "nowhere.com"), Target("b", "not a domain")]))
    assert result.items == []
    assert any("no About page found on nowhere.com" in e for e in result.errors)
    assert any(e.startswith("b: not a domain") for e in result.errors)


def test_unknown_page_status_is_reported_not_stored(firecrawl: FakeFirecrawl, http: HttpClient) -> None:
    firecrawl.pages.pop("bannerhealth.com/about")
    firecrawl.add_page("https://www.bannerhealth.com/about-us", "gone", status_code=404)
    result = FirecrawlAboutConnector(http).fetch(config(firecrawl), None, BANNER_REQUEST)
    assert result.items == [] and "answered 404" in result.errors[0]


def test_bad_key_blocks_and_rate_limit_is_retried(firecrawl: FakeFirecrawl, http: HttpClient) -> None:
    with pytest.raises(Blocked) as caught:
        FirecrawlAboutConnector(http).fetch(config(firecrawl, api_key="fc-wrong"), None,
                                            BANNER_REQUEST)
    assert caught.value.status == 401
    firecrawl.inject("v2-scrape", Fault.error(429, {"success": False, "error": "Rate limit exceeded"},
                                              {"Retry-After": "2"}))
    result = FirecrawlAboutConnector(http).fetch(config(firecrawl), None, BANNER_REQUEST)
    assert len(result.items) == 1


def test_scrape_timeout_408_is_posted_again(firecrawl: FakeFirecrawl, http: HttpClient) -> None:
    firecrawl.inject("v2-scrape", Fault.error(408, {"success": False, "error": "timeout", "code": "SCRAPE_TIMEOUT",
                                                    "details": {"state": "processing_continues"}}), times=2)
    result = FirecrawlAboutConnector(http).fetch(config(firecrawl), None, BANNER_REQUEST)
    assert len(result.items) == 1 and len(firecrawl.requests_to("v2-scrape")) == 3


@pytest.mark.parametrize(("url", "looks_like_about"), [
    ("https://a.com/about", True), ("https://a.com/about-us/", True), ("https://a.com/company/who-we-are", True),
    ("https://a.com/careers/about", False), ("https://a.com/news/about-us-award", False), ("https://a.com/", False),
])
def test_about_score(url: str, looks_like_about: bool) -> None:
    assert (about_score(url) > 0) is looks_like_about


def test_clean_and_trim() -> None:
    assert clean_markdown("[A](http://x) and ![i](http://y)\n\n\n\nText.") == "A and\n\nText."
    assert trim("One. Two. Three.", 100) == "One. Two. Three."
    assert trim("word " * 50, 30).endswith("…") and len(trim("word " * 50, 30)) <= 30
