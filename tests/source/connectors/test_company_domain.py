"""company-domain against the fake Google CSE and Firecrawl: quotas, closure and the Firecrawl fallback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from upswing.core.http import Blocked, BudgetExhausted, HttpClient, InMemoryBudgetStore, RateLimited
from upswing.fakes.firecrawl import FakeFirecrawl
from upswing.fakes.google import FakeGoogleSearch
from upswing.fakes.timing import FakeTime
from upswing.source.connector import FetchRequest, ItemKind, Target
from upswing.source.connectors.company_domain import (
    GOOGLE_BUDGET,
    CompanyDomainConfig,
    CompanyDomainConnector,
)

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")

BANNER = [{"title": "Banner Health | LinkedIn", "link": "https://www.linkedin.com/company/banner-health"},
          {"title": "Banner Health: Home", "link": "https://www.bannerhealth.com/", "snippet": "Nonprofit"}]
FEDEX = [{"title": "FedEx | Tracking, Shipping, and Locations", "link": "https://www.fedex.com/en-us/home.html"}]


@pytest.fixture
def google() -> Iterator[FakeGoogleSearch]:
    fake = FakeGoogleSearch()
    fake.add_results("banner health", BANNER)
    fake.add_results("fedex", FEDEX)
    with fake:
        yield fake


@pytest.fixture
def firecrawl() -> Iterator[FakeFirecrawl]:
    fake = FakeFirecrawl()
    fake.add_search("banner health", [{"url": r["link"], "title": r["title"], "description": ""} for r in BANNER])
    fake.add_search("fedex", [{"url": r["link"], "title": r["title"], "description": ""} for r in FEDEX])
    with fake:
        yield fake


def config(google: FakeGoogleSearch | None, firecrawl: FakeFirecrawl | None, **overrides: Any) -> CompanyDomainConfig:
    values: dict[str, Any] = {}
    if google is not None:
        values.update(google_api_key=google.key, google_cx=google.cx, google_base_url=google.url)
    if firecrawl is not None:
        values.update(firecrawl_api_key=firecrawl.api_key, firecrawl_base_url=firecrawl.url)
    return CompanyDomainConfig.model_validate({**values, **overrides})


TARGETS = [Target("lead-1", "Banner Health"), Target("lead-2", "FedEx Corporation")]
TODAY = date(2026, 11, 22)


def test_google_finds_the_own_domain(google: FakeGoogleSearch, http: HttpClient) -> None:
    result = CompanyDomainConnector(http, today=TODAY).fetch(config(google, None), None, FetchRequest(TARGETS))
    assert [(i.target_key, i.payload["domain"]) for i in result.items] == [
        ("lead-1", "bannerhealth.com"), ("lead-2", "fedex.com")]
    first = result.items[0]
    assert first.kind is ItemKind.COMPANY_DOMAIN
    assert first.payload["evidence"]["provider"] == "google"
    assert first.payload["evidence"]["url"] == "https://www.bannerhealth.com/"
    sent = google.requests_to("search")[0]
    assert sent.arg("q") == "Banner Health official website" and sent.arg("num") == "10" and sent.arg("start") == "1"
    assert result.usage[GOOGLE_BUDGET] == 2


def test_zero_results_have_no_items_field(google: FakeGoogleSearch, http: HttpClient) -> None:
    result = CompanyDomainConnector(http, today=TODAY).fetch(
        config(google, None), None, FetchRequest([Target("lead-3", "Nobody Knows Ltd")]))
    assert result.items == [] and "no result looks like" in result.errors[0]


@pytest.mark.parametrize("style", ["429", "403"])
def test_google_quota_falls_back_to_firecrawl(firecrawl: FakeFirecrawl, http: HttpClient, style: str) -> None:
    google = FakeGoogleSearch(daily_quota=1, quota_style=style)
    google.add_results("banner health", BANNER)
    with google:
        result = CompanyDomainConnector(http, today=TODAY).fetch(config(google, firecrawl), None,
                                                                 FetchRequest(TARGETS))
    assert [(i.payload["domain"], i.payload["evidence"]["provider"]) for i in result.items] == [
        ("bannerhealth.com", "google"), ("fedex.com", "firecrawl")]
    assert any("Google search unavailable" in e for e in result.errors)
    assert len(firecrawl.requests_to("v2-search")) == 1


def test_closed_google_api_falls_back(firecrawl: FakeFirecrawl, http: HttpClient) -> None:
    google = FakeGoogleSearch(closed=True)
    with google:
        result = CompanyDomainConnector(http, today=TODAY).fetch(config(google, firecrawl), None,
                                                                 FetchRequest(TARGETS))
        assert len(google.requests_to("search")) == 1  # asked once, then not again in this run
    assert [i.payload["evidence"]["provider"] for i in result.items] == ["firecrawl", "firecrawl"]


def test_google_is_retired_on_its_closing_day(google: FakeGoogleSearch, firecrawl: FakeFirecrawl,
                                              http: HttpClient) -> None:
    connector = CompanyDomainConnector(http, today=date(2027, 1, 1))
    assert connector.providers(config(google, firecrawl)) == ["firecrawl"]
    connector.fetch(config(google, firecrawl), None, FetchRequest(TARGETS))
    assert google.requests == []
    assert CompanyDomainConnector(http, today=TODAY).providers(config(google, firecrawl, provider="firecrawl")) == [
        "firecrawl"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_firecrawl_search_v1_and_v2(firecrawl: FakeFirecrawl, http: HttpClient, version: str) -> None:
    result = CompanyDomainConnector(http, today=TODAY).fetch(
        config(None, firecrawl, firecrawl_api_version=version), None, FetchRequest(TARGETS))
    assert [i.payload["domain"] for i in result.items] == ["bannerhealth.com", "fedex.com"]
    sent = firecrawl.requests_to(f"{version}-search")[0]
    assert sent.json() == {"query": "Banner Health official website", "limit": 10}
    assert sent.headers["authorization"] == f"Bearer {firecrawl.api_key}"


def test_google_quota_without_fallback_raises(fake_time: FakeTime) -> None:
    google = FakeGoogleSearch(daily_quota=0)
    with google, HttpClient(clock=fake_time.clock, sleep=fake_time.sleep) as http, pytest.raises(RateLimited):
        CompanyDomainConnector(http, today=TODAY).fetch(config(google, None), None, FetchRequest(TARGETS))


def test_budget_stops_google_before_asking(google: FakeGoogleSearch, fake_time: FakeTime) -> None:
    budgets = InMemoryBudgetStore({GOOGLE_BUDGET: 1})
    with HttpClient(clock=fake_time.clock, sleep=fake_time.sleep, budgets=budgets) as http:
        result = CompanyDomainConnector(http, today=TODAY).fetch(config(google, None), None, FetchRequest(TARGETS))
    assert len(result.items) == 1 and list(result.deferred) == ["lead-2"]
    assert len(google.requests_to("search")) == 1
    budgets_spent = InMemoryBudgetStore({GOOGLE_BUDGET: 0})
    with HttpClient(clock=fake_time.clock, sleep=fake_time.sleep, budgets=budgets_spent) as http, \
            pytest.raises(BudgetExhausted):
        CompanyDomainConnector(http, today=TODAY).fetch(config(google, None), None, FetchRequest(TARGETS))


def test_firecrawl_out_of_credit_blocks(http: HttpClient) -> None:
    firecrawl = FakeFirecrawl(credits=0)
    with firecrawl, pytest.raises(Blocked) as caught:
        CompanyDomainConnector(http, today=TODAY).fetch(config(None, firecrawl), None, FetchRequest(TARGETS))
    assert caught.value.status == 402


def test_check(google: FakeGoogleSearch, http: HttpClient) -> None:
    assert CompanyDomainConnector(http, today=TODAY).check(config(google, None)).ok
    assert not CompanyDomainConnector(http, today=TODAY).check(config(None, None)).ok
