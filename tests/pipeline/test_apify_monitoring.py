"""Monitoring LinkedIn profiles through the real ``apify-linkedin`` connector and the fake Apify server,
with the faults injected there: retried, budget respected, blocked on 402/403, nothing lost or twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio
from pipeline.monitoring_support import new_job_profile, old_job_profile
from upswing.core.http import BudgetStore, HttpClient
from upswing.fakes.apify import HARVEST_PROFILES, FakeApify
from upswing.fakes.server import Fault
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.signal.models import Signal
from upswing.source import service
from upswing.source.models import LeadSchedule
from upswing.source.schemas import SourceUpdate

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")

SLUG = "apify-linkedin"


@pytest.fixture
def fake_apify() -> Iterator[FakeApify]:
    fake = FakeApify(token="apify_api_test_token")
    with fake:
        yield fake


def no_wait_http(budgets: BudgetStore) -> HttpClient:
    """The real HTTP layer (retries, Retry-After, budgets) without really sleeping between attempts."""
    return HttpClient(budgets=budgets, sleep=lambda seconds: None)


@pytest.fixture
def engine(session_factory: sessionmaker[Session]) -> MonitoringEngine:
    return MonitoringEngine(session_factory, http_factory=no_wait_http)


def configure(session: Session, fake: FakeApify, **change: Any) -> None:
    config = {"token": fake.token, "base_url": fake.url, "batch_size": 2, **change.pop("config", {})}
    service.configure(session, SLUG, SourceUpdate(config=config, enabled=True, **change), actor="test")
    session.commit()


def seed(session: Session, fake: FakeApify, count: int, *, new_job: bool = False) -> list[Lead]:
    portfolio = make_portfolio(session)
    leads, items = [], []
    for _ in range(count):
        public_id = f"fake-{uuid.uuid4().hex[:10]}"
        leads.append(make_lead(session, portfolio, linkedin_url=f"https://www.linkedin.com/in/{public_id}",
                               linkedin_public_id=public_id, first_name="Dana", last_name="Whitfield",
                               balance=Decimal("900.00")))
        items.append(new_job_profile(public_id) if new_job else old_job_profile(public_id))
    fake.add_profiles(HARVEST_PROFILES, items)
    session.commit()
    return leads


def scraped(fake: FakeApify) -> list[str]:
    """Every profile the fake was asked to scrape (one entry per profile per actor run)."""
    asked: list[str] = []
    for request in fake.requests_to("run-sync"):
        asked.extend((request.json() or {}).get("queries", []))
    return asked


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_budget_is_never_exceeded_on_the_wire(db_session: Session, fake_apify: FakeApify,
                                               engine: MonitoringEngine) -> None:
    configure(db_session, fake_apify, budgets={"linkedin-profiles": 3})
    seed(db_session, fake_apify, 7)

    first = engine.run(SLUG)
    assert len(scraped(fake_apify)) == 3 and first.observations_created == 3
    second = engine.run(SLUG)
    assert second.stopped == "budget" and len(scraped(fake_apify)) == 3  # nothing more went out today
    assert count(db_session, LeadSchedule, LeadSchedule.checks > 0) == 3


def test_rate_limits_and_server_errors_are_retried(db_session: Session, fake_apify: FakeApify,
                                                   engine: MonitoringEngine) -> None:
    configure(db_session, fake_apify)
    seed(db_session, fake_apify, 4)
    fake_apify.inject("run-sync", Fault.rate_limited(retry_after="2"), times=2)
    fake_apify.inject("run-sync", Fault.server_error(503), times=1)

    report = engine.run(SLUG)
    assert (report.stopped, report.state, report.observations_created) == (None, "ok", 4)
    assert len(fake_apify.requests_to("run-sync")) == 2 + 3  # two batches, three of the attempts refused


@pytest.mark.parametrize(("state", "status"), [("no-credit", 402), ("not-rented", 403)])
def test_refusal_raises_blocked_and_gives_the_leads_back(db_session: Session, fake_apify: FakeApify,
                                                         engine: MonitoringEngine, state: str, status: int) -> None:
    configure(db_session, fake_apify)
    leads = seed(db_session, fake_apify, 3)
    fake_apify.set_actor_state(HARVEST_PROFILES, state)

    report = engine.run(SLUG)
    assert report.stopped == "blocked" and report.state == "blocked"
    assert len(fake_apify.requests_to("run-sync")) == 1  # a refusal is not retried
    db_session.expire_all()
    source = service.get_source(db_session, SLUG)
    assert source.state == "blocked" and f"HTTP {status}" in (source.last_error or "")
    assert count(db_session, Observation) == 0
    assert count(db_session, LeadSchedule, LeadSchedule.checks > 0) == 0
    assert engine.run(SLUG, scheduled=True).stopped == "blocked"
    assert len(fake_apify.requests_to("run-sync")) == 1

    fake_apify.set_actor_state(HARVEST_PROFILES, "ok")  # credit topped up
    health = engine.check(db_session, SLUG)
    db_session.commit()
    assert health.ok and health.state == "ok"
    fixed = engine.run(SLUG)
    assert (fixed.state, fixed.observations_created) == ("ok", len(leads))


class _FailFromSecondRun:
    """A budget store that, when the second actor run is about to start, makes the fake refuse it
    (500 on every attempt): the first run's profiles are in hand, the later ones are not."""

    def __init__(self, inner: BudgetStore, fake: FakeApify) -> None:
        self.inner, self.fake, self.spends = inner, fake, 0

    def try_spend(self, name: str, units: int) -> bool:
        self.spends += 1
        if self.spends == 2:
            self.fake.inject("run-sync", Fault.server_error(500), times=5)  # the first try and 4 retries
        return self.inner.try_spend(name, units)

    def used(self, name: str) -> int:
        return self.inner.used(name)

    def limit(self, name: str) -> int | None:
        return self.inner.limit(name)


def test_error_in_a_later_actor_run_keeps_what_came_and_the_rerun_adds_the_rest_once(
        db_session: Session, session_factory: sessionmaker[Session], fake_apify: FakeApify,
        engine: MonitoringEngine) -> None:
    configure(db_session, fake_apify)  # two profiles per actor run
    leads = seed(db_session, fake_apify, 5, new_job=True)
    failing = MonitoringEngine(session_factory, http_factory=lambda budgets: HttpClient(
        budgets=_FailFromSecondRun(budgets, fake_apify), sleep=lambda seconds: None))

    first = failing.run(SLUG)
    assert first.stopped == "error" and "HTTP 500" in " ".join(first.errors)
    assert first.observations_created == 2 and count(db_session, Observation) == 2
    assert first.state == "ok"  # one transient failure: not degraded yet
    assert count(db_session, LeadSchedule, LeadSchedule.checks > 0) == 2

    rerun = engine.run(SLUG)  # the three leads given back are due again
    assert (rerun.targets, rerun.observations_created) == (3, 3)
    assert count(db_session, Observation) == 5
    signals = count(db_session, Signal)
    assert signals >= 1
    again = engine.run(SLUG, lead_ids=[lead.id for lead in leads])  # everything fetched a second time
    assert (again.observations_created, again.duplicates, again.signals_created) == (0, 5, 0)
    assert count(db_session, Observation) == 5 and count(db_session, Signal) == signals


def test_malformed_answer_is_an_error_not_data(db_session: Session, fake_apify: FakeApify,
                                               engine: MonitoringEngine) -> None:
    configure(db_session, fake_apify)
    seed(db_session, fake_apify, 2)
    fake_apify.inject("run-sync", Fault.malformed(), times=1)
    report = engine.run(SLUG)
    assert report.stopped == "error" and "not valid JSON" in " ".join(report.errors)
    assert count(db_session, Observation) == 0
    assert engine.run(SLUG).observations_created == 2  # the leads were given back
