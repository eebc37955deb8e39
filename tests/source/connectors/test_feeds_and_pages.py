"""rss and web-page against the fake web server: robots.txt, conditional GET, cursors, main text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from upswing.core.http import HttpClient, ResponseTooLarge, ServerError
from upswing.fakes.server import Fault
from upswing.fakes.web import FakeWeb, FeedEntry, atom_feed, html_page, rss_feed
from upswing.source.connector import FetchRequest, ItemKind, Target
from upswing.source.connectors.rss import RssConfig, RssConnector
from upswing.source.connectors.web_page import WebPageConfig, WebPageConnector

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
STORY = ["Acme Corp announced today that it will open a new distribution center in Columbus, Ohio, "
         "creating 400 jobs over the next two years.",
         "The company said hiring for warehouse associates and drivers starts in January, with wages "
         "above the regional average and full benefits from the first day."]


def entries(count: int, start: int = 0) -> list[FeedEntry]:
    return [FeedEntry(id=f"urn:acme:{n}", title=f"Acme news {n}", link=f"https://acme.example/news/{n}",
                      summary=f"<p>Acme opens office <b>{n}</b></p>", published=T0 + timedelta(days=n),
                      author="Press Office") for n in range(start, start + count)]


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    fake = FakeWeb(robots_txt="User-agent: *\nDisallow: /private/\n")
    with fake:
        yield fake


@pytest.mark.parametrize("atom", [False, True])
def test_feed_entries_become_text_items_once(web: FakeWeb, http: HttpClient, atom: bool) -> None:
    build = atom_feed if atom else rss_feed
    url = web.add_feed("/feed.xml", build("Acme News", "https://acme.example", entries(3)), atom=atom)
    connector = RssConnector(http)
    first = connector.fetch(RssConfig(feeds=[url]), None, FetchRequest())
    assert [item.payload["title"] for item in first.items] == ["Acme news 0", "Acme news 1", "Acme news 2"]
    item = first.items[0]
    assert item.kind is ItemKind.TEXT and item.payload["summary"] == "Acme opens office 0"
    assert item.payload["text"] == "Acme news 0. Acme opens office 0"
    assert item.observed_at == T0 and item.url == "https://acme.example/news/0"
    unchanged = connector.fetch(RssConfig(feeds=[url]), first.next_cursor, FetchRequest())
    assert unchanged.items == []
    assert web.requests_to("/feed.xml")[-1].headers.get("if-none-match")  # answered 304
    web.add_feed("/feed.xml", build("Acme News", "https://acme.example", entries(4)), atom=atom)
    grown = connector.fetch(RssConfig(feeds=[url]), unchanged.next_cursor, FetchRequest())
    assert [item.payload["id"] for item in grown.items] == ["urn:acme:3"]


def test_feed_targets_carry_their_key_and_bad_feeds_are_reported(web: FakeWeb, http: HttpClient) -> None:
    good = web.add_feed("/news.xml", rss_feed("N", "https://n.example", entries(1)))
    bad = web.add_page("/broken.xml", "this is not xml at all <<<", content_type="application/rss+xml")
    result = RssConnector(http).fetch(RssConfig(), None, FetchRequest(
        [Target("company-1", good), Target("company-2", bad), Target("rss", "rss")]))
    assert [item.target_key for item in result.items] == ["company-1"]
    assert result.errors == [f"company-2: {bad} is not a readable RSS/Atom feed"]


def test_feed_disallowed_by_robots_is_never_requested(web: FakeWeb, http: HttpClient) -> None:
    blocked = web.add_feed("/private/feed.xml", rss_feed("P", "https://p.example", entries(1)))
    allowed = web.add_feed("/feed.xml", rss_feed("A", "https://a.example", entries(1)))
    result = RssConnector(http).fetch(RssConfig(feeds=[blocked, allowed]), None, FetchRequest())
    assert len(result.items) == 1 and "disallowed by robots.txt" in result.errors[0]
    assert web.requests_to("/private/") == []


def test_feed_server_error_after_a_good_feed_keeps_it_and_defers_the_rest(web: FakeWeb, http: HttpClient) -> None:
    one = web.add_feed("/one.xml", rss_feed("1", "https://1.example", entries(2)))
    two = web.add_feed("/two.xml", rss_feed("2", "https://2.example", entries(2)))
    web.inject("/two.xml", Fault.server_error(503), times=10)
    result = RssConnector(http).fetch(RssConfig(feeds=[one, two]), None, FetchRequest())
    assert len(result.items) == 2 and list(result.deferred) == [two]
    assert isinstance(result.failure, ServerError)


def test_web_page_main_text_and_change_detection(web: FakeWeb, http: HttpClient) -> None:
    url = web.add_page("/newsroom/expansion.html", html_page("Acme expands in Columbus", STORY))
    connector = WebPageConnector(http)
    config = WebPageConfig(urls=[url])
    first = connector.fetch(config, None, FetchRequest())
    (item,) = first.items
    assert item.kind is ItemKind.TEXT and "400 jobs" in item.payload["text"]
    assert "Cookie settings" not in item.payload["text"] and "Contact" not in item.payload["text"]
    assert item.payload["title"] == "Acme expands in Columbus"
    assert connector.fetch(config, first.next_cursor, FetchRequest()).items == []  # 304
    # New markup, same text: no item.
    web.add_page("/newsroom/expansion.html", html_page("Acme expands in Columbus", STORY, extra_head="<meta x>"))
    assert connector.fetch(config, first.next_cursor, FetchRequest()).items == []
    web.add_page("/newsroom/expansion.html", html_page("Acme expands in Columbus", [*STORY, "Update: 600 jobs."]))
    changed = connector.fetch(config, first.next_cursor, FetchRequest())
    assert len(changed.items) == 1 and "600 jobs" in changed.items[0].payload["text"]


def test_web_page_disallowed_is_never_requested(web: FakeWeb, http: HttpClient) -> None:
    private = web.add_page("/private/board.html", html_page("Board minutes", STORY))
    result = WebPageConnector(http).fetch(WebPageConfig(), None, FetchRequest([Target("lead-1", private)]))
    assert result.items == [] and "disallowed by robots.txt" in result.errors[0]
    assert web.requests_to("/private/") == []
    assert [r.path for r in web.requests] == ["/robots.txt"]


def test_web_page_too_little_text_or_not_html(web: FakeWeb, http: HttpClient) -> None:
    short = web.add_page("/short.html", html_page("Hi", ["Short."]))
    data = web.add_page("/data.json", '{"a": 1}', content_type="application/json")
    result = WebPageConnector(http).fetch(WebPageConfig(urls=[short, data]), None, FetchRequest())
    assert result.items == []
    assert "no main text worth keeping" in result.errors[0] and "application/json" in result.errors[1]


def test_web_page_oversized_page_fails_cleanly(web: FakeWeb) -> None:
    url = web.add_page("/big.html", html_page("Big", STORY))
    web.inject("/big.html", Fault.oversized(5_000_000, declare_length=False))
    with HttpClient(max_bytes=1_000_000, page_limit=None) as http, pytest.raises(ResponseTooLarge):
        WebPageConnector(http).fetch(WebPageConfig(urls=[url]), None, FetchRequest())
