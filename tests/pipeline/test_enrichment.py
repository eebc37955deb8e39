"""Enriching new leads once (company domain, then About page) and watching posts, through the real
connectors and the fake Google, Firecrawl and Apify servers, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio
from upswing.core.http import BudgetStore, HttpClient
from upswing.fakes.apify import FakeApify
from upswing.fakes.firecrawl import FakeFirecrawl
from upswing.fakes.google import FakeGoogleSearch
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.source import service
from upswing.source.models import LeadSchedule
from upswing.source.schemas import SourceUpdate

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")

BANNER = [{"title": "Banner Health | LinkedIn", "link": "https://www.linkedin.com/company/banner-health"},
          {"title": "Banner Health: Home", "link": "https://www.bannerhealth.com/", "snippet": "Nonprofit"}]
FEDEX = [{"title": "FedEx | Tracking, Shipping, and Locations", "link": "https://www.fedex.com/en-us/home.html"}]
ABOUT = ("# About Banner Health\n\nBanner Health is a nonprofit health system based in Phoenix, Arizona. It runs "
         "28 hospitals in six states and employs more than 50,000 people.\n")


def quick_http(budgets: BudgetStore) -> HttpClient:
    return HttpClient(budgets=budgets, sleep=lambda seconds: None, page_limit=None)


@pytest.fixture
def engine(session_factory: sessionmaker[Session]) -> MonitoringEngine:
    return MonitoringEngine(session_factory, http_factory=quick_http)


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
    fake.add_page("https://www.bannerhealth.com/", "# Welcome", title="Home",
                  links=["https://www.bannerhealth.com/about", "https://www.bannerhealth.com/careers"])
    fake.add_page("https://www.bannerhealth.com/about", ABOUT, title="About Banner Health")
    with fake:
        yield fake


def enable(session: Session, slug: str, config: dict[str, Any]) -> None:
    service.configure(session, slug, SourceUpdate(config=config, enabled=True), actor="test")
    session.commit()


def test_company_domain_then_about_page_fill_each_lead_once(
        db_session: Session, engine: MonitoringEngine, google: FakeGoogleSearch, firecrawl: FakeFirecrawl) -> None:
    portfolio = make_portfolio(db_session)
    nurse = make_lead(db_session, portfolio, employer="Banner Health")
    doctor = make_lead(db_session, portfolio, employer="Banner  Health")  # same employer, other spacing
    courier = make_lead(db_session, portfolio, employer="FedEx Corporation")
    unknown = make_lead(db_session, portfolio, employer="Nobody Knows Ltd")
    known = make_lead(db_session, portfolio, employer="Acme", company_domain="acme.example",
                      company_about="Acme makes everything.")
    db_session.commit()
    enable(db_session, "company-domain", {"google_api_key": google.key, "google_cx": google.cx,
                                          "google_base_url": google.url})

    domains = engine.run("company-domain")
    assert domains.targets == 3  # one search per employer, none for a lead that has its domain
    assert len(google.requests_to("search")) == 3
    assert domains.domains_filled == 3 and domains.state == "ok"
    db_session.expire_all()
    assert [db_session.get(Lead, lead.id).company_domain for lead in (nurse, doctor, courier, unknown)] == [  # type: ignore[union-attr]
        "bannerhealth.com", "bannerhealth.com", "fedex.com", None]
    source = service.get_source(db_session, "company-domain")
    retry = db_session.get(LeadSchedule, (source.id, unknown.id))
    assert retry is not None and retry.next_due_at is not None
    assert retry.next_due_at > datetime.now(UTC) + timedelta(days=29)  # not found: tried again in a month
    found = db_session.get(LeadSchedule, (source.id, nurse.id))
    assert found is not None and found.next_due_at is None  # found: never again
    assert engine.run("company-domain").targets == 0 and len(google.requests_to("search")) == 3

    enable(db_session, "firecrawl-about", {"api_key": firecrawl.api_key, "base_url": firecrawl.url})
    about = engine.run("firecrawl-about")
    assert about.targets == 2  # bannerhealth.com (two leads) and fedex.com; Acme has its About already
    assert about.abouts_filled == 2
    assert any("fedex.com" in error for error in about.errors)
    db_session.expire_all()
    for lead in (nurse, doctor):
        text = db_session.get(Lead, lead.id).company_about  # type: ignore[union-attr]
        assert text is not None and "nonprofit health system" in text
    assert db_session.get(Lead, courier.id).company_about is None  # type: ignore[union-attr]
    assert db_session.get(Lead, known.id).company_about == "Acme makes everything."  # type: ignore[union-attr]
    assert engine.run("firecrawl-about").targets == 0


def _text_model_missing() -> bool:
    from upswing.detection.registry import current_model_path

    return not current_model_path("person").with_suffix(".npz").is_file()


@pytest.mark.skipif(_text_model_missing(), reason="the shipped text classifier (detection/model) is not there yet")
def test_posts_of_a_watched_lead_become_text_observations_once(
        db_session: Session, engine: MonitoringEngine) -> None:
    lead = make_lead(db_session, first_name="Dana", last_name="Whitfield",
                     linkedin_url="https://www.linkedin.com/in/dana-whitfield", linkedin_public_id="dana-whitfield")
    db_session.commit()
    posted = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    fake = FakeApify(token="apify_api_posts")
    fake.add_posts([{
        "type": "post", "id": "7391", "linkedinUrl": "https://www.linkedin.com/posts/dana-whitfield_7391",
        "content": "Thrilled to share that I have started a new position as Junior Accountant at Keller & Price LLP!",
        "authorPublicIdentifier": "dana-whitfield",
        "author": {"publicIdentifier": "dana-whitfield", "name": "Dana Whitfield"},
        "postedAt": {"timestamp": int(posted.timestamp() * 1000), "date": posted.isoformat()},
    }])
    with fake:
        enable(db_session, "apify-linkedin-posts", {"token": fake.token, "base_url": fake.url})
        first = engine.run("apify-linkedin-posts")
        assert (first.targets, first.items, first.texts_stored) == (1, 1, 1), first.errors
        again = engine.run("apify-linkedin-posts", lead_ids=[lead.id])
        assert (again.items, again.texts_stored, again.duplicates) == (1, 0, 1)
    texts = db_session.scalars(select(Observation).where(Observation.kind == "text")).all()
    assert len(texts) == 1 and texts[0].lead_id == lead.id
