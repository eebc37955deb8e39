"""The monitoring engine against an in-memory connector, on both databases: scheduling by tier and slot,
budgets, the blocked/degraded/ok states, and nothing lost or duplicated when a run fails part-way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio
from pipeline.monitoring_support import Behaviour, MemoryConnector, new_job_profile, old_job_profile, profile
from upswing.audit.models import AuditEntry
from upswing.core.http import Blocked, ServerError
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.pipeline import monitoring
from upswing.pipeline.monitoring import MonitoringEngine, Targeting
from upswing.signal.models import Signal
from upswing.source import registry as connector_registry
from upswing.source import service
from upswing.source.models import LeadSchedule, Source
from upswing.source.schemas import SourceUpdate

SLUG = MemoryConnector.slug


@pytest.fixture
def behaviour(monkeypatch: pytest.MonkeyPatch) -> Iterator[Behaviour]:
    """Registers the in-memory connector as a profile source for this test only."""
    fresh = Behaviour()
    monkeypatch.setattr(MemoryConnector, "behaviour", fresh)
    monkeypatch.setitem(connector_registry._REGISTRY, SLUG, MemoryConnector)
    monkeypatch.setitem(monitoring.TARGETING, SLUG, Targeting("profiles", service.LINKEDIN_PROFILES))
    yield fresh


def configure(session: Session, **change: Any) -> Source:
    change.setdefault("config", {"token": "secret-token"})
    change.setdefault("enabled", True)
    source = service.configure(session, SLUG, SourceUpdate(**change), actor="test")
    session.commit()
    return source


def seed_leads(session: Session, behaviour: Behaviour, count: int, *, balance: str = "500.00",
               new_job: bool = False) -> list[Lead]:
    portfolio = make_portfolio(session)
    leads = []
    for _ in range(count):
        public_id = f"watch-{uuid.uuid4().hex[:10]}"
        lead = make_lead(session, portfolio, linkedin_url=f"https://www.linkedin.com/in/{public_id}",
                         linkedin_public_id=public_id, first_name="Dana", last_name="Whitfield",
                         balance=Decimal(balance))
        item = new_job_profile(public_id) if new_job else old_job_profile(public_id)
        behaviour.items[lead.linkedin_url or ""] = [profile(item)]
        leads.append(lead)
    session.commit()
    return leads


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_run_fetches_due_leads_once_and_schedules_them_by_tier(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session)
    high = seed_leads(db_session, behaviour, 1, balance="50000.00")[0]
    low = seed_leads(db_session, behaviour, 1, balance="300.00")[0]
    make_lead(db_session, linkedin_url=None, linkedin_public_id=None)  # nothing to watch
    db_session.commit()
    engine = MonitoringEngine(session_factory)
    started = datetime.now(UTC)

    report = engine.run(SLUG)

    assert (report.targets, report.items, report.observations_created, report.linked) == (2, 2, 2, 2)
    assert sorted(v for call in behaviour.calls for v in call) == sorted([high.linkedin_url, low.linkedin_url])
    schedule = {row.lead_id: row for row in db_session.scalars(select(LeadSchedule))}
    high_due, low_due = schedule[high.id].next_due_at, schedule[low.id].next_due_at
    assert high_due is not None and low_due is not None
    # High-value daily, others weekly: between half and one and a half periods from now, in the lead's slot.
    assert started + timedelta(hours=12) <= high_due <= started + timedelta(hours=36, minutes=1)
    assert started + timedelta(days=3.5) <= low_due <= started + timedelta(days=10.5, minutes=1)
    assert high_due.timestamp() % 86400 == pytest.approx(service.phase_of(high.id, timedelta(days=1)), abs=1)
    assert schedule[high.id].checks == 1

    again = engine.run(SLUG)  # nothing is due any more
    assert (again.targets, again.items) == (0, 0) and len(behaviour.calls) == 1

    forced = engine.run(SLUG, lead_ids=[low.id])  # an operator names a lead: fetched, due or not
    assert (forced.targets, forced.observations_created, forced.duplicates) == (1, 0, 1)
    db_session.expire_all()
    assert db_session.get(LeadSchedule, (service.get_source(db_session, SLUG).id, low.id)).checks == 2  # type: ignore[union-attr]


def test_slots_spread_leads_over_the_day() -> None:
    day = timedelta(days=1)
    checked = datetime(2026, 11, 22, 3, tzinfo=UTC)
    hours = [service.next_due(uuid.uuid4(), checked, day).hour for _ in range(2400)]
    per_hour = [hours.count(h) for h in range(24)]
    assert min(per_hour) > 50 and max(per_hour) < 150  # about 100 an hour, not all at once
    lead = uuid.uuid4()
    assert service.next_due(lead, checked, day) == service.next_due(lead, checked, day)  # deterministic


def test_new_job_on_a_watched_profile_becomes_a_signal(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session)
    (lead,) = seed_leads(db_session, behaviour, 1)
    engine = MonitoringEngine(session_factory)
    first = engine.run(SLUG)
    assert (first.observations_created, first.signals_created) == (1, 0)

    behaviour.items[lead.linkedin_url or ""] = [profile(new_job_profile(lead.linkedin_public_id or ""))]
    second = engine.run(SLUG, lead_ids=[lead.id])
    assert (second.observations_created, second.signals_created) == (1, 1)
    signal = db_session.scalars(select(Signal).where(Signal.lead_id == lead.id)).one()
    assert (signal.type, signal.organization) == ("new_employment", "Keller & Price LLP")


def test_budget_caps_what_is_fetched_and_the_next_run_continues(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session, budgets={service.LINKEDIN_PROFILES: 3})
    seed_leads(db_session, behaviour, 5)
    engine = MonitoringEngine(session_factory, batch_size=2)

    first = engine.run(SLUG)
    assert (first.targets, first.observations_created) == (3, 3)
    assert sum(len(call) for call in behaviour.calls) == 3
    assert first.budget_used == {service.LINKEDIN_PROFILES: 3}

    second = engine.run(SLUG)  # today's budget is spent: nothing is fetched
    assert second.stopped == "budget" and second.targets == 0
    assert sum(len(call) for call in behaviour.calls) == 3
    source = service.get_source(db_session, SLUG)
    read = service.describe(db_session, source)
    assert [(b.name, b.limit, b.used_today) for b in read.budgets] == [(service.LINKEDIN_PROFILES, 3, 3)]

    configure(db_session, budgets={service.LINKEDIN_PROFILES: 10})  # an admin raises it
    third = engine.run(SLUG)
    assert (third.targets, third.observations_created) == (2, 2)
    assert count(db_session, Observation) == 5


def test_a_round_puts_new_leads_on_the_schedule_once_and_its_parts_plan_from_it(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session)
    first_leads = seed_leads(db_session, behaviour, 5)
    engine = MonitoringEngine(session_factory)

    first = engine.run(SLUG, max_targets=2, scheduled=True)  # a round's first part
    assert first.targets == 2
    rows = {r.lead_id: r for r in db_session.scalars(select(LeadSchedule))}
    assert set(rows) == {lead.id for lead in first_leads}  # every lead it could fetch for is on the schedule
    waiting = [lead for lead in first_leads if rows[lead.id].checks == 0]
    assert len(waiting) == 3 and all(rows[lead.id].next_due_at == lead.created_at for lead in waiting)

    late = seed_leads(db_session, behaviour, 1)[0]  # arrives in mid-round
    second = engine.run(SLUG, max_targets=2, continuing=True, scheduled=True)
    third = engine.run(SLUG, max_targets=2, continuing=True, scheduled=True)
    assert (second.targets, third.targets) == (2, 1)
    fetched = [value for call in behaviour.calls for value in call]
    assert sorted(fetched) == sorted(lead.linkedin_url for lead in first_leads)  # each once, the late one not yet
    assert count(db_session, LeadSchedule, LeadSchedule.lead_id == late.id) == 0

    next_round = engine.run(SLUG, max_targets=2, scheduled=True)
    assert next_round.targets == 1 and behaviour.calls[-1] == [late.linkedin_url]
    assert count(db_session, Observation) == 6


def test_budget_store_never_spends_past_the_limit(db_session: Session, session_factory: sessionmaker[Session],
                                                  behaviour: Behaviour) -> None:
    source = configure(db_session)
    store = service.DbBudgetStore(session_factory, source.id, {"units": 5})
    assert [store.try_spend("units", 2) for _ in range(3)] == [True, True, False]
    assert (store.used("units"), store.left("units")) == (4, 1)
    assert store.try_spend("units", 1) and not store.try_spend("units", 1)
    assert store.try_spend("unlimited", 1000) and store.limit("unlimited") is None


def test_refusal_blocks_the_source_until_it_works_again(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session)
    leads = seed_leads(db_session, behaviour, 2)
    behaviour.failures[1] = Blocked("POST /v2/actors/x/run-sync-get-dataset-items: HTTP 402 "
                                    "(not-enough-usage-to-run-paid-actor)", url=None, status=402)
    engine = MonitoringEngine(session_factory)

    report = engine.run(SLUG)
    assert report.stopped == "blocked" and report.state == "blocked"
    db_session.expire_all()
    source = service.get_source(db_session, SLUG)
    assert source.state == "blocked" and "402" in (source.last_error or "")
    assert source.consecutive_failures == 1
    # Nothing was fetched, and both leads are due again at once (not held for the lease).
    assert count(db_session, Observation) == 0
    due = {row.lead_id: row.next_due_at for row in db_session.scalars(select(LeadSchedule))}
    assert set(due) == {lead.id for lead in leads}
    assert all(when is not None and when <= datetime.now(UTC) for when in due.values())
    changes = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "source.state")).all()
    assert [(c.details["from"], c.details["to"]) for c in changes] == [("ok", "blocked")]

    assert engine.run(SLUG, scheduled=True).stopped == "blocked"  # the schedule leaves it alone
    assert len(behaviour.calls) == 1

    recovered = engine.run(SLUG)  # an operator's run after the credit was topped up
    assert (recovered.state, recovered.observations_created) == ("ok", 2)
    db_session.expire_all()
    assert service.get_source(db_session, SLUG).consecutive_failures == 0


def test_repeated_transient_errors_degrade_then_a_success_restores(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session)
    seed_leads(db_session, behaviour, 1)
    for call in (1, 2, 3):
        behaviour.failures[call] = ServerError("HTTP 503 after retries", url=None, status=503)
    engine = MonitoringEngine(session_factory)
    states = [engine.run(SLUG).state for _ in range(3)]
    assert states == ["ok", "ok", "degraded"]
    assert engine.run(SLUG).state == "ok"
    assert count(db_session, Observation) == 1


def test_failure_part_way_loses_nothing_and_a_rerun_duplicates_nothing(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    configure(db_session)
    leads = seed_leads(db_session, behaviour, 5, new_job=True)
    behaviour.failures[2] = ServerError("HTTP 500 after retries", url=None, status=500)  # the second batch
    engine = MonitoringEngine(session_factory, batch_size=2)

    first = engine.run(SLUG)
    assert first.stopped == "error" and first.observations_created == 2
    assert count(db_session, Observation) == 2
    checked = set(db_session.scalars(select(LeadSchedule.lead_id).where(LeadSchedule.checks > 0)))
    assert len(checked) == 2

    second = engine.run(SLUG)  # the three leads given back are due: fetched now, nothing twice
    assert (second.targets, second.observations_created, second.duplicates) == (3, 3, 0)
    assert count(db_session, Observation) == 5
    signals_before = count(db_session, Signal)

    replay = engine.run(SLUG, lead_ids=[lead.id for lead in leads])  # everything fetched again
    assert (replay.observations_created, replay.duplicates, replay.signals_created) == (0, 5, 0)
    assert count(db_session, Observation) == 5 and count(db_session, Signal) == signals_before


def test_a_batch_that_fails_while_storing_leaves_nothing_half_written(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour,
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(db_session)
    leads = seed_leads(db_session, behaviour, 2, new_job=True)

    def broken_schedule(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "mark_checked", broken_schedule)  # after the profiles were ingested
    with pytest.raises(RuntimeError, match="database went away"):
        MonitoringEngine(session_factory).run(SLUG)
    assert count(db_session, Observation) == 0 and count(db_session, Signal) == 0
    db_session.expire_all()
    source = service.get_source(db_session, SLUG)
    assert "database went away" in (source.last_error or "")
    monkeypatch.undo()

    behaviour.failures.clear()
    monkeypatch.setattr(MemoryConnector, "behaviour", behaviour)
    monkeypatch.setitem(connector_registry._REGISTRY, SLUG, MemoryConnector)
    monkeypatch.setitem(monitoring.TARGETING, SLUG, Targeting("profiles", service.LINKEDIN_PROFILES))
    again = MonitoringEngine(session_factory).run(SLUG)  # the leads were given back
    assert again.observations_created == 2 and {lead.id for lead in leads} == set(
        db_session.scalars(select(Observation.lead_id)))


def test_a_disabled_or_unconfigured_source_does_not_run(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    source = service.get_source(db_session, SLUG)  # created on first use: no token, so switched off
    db_session.commit()
    assert (source.enabled, source.state) == (False, "disabled")
    with pytest.raises(service.SourceDisabledError, match="--enable"):
        MonitoringEngine(session_factory).run(SLUG)
    with pytest.raises(service.SourceNotConfiguredError, match="token is required"):
        service.configure(db_session, SLUG, SourceUpdate(enabled=True), actor="test")
    assert behaviour.calls == []


def test_secrets_are_sealed_and_never_shown(db_session: Session, behaviour: Behaviour) -> None:
    source = configure(db_session, config={"token": "apify_api_TOPSECRET", "region": "eu"},
                       legal_basis="Legitimate interest (test)")
    assert source.config == {"region": "eu"}
    assert source.secrets is not None and source.secrets.startswith("enc:v1:")
    assert "TOPSECRET" not in source.secrets
    assert service.effective_config(source).token.get_secret_value() == "apify_api_TOPSECRET"  # type: ignore[attr-defined]
    read = service.describe(db_session, source)
    assert read.config == {"region": "eu"} and read.secrets_set == ["token"]
    assert "TOPSECRET" not in read.model_dump_json()
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "source.configure")).all()[-1]
    assert entry.details["config"] == ["region", "token"] and "TOPSECRET" not in str(entry.details)

    with pytest.raises(service.ValidationFailedError, match="no setting"):
        service.configure(db_session, SLUG, SourceUpdate(config={"tokn": "x"}), actor="test")
    service.configure(db_session, SLUG, SourceUpdate(config={"region": None}), actor="test")
    assert service.describe(db_session, source).config == {"region": "us"}  # back to the default


def test_deployment_defaults_come_from_the_environment(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from upswing.settings import get_settings

    monkeypatch.setenv("UPSWING_APIFY_TOKEN", "apify_api_FROM_ENV")
    monkeypatch.setenv("UPSWING_LINKEDIN_DAILY_PROFILE_BUDGET", "120")
    monkeypatch.setenv("UPSWING_SOURCE_DEFAULTS", '{"rss": {"feeds": ["https://news.example/feed.xml"]}}')
    get_settings.cache_clear()
    try:
        sources = {source.slug: source for source in service.ensure_sources(db_session)}
        apify = service.describe(db_session, sources["apify-linkedin"])
        assert (apify.enabled, apify.state, apify.secrets_set) == (True, "ok", ["token"])
        assert [(b.name, b.limit) for b in apify.budgets] == [("linkedin-profiles", 120)]
        assert "apify_api_FROM_ENV" not in apify.model_dump_json() and sources["apify-linkedin"].secrets is None
        rss = service.describe(db_session, sources["rss"])
        assert rss.enabled and rss.config["feeds"] == ["https://news.example/feed.xml"]
        assert not sources["firecrawl-about"].enabled  # nothing configured for it
    finally:
        get_settings.cache_clear()


def test_schedule_rows_are_written_in_lead_id_order(db_session: Session, behaviour: Behaviour) -> None:
    # Two runs writing the same schedule rows each in their own order deadlock (a scheduled run's lease of every
    # due lead against a run marking its own leads checked); one order for every writer cannot.
    from sqlalchemy import event

    source = configure(db_session)
    leads = [lead.id for lead in seed_leads(db_session, behaviour, 12)]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    service.lease(db_session, source, leads[:6], now=now)  # six exist, six are new
    written: list[list[str]] = []
    # The drivers' parameters hold the ids as UUIDs (PostgreSQL) or 32 hex digits (SQLite), by name or position.
    names = {form: str(lead_id) for lead_id in leads for form in (lead_id, str(lead_id), lead_id.hex)}

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if "source_lead_schedule" in statement and not statement.lstrip().upper().startswith("SELECT"):
            rows = parameters if many else [parameters]
            written.append([next(names[v] for v in (row.values() if isinstance(row, dict) else row)
                                 if isinstance(v, str | uuid.UUID) and v in names) for row in rows])

    bind = db_session.get_bind()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        service.lease(db_session, source, list(reversed(leads)), now=now)
        db_session.flush()
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    assert [len(rows) for rows in written] == [6, 6]  # the new rows inserted, the others updated
    assert all(rows == sorted(rows) for rows in written)


def test_a_failed_run_locks_its_source_before_giving_its_leads_back(
        db_session: Session, session_factory: sessionmaker[Session], behaviour: Behaviour) -> None:
    # Planning locks the source row, then the schedule rows; a failed run's finish took them the other way
    # round and deadlocked with a run planning meanwhile. (SQLite has one writer: nothing to order.)
    from sqlalchemy import event

    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    configure(db_session)
    seed_leads(db_session, behaviour, 4)
    behaviour.failures[2] = ServerError("HTTP 500 after retries", url=None, status=500)  # the second batch
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    bind = db_session.get_bind()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        assert MonitoringEngine(session_factory, batch_size=2).run(SLUG).stopped == "error"
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    release = max(n for n, sql in enumerate(statements) if sql.startswith("UPDATE source_lead_schedule"))
    locked = [n for n, sql in enumerate(statements) if sql.startswith("SELECT") and "FROM sources" in sql
              and sql.endswith("FOR UPDATE")]
    assert locked and locked[-1] < release
