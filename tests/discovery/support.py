"""The fake web the discovery tests search: a search engine (fake Google CSE) whose results point at company pages
on a fake web server (with robots.txt), and the company-domain source configured to use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from upswing.core.http import BudgetStore, HttpClient
from upswing.fakes.google import FakeGoogleSearch
from upswing.fakes.web import FakeWeb, html_page
from upswing.source import service as sources
from upswing.source.schemas import SourceUpdate

PAGES = {
    "/acme": ("Acme Tools | Austin machine shop", [
        "Acme Tools is a family machine shop in Austin.",
        "Acme Tools is seeking a small business loan to finance new equipment and working capital for our shop."]),
    "/bolt": ("Bolt Logistics - Central Texas freight", [
        "Bolt Logistics moves freight across Central Texas.",
        "Bolt Logistics is opening a second warehouse in Round Rock and hiring 40 new drivers this spring."]),
    "/bakery": ("Sunrise Bakery", [
        "We are a family bakery serving Austin since 1998. Fresh bread, pastries and cakes every morning.",
        "Visit our shop on Congress Avenue."]),
    "/secret": ("Hidden Capital | Austin", [
        "Hidden Capital is seeking a small business loan to finance new equipment and working capital."]),
}


@dataclass
class FakeInternet:
    google: FakeGoogleSearch
    web: FakeWeb

    def url(self, path: str) -> str:
        return f"{self.web.url}{path}"


@contextmanager
def fake_internet() -> Iterator[FakeInternet]:
    web = FakeWeb(robots_txt="User-agent: *\nDisallow: /secret\n")
    google = FakeGoogleSearch()
    with web, google:
        for path, (title, paragraphs) in PAGES.items():
            web.add_page(path, html_page(title, paragraphs))
        # A directory result (never a prospect), then the companies' own pages.
        results = [{"title": "Best Austin companies - Yelp", "link": "https://www.yelp.com/search?loc=Austin"}]
        results += [{"title": title, "link": f"{web.url}{path}", "snippet": paragraphs[0]}
                    for path, (title, paragraphs) in PAGES.items()]
        google.add_results("austin", results)
        yield FakeInternet(google, web)


def configure_search(session: Session, internet: FakeInternet, budgets: dict[str, int | None] | None = None) -> None:
    sources.configure(session, "company-domain", SourceUpdate(
        config={"google_api_key": "google-test-key", "google_cx": "test-engine",
                "google_base_url": internet.google.url, "provider": "google"},
        budgets=budgets, enabled=True), actor="test")
    session.flush()


def quick_http(budgets: BudgetStore) -> HttpClient:
    """No sleeping between retries and no 1 s per-host page pacing (the fake web is one host)."""
    return HttpClient(budgets=budgets, sleep=lambda seconds: None, page_limit=None)
