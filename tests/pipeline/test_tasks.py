"""The scheduled monitoring through the embedded runner, end to end: ``source.monitor`` enqueues a
``source.run`` per enabled source, the run fetches from the fake Apify server, and repeats add nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio
from pipeline.monitoring_support import old_job_profile
from upswing.core import tasks
from upswing.core.tasks import EmbeddedRunner, TaskRun
from upswing.fakes.apify import HARVEST_PROFILES, FakeApify
from upswing.observation.models import Observation
from upswing.settings import get_settings
from upswing.source import service
from upswing.source.models import Source
from upswing.source.schemas import SourceUpdate

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def fake_apify() -> Iterator[FakeApify]:
    fake = FakeApify(token="apify_api_task_token")
    with fake:
        yield fake


def count(factory: sessionmaker[Session], model: type, *where: object) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_monitor_schedule_runs_each_enabled_source_through_the_embedded_runner(
        settings_database: sessionmaker[Session], fake_apify: FakeApify) -> None:
    with settings_database() as session:
        portfolio = make_portfolio(session)
        for n in range(3):
            make_lead(session, portfolio, linkedin_url=f"https://www.linkedin.com/in/task-{n}",
                      linkedin_public_id=f"task-{n}", balance=Decimal("20000.00"))
        service.configure(session, "apify-linkedin", SourceUpdate(
            config={"token": fake_apify.token, "base_url": fake_apify.url}, enabled=True), actor="test")
        session.commit()
    fake_apify.add_profiles(HARVEST_PROFILES, [old_job_profile(f"task-{n}") for n in range(3)])
    runner = EmbeddedRunner(factory=settings_database)

    runner.tick()  # enqueues this quarter hour's source.monitor
    outcomes = runner.run_pending()  # monitor, then the source.run it enqueued after its commit
    assert [o.status for o in outcomes] == ["done"] * len(outcomes) and len(outcomes) >= 2
    assert count(settings_database, Observation) == 3
    with settings_database() as session:
        run = session.scalar(select(TaskRun).where(TaskRun.name == "source.run"))
        assert run is not None and run.args == ["apify-linkedin"] and run.status == "done"
        source = session.scalar(select(Source).where(Source.slug == "apify-linkedin"))
        assert source is not None and source.last_success_at is not None
    # Disabled sources (no credentials) were not queued at all.
    assert count(settings_database, TaskRun, TaskRun.name == "source.run") == 1

    runner.tick()  # the same period: nothing new is enqueued
    assert runner.run_pending() == []
    with settings_database() as session:  # the next period's monitor: a run, but nothing is due
        tasks.enqueue_schedules(session, datetime.now(UTC) + timedelta(minutes=15))
        session.commit()
    runner.run_pending()
    assert count(settings_database, Observation) == 3
    assert len(fake_apify.requests_to("run-sync")) == 1


def test_a_retried_source_run_does_not_store_anything_twice(settings_database: sessionmaker[Session],
                                                            fake_apify: FakeApify) -> None:
    with settings_database() as session:
        lead = make_lead(session, linkedin_url="https://www.linkedin.com/in/retry-me",
                         linkedin_public_id="retry-me")
        service.configure(session, "apify-linkedin", SourceUpdate(
            config={"token": fake_apify.token, "base_url": fake_apify.url}, enabled=True), actor="test")
        session.commit()
    fake_apify.add_profiles(HARVEST_PROFILES, [old_job_profile("retry-me")])
    from upswing.pipeline.tasks import run_source

    first = run_source("apify-linkedin", [str(lead.id)])
    second = run_source("apify-linkedin", [str(lead.id)])  # as a retry after a lost "done" would
    assert (first["observations_created"], second["observations_created"], second["duplicates"]) == (1, 0, 1)
    assert count(settings_database, Observation) == 1
    with settings_database() as session:
        service.configure(session, "apify-linkedin", SourceUpdate(enabled=False), actor="test")
        session.commit()
    assert "disabled" in run_source("apify-linkedin")["skipped"]  # recorded, not retried


def test_a_scheduled_round_is_worked_in_parts_of_the_configured_size(
        settings_database: sessionmaker[Session], fake_apify: FakeApify, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSWING_MONITOR_LEADS_PER_RUN", "2")
    get_settings.cache_clear()
    with settings_database() as session:
        portfolio = make_portfolio(session)
        for n in range(5):
            make_lead(session, portfolio, linkedin_url=f"https://www.linkedin.com/in/part-{n}",
                      linkedin_public_id=f"part-{n}")
        service.configure(session, "apify-linkedin", SourceUpdate(
            config={"token": fake_apify.token, "base_url": fake_apify.url}, enabled=True), actor="test")
        session.commit()
    fake_apify.add_profiles(HARVEST_PROFILES, [old_job_profile(f"part-{n}") for n in range(5)])
    runner = EmbeddedRunner(factory=settings_database)

    runner.tick()
    outcomes = runner.run_pending()  # the monitor, then each part queued by the one before it
    assert all(o.status == "done" for o in outcomes)
    with settings_database() as session:
        runs = session.scalars(select(TaskRun).where(TaskRun.name == "source.run")
                               .order_by(TaskRun.created_at)).all()
        keys = [run.idempotency_key for run in runs]
        assert len(runs) == 3 and [run.kwargs["part"] for run in runs[1:]] == [1, 2]
        assert keys[1:] == [f"{keys[0]}:1", f"{keys[0]}:2"]  # the part that found fewer than 2 due queued none
    # Each part fetched its own two leads (one actor run each): every lead once, none twice.
    assert [len(r.json()["queries"]) for r in fake_apify.requests_to("run-sync")] == [2, 2, 1]
    assert count(settings_database, Observation) == 5
