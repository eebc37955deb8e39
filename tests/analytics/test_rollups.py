"""The daily rollups (both databases): every report read from them equals the same report counted live, for every
role and bucket, on books of signals, outcomes, monitoring and sources; what changes reaches them — a signal's
status through the outbox consumer, outcomes and reassignments through the task's sweep, anything else through the
daily refresh — once the rollup task has run; and ``upswing analytics rollup`` / ``status``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from analytics.books import (
    COVERAGE_NOW,
    add_earlier_sighting,
    at,
    coverage_book,
    day,
    outcome_book,
    roll_up,
    signal_book,
    source_book,
)
from factories import make_lead, make_signal
from upswing.analytics import coverage, recovery, rollup, service, sources
from upswing.analytics.models import RollupDay
from upswing.analytics.schemas import AnalyticsQuery, BucketQuery
from upswing.core import outbox, tasks
from upswing.core.db import utcnow
from upswing.detection.events import SignalType
from upswing.lead.models import Lead
from upswing.outcome.models import Outcome
from upswing.signal import service as signals
from upswing.signal.models import Signal

TODAY = date(2026, 11, 20)
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
Build = Callable[..., Any]
REPORTS: dict[str, tuple[Build, bool]] = {  # name: (report function, takes a bucket)
    "signals": (service.signals_report, True), "funnel": (service.funnel_report, False),
    "response-times": (service.response_times_report, False), "outcomes": (service.outcomes_report, False),
    "recovery": (recovery.recovery_report, True), "source-health": (sources.source_health_report, False),
}


def _everything(session: Session) -> dict[str, Any]:
    """The signal book, with outcomes, monitoring and sources for its agents, a held-out signal, and a signal and a
    payment after ``TODAY`` (counted live even when the days before come from rollups)."""
    book = signal_book(session)
    leads = outcome_book(session, book)
    coverage_book(session, book)
    source_book(session, book, TODAY)
    held_out = make_lead(session, book["portfolio"], assignee_id=book["a1"].id, team_id=book["north"].id,
                         holdout=True)
    hidden = make_signal(session, held_out, SignalType.PROMOTION)
    later = make_signal(session, leads["L1"], SignalType.CERTIFICATION)
    add_earlier_sighting(session, later, leads["L1"].id)
    session.execute(update(Signal).where(Signal.id == hidden).values(detected_at=at(3), holdout=True))
    session.execute(update(Signal).where(Signal.id == later).values(detected_at=at(24, 23), priority="medium",
                                                                    first_action_at=at(25, 1)))
    session.add(Outcome(lead_id=leads["L3"].id, kind="payment", occurred_on=day(25), amount=70, source="api",
                        created_by="test"))
    session.commit()
    return book


def _dumped(report: Any) -> dict[str, Any]:
    return dict(report.model_dump(exclude={"notes"}))


@pytest.mark.parametrize("bucket", ["day", "week"])
def test_every_report_from_rollups_equals_it_counted_live(db_session: Session, session_factory: sessionmaker[Session],
                                                          bucket: str) -> None:
    book = _everything(db_session)
    roll_up(session_factory)
    rollup.snapshot_coverage(db_session, now=COVERAGE_NOW)
    users = [book[name] for name in ("admin", "manager", "a1", "a2", "b1", "viewer")]
    checked = 0
    for name, (build, bucketed) in REPORTS.items():
        for user in users:
            query = (BucketQuery if bucketed else AnalyticsQuery).model_validate(
                {**NOVEMBER, **({"bucket": bucket} if bucketed else {})})
            from_rollups, live = (build(db_session, user, query, today=TODAY, rollups=flag) for flag in (True, False))
            assert _dumped(from_rollups) == _dumped(live), (name, user.username)
            assert any("read from the daily rollups" in note for note in from_rollups.notes), name
            assert not any("read from the daily rollups" in note for note in live.notes), name
            checked += 1
    for user in users:
        query = BucketQuery.model_validate({**NOVEMBER, "bucket": bucket})
        from_snapshot, live = (coverage.coverage_report(db_session, user, query, today=TODAY, now=COVERAGE_NOW,
                                                        rollups=flag) for flag in (True, False))
        assert _dumped(from_snapshot) == _dumped(live), user.username
        checked += 1
    assert checked == (len(REPORTS) + 1) * len(users)
    # The books reach every report (not equal because empty): the held-out signal is in neither.
    funnel = service.funnel_report(db_session, book["admin"], AnalyticsQuery.model_validate(NOVEMBER), today=TODAY)
    assert {row.type: row.signals for row in funnel.rows} == {"new_employment": 4, "promotion": 1, "certification": 1}
    paid = recovery.recovery_report(db_session, book["b1"], BucketQuery.model_validate(NOVEMBER), today=TODAY)
    assert [(row.bucket, row.recovered) for row in paid.rows if row.payments] == [(day(9), 0.0), (day(25), 70.0)]


def test_a_change_without_a_trace_stays_until_the_day_is_rebuilt(db_session: Session,
                                                                  session_factory: sessionmaker[Session]) -> None:
    """The rollups are what the reports read: a status written behind the services' back (no event) is not in them
    until the day is rebuilt (the daily refresh would)."""
    book = signal_book(db_session)
    roll_up(session_factory)
    query = AnalyticsQuery.model_validate(NOVEMBER)

    def acknowledged(rollups: bool) -> int:
        rows = service.funnel_report(db_session, book["admin"], query, rollups=rollups).rows
        return next(row.acknowledged for row in rows if row.type == "new_employment")

    db_session.execute(update(Signal).where(Signal.id == book["ids"]["s6"]).values(status="acknowledged"))
    assert (acknowledged(True), acknowledged(False)) == (2, 3)
    db_session.execute(update(RollupDay).where(RollupDay.kind == rollup.SIGNALS)
                       .values(built_at=utcnow() - timedelta(days=2)))
    due = rollup.due_days(db_session, rollup.SIGNALS, now=utcnow(), refresh=61)
    assert set(due) >= {day(n) for n in range(1, 31)}  # built two days ago: due for the daily refresh
    rollup.build_day(db_session, rollup.SIGNALS, day(4))
    assert acknowledged(True) == 3


def test_a_status_change_shows_after_the_rollup_task_runs(db_session: Session,
                                                          session_factory: sessionmaker[Session],
                                                          deliver_events: Any) -> None:
    book = signal_book(db_session)
    roll_up(session_factory)
    query = AnalyticsQuery.model_validate(NOVEMBER)

    def funnel() -> Any:
        report = service.funnel_report(db_session, book["admin"], query)
        return next(row for row in report.rows if row.type == "new_employment"), report.notes

    deliver_events()  # the book's own events: its days were built after them
    db_session.execute(update(RollupDay).values(dirty_at=None))
    before, notes = funnel()
    assert before.acknowledged == 2 and not any("changed since" in note for note in notes)

    signals.acknowledge(db_session, book["ids"]["s6"], user=book["admin"])  # detected November 4th
    db_session.commit()
    deliver_events()  # the consumer marks November 4th dirty
    dirty = db_session.scalars(select(RollupDay.day).where(RollupDay.kind == rollup.SIGNALS,
                                                           RollupDay.dirty_at.is_not(None))).all()
    assert dirty == [day(4)]
    stale, notes = funnel()
    assert stale.acknowledged == 2 and any("1 day(s) of this range changed since" in note for note in notes)

    report = rollup.refresh(session_factory)
    assert report.built[rollup.SIGNALS] >= 1 and report.left == 0
    after, notes = funnel()
    assert after.acknowledged == 3 and not any("changed since" in note for note in notes)
    times = service.response_times_report(db_session, book["admin"], query)
    assert next(row for row in times.rows if row.group == "all" and row.priority == "low").responded == 1


def test_outcomes_and_reassignments_are_swept(db_session: Session, session_factory: sessionmaker[Session]) -> None:
    book = signal_book(db_session)
    leads = outcome_book(db_session, book)
    rollup.refresh(session_factory)  # builds every day; the cursors start here
    query = BucketQuery.model_validate(NOVEMBER)

    def paid(user: Any) -> dict[date, tuple[int, float]]:
        rows = recovery.recovery_report(db_session, user, query).rows
        return {row.bucket: (row.payments, row.recovered) for row in rows if row.payments}

    assert paid(book["b1"]) == {day(9): (1, 0.0)}
    # The lender's file fills in the amount of the payment recorded on a signal; L3 moves from b1 to a1.
    db_session.execute(update(Outcome).where(Outcome.lead_id == leads["L3"].id, Outcome.kind == "payment")
                       .values(amount=55, updated_at=utcnow()))
    assert paid(book["admin"])[day(9)] == (1, 0.0)  # read from the rollup until the next run
    report = rollup.refresh(session_factory)
    assert report.marked[rollup.RECOVERY] >= 1
    assert paid(book["admin"])[day(9)] == (1, 55.0)

    leads["L3"].assignee_id = book["a1"].id
    db_session.commit()
    rollup.refresh(session_factory)
    assert paid(book["b1"]) == {}
    assert paid(book["a1"])[day(9)] == (1, 55.0)


def test_a_run_stops_at_its_budget_and_the_next_one_goes_on(db_session: Session,
                                                            session_factory: sessionmaker[Session]) -> None:
    signal_book(db_session)
    first = rollup.refresh(session_factory, budget=timedelta(0))
    assert first.left > 0 and sum(first.built.values()) == 0
    second = rollup.refresh(session_factory)
    assert second.left == 0 and sum(second.built.values()) == first.left
    assert not rollup.due_days(db_session, rollup.SIGNALS, now=utcnow(), refresh=0)


def test_the_task_and_the_consumer_are_registered() -> None:
    assert "analytics.rollup" in tasks.registered_tasks()
    assert any(s.task_name == "analytics.rollup" and s.every == rollup.RUN_EVERY for s in tasks.schedules())
    consumer = outbox.registered_consumers()["analytics.mark_dirty"]
    assert consumer.event_types == {"signal.created", "signal.updated", "signal.dismissed"}


def test_the_cli_rebuilds_a_range_and_shows_the_state(settings_database: sessionmaker[Session]) -> None:
    from upswing.analytics.cli import app

    runner = CliRunner()
    with settings_database() as session:
        assert session.scalar(select(func.count()).select_from(RollupDay)) == 0
    built = runner.invoke(app, ["rollup", "--from", "2026-11-01", "--to", "2026-11-03"], catch_exceptions=False)
    assert built.exit_code == 0, built.output
    assert "signals: 3 day(s) rebuilt" in built.output and "coverage: snapshot taken" in built.output
    with settings_database() as session:
        days = session.execute(select(RollupDay.kind, func.count()).group_by(RollupDay.kind)).all()
    assert dict(days) == {"signals": 3, "recovery": 3, "sources": 3}
    shown = runner.invoke(app, ["status"], catch_exceptions=False)
    assert shown.exit_code == 0 and "2026-11-01" in shown.output and "2026-11-03" in shown.output
    wrong = runner.invoke(app, ["rollup", "--kind", "nope"])
    assert wrong.exit_code != 0 and "unknown rollup" in wrong.output
    assert runner.invoke(app, ["rollup", "--from", "2026-11-05", "--to", "2026-11-01"]).exit_code != 0


def test_a_day_is_built_from_its_own_signals_only(db_session: Session) -> None:
    """One grouped query per day: a day's rows hold that UTC day's signals, and rebuilding replaces them."""
    book = signal_book(db_session)
    # s2 (a1) and s3 (a2), both of north: 2 rows per team (type, source), per agent and per priority.
    assert rollup.build_day(db_session, rollup.SIGNALS, day(3)) == 6
    rows = db_session.execute(select(rollup.DAILY.c.type, rollup.DAILY.c.signals)
                              .where(rollup.DAILY.c.day == day(3))).all()
    assert sorted(rows) == [("new_employment", 1), ("promotion", 1)]
    assert rollup.build_day(db_session, rollup.SIGNALS, day(3)) == 6
    assert db_session.scalar(select(func.count()).select_from(rollup.DAILY).where(rollup.DAILY.c.day == day(3))) == 2
    built = db_session.get(RollupDay, (rollup.SIGNALS, day(3)))
    assert built is not None and built.built_at is not None and built.dirty_at is None
    assert book["ids"]["s2"]  # the book is the one whose figures the API tests spell out


def test_marking_leaves_today_alone(db_session: Session) -> None:
    now = datetime.combine(TODAY, time(12), tzinfo=UTC)
    assert rollup.mark_dirty(db_session, rollup.SIGNALS, [TODAY, TODAY - timedelta(days=1)], now=now) == 1


def test_a_big_change_marks_every_built_day(db_session: Session, session_factory: sessionmaker[Session],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """More changed leads than the sweep looks up one by one (an import): every built day is rebuilt instead."""
    book = signal_book(db_session)
    outcome_book(db_session, book)
    rollup.refresh(session_factory)
    monkeypatch.setattr(rollup, "SWEEP_CAP", 1)
    db_session.execute(update(Lead).values(updated_at=utcnow()))
    db_session.commit()
    marked = rollup.sweep(db_session)
    built = dict(db_session.execute(select(RollupDay.kind, func.count()).where(RollupDay.built_at.is_not(None))
                                    .group_by(RollupDay.kind)).all())
    assert marked == {kind: built.get(kind, 0) for kind in rollup.DAILY_KINDS} and built[rollup.RECOVERY] > 0
