"""The recovery, coverage and source-health reports (both databases, counted live and read from the rollups): their
figures on known books (``books``), per day and per week (weeks the range cuts at either end or both),
scoped by role, through the API with their CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from analytics.books import (
    COVERAGE_NOW,
    coverage_book,
    day,
    outcome_book,
    roll_up,
    source_book,
)
from factories import auth, make_team, make_user
from upswing.account.models import Role
from upswing.analytics import rollup
from upswing.analytics.coverage import coverage_report
from upswing.analytics.models import CoverageDaily
from upswing.analytics.recovery import recovery_report
from upswing.analytics.schemas import AnalyticsQuery, BucketQuery
from upswing.analytics.sources import source_health_report

NOVEMBER = {"from": date(2026, 11, 1), "to": date(2026, 11, 30)}
TODAY = date(2026, 11, 20)


@pytest.fixture
def people(db_session: Session) -> dict[str, Any]:
    north, south = make_team(db_session), make_team(db_session)
    found: dict[str, Any] = {"north": north, "south": south, "a1": make_user(db_session, Role.AGENT, team=north),
                             "b1": make_user(db_session, Role.AGENT, team=south),
                             "admin": make_user(db_session, Role.ADMIN),
                             "manager": make_user(db_session, Role.MANAGER, team=north),
                             "viewer": make_user(db_session, Role.VIEWER)}
    db_session.commit()
    return found


@pytest.fixture(params=["live", "rollups"])
def rolled(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "rollups")


def _recovery(session: Session, user: Any, rolled: bool, **query: Any) -> Any:
    return recovery_report(session, user, BucketQuery.model_validate({**NOVEMBER, **query}), today=TODAY,
                           rollups=rolled)


def _rows(report: Any) -> dict[str, tuple[Any, ...]]:
    return {row.bucket.isoformat(): (row.payments, row.recovered, row.leads_paying, row.promises, row.promises_kept,
                                     row.promises_broken, row.kept_rate)
            for row in report.rows if row.payments or row.promises}


# --------------------------------------------------------------------------------------------------
# Recovery
# --------------------------------------------------------------------------------------------------


def test_recovery_per_day_and_week(db_session: Session, session_factory: sessionmaker[Session], people: Any,
                                   rolled: bool) -> None:
    outcome_book(db_session, people)
    if rolled:
        roll_up(session_factory)
    daily = _recovery(db_session, people["admin"], rolled)
    assert len(daily.rows) == 30 and daily.rows[0].bucket == day(1)  # every day of the range, with or without
    assert _rows(daily) == {
        "2026-11-02": (0, 0.0, 0, 1, 1, 0, 1.0),
        "2026-11-03": (1, 100.0, 1, 0, 0, 0, 0.0),
        "2026-11-04": (1, 30.0, 1, 0, 0, 0, 0.0),
        "2026-11-05": (2, 250.0, 2, 0, 0, 0, 0.0),
        "2026-11-09": (1, 0.0, 1, 1, 0, 0, 0.0),  # recorded on a signal: counted, no dollars; its promise pending
        "2026-11-10": (1, 25.0, 1, 0, 0, 0, 0.0),
        "2026-11-12": (0, 0.0, 0, 1, 0, 1, 0.0),
    }
    assert (daily.first_payments, daily.days_to_first_payment_median, daily.days_to_first_payment_p90) == \
        (3, 14.0, 25.2)  # 7, 14 and 28 days: L4 paid first in October
    weekly = _recovery(db_session, people["admin"], rolled, bucket="week")
    assert weekly.columns[0].label == "Week of"
    assert _rows(weekly) == {
        "2026-11-02": (4, 380.0, 3, 1, 1, 0, 1.0),  # L1 paid twice that week: one lead paying
        "2026-11-09": (2, 25.0, 2, 2, 0, 1, 0.0),
    }
    assert [row.bucket for row in weekly.rows] == [day(26, 10) + timedelta(weeks=n) for n in range(6)]
    assert any("control group" in note for note in daily.notes)
    assert any("read from the daily rollups" in note for note in daily.notes) is rolled


def test_recovery_weeks_cut_by_the_range(db_session: Session, session_factory: sessionmaker[Session], people: Any,
                                         rolled: bool) -> None:
    outcome_book(db_session, people)
    if rolled:
        roll_up(session_factory)
    # Wednesday to Wednesday: the first week cut at its start (L1's Tuesday payment is outside, its Thursday one
    # inside: one lead), the second at its end.
    cut = _recovery(db_session, people["admin"], rolled, bucket="week", **{"from": day(4), "to": day(11)})
    assert _rows(cut) == {"2026-11-02": (3, 280.0, 3, 0, 0, 0, 0.0), "2026-11-09": (2, 25.0, 2, 1, 0, 0, 0.0)}
    # Tuesday to Thursday of one week: cut at both ends.
    inside = _recovery(db_session, people["admin"], rolled, bucket="week", **{"from": day(3), "to": day(5)})
    assert _rows(inside) == {"2026-11-02": (4, 380.0, 3, 0, 0, 0, 0.0)}
    # The first payments of a shorter range: L1 (Nov 3) and L2 (Nov 5) only.
    assert (inside.first_payments, inside.days_to_first_payment_median) == (2, 21.0)


def test_recovery_is_scoped_by_the_leads_owner(db_session: Session, session_factory: sessionmaker[Session],
                                               people: Any, rolled: bool) -> None:
    outcome_book(db_session, people)
    if rolled:
        roll_up(session_factory)
    agent = _recovery(db_session, people["b1"], rolled, bucket="week")
    assert agent.scope.kind == "agent"
    assert _rows(agent) == {"2026-11-09": (1, 0.0, 1, 1, 0, 0, 0.0)}
    assert (agent.first_payments, agent.days_to_first_payment_median) == (1, 7.0)
    manager = _recovery(db_session, people["manager"], rolled, bucket="week")  # north: a1's L1, L2, L4
    assert manager.scope.kind == "team"
    assert _rows(manager) == {"2026-11-02": (4, 380.0, 3, 1, 1, 0, 1.0), "2026-11-09": (1, 25.0, 1, 1, 0, 1, 0.0)}
    south = _recovery(db_session, people["manager"], rolled, team=people["south"].name)
    assert sum(row.payments for row in south.rows) == 1


# --------------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------------


def _coverage(session: Session, user: Any, rolled: bool, **query: Any) -> Any:
    return coverage_report(session, user, BucketQuery.model_validate({**NOVEMBER, **query}), today=TODAY,
                           now=COVERAGE_NOW, rollups=rolled)


def _figures(row: Any) -> tuple[Any, ...]:
    return (row.leads, row.monitored, row.monitored_share, row.under_1_day, row.days_1_to_7, row.days_7_to_30,
            row.older, row.never, row.median_hours, row.p90_hours)


def test_coverage_monitored_share_and_freshness(db_session: Session, people: Any, rolled: bool) -> None:
    coverage_book(db_session, people)
    if rolled:  # snapshots: two days ago (its own figures) and now (today's row)
        rollup.snapshot_coverage(db_session, now=COVERAGE_NOW - timedelta(days=2))
        rollup.snapshot_coverage(db_session, now=COVERAGE_NOW)
    report = _coverage(db_session, people["admin"], rolled)
    assert [row.bucket for row in report.rows] == ([day(18)] if rolled else []) + [TODAY]
    # 2, 72, 192 and 960 hours (rounded down to 2, 72, 168 and 720); M4 never looked at; M6 merged away.
    assert _figures(report.rows[-1]) == (5, 1, 0.2, 1, 1, 1, 1, 1, 120.0, 554.4)
    assert report.as_of == COVERAGE_NOW
    assert any("counted live" in note for note in report.notes) is not rolled
    agent = _coverage(db_session, people["a1"], rolled)
    assert _figures(agent.rows[-1]) == (4, 1, 0.25, 1, 1, 0, 1, 1, 72.0, 590.4)
    weekly = _coverage(db_session, people["admin"], rolled, bucket="week")
    assert [(row.bucket, row.leads) for row in weekly.rows] == [(day(16), 5)]  # the week shows its last day


def test_coverage_reads_todays_snapshot_once_taken(db_session: Session, people: Any) -> None:
    leads = coverage_book(db_session, people)
    rollup.snapshot_coverage(db_session, now=COVERAGE_NOW)
    leads["M4"].merged_into_id = leads["M1"].id  # after the snapshot: shows at the next one
    db_session.flush()
    assert _figures(_coverage(db_session, people["admin"], True).rows[-1])[0] == 5
    assert _figures(_coverage(db_session, people["admin"], False).rows[-1])[0] == 4
    db_session.execute(delete(CoverageDaily).where(CoverageDaily.day == TODAY))
    rollup.snapshot_coverage(db_session, now=COVERAGE_NOW - timedelta(minutes=30))  # "yesterday's", just before
    db_session.execute(update(CoverageDaily).values(day=TODAY - timedelta(days=1)))
    recent = _coverage(db_session, people["admin"], True)  # no row for today until the task's next snapshot
    assert [row.bucket for row in recent.rows] == [TODAY - timedelta(days=1)]
    db_session.execute(delete(CoverageDaily))
    assert _figures(_coverage(db_session, people["admin"], True).rows[-1])[0] == 4  # none at all: live


# --------------------------------------------------------------------------------------------------
# Source health
# --------------------------------------------------------------------------------------------------


def test_source_health(db_session: Session, session_factory: sessionmaker[Session], people: Any,
                       rolled: bool) -> None:
    made = source_book(db_session, people, TODAY)
    if rolled:
        roll_up(session_factory)

    def report(user: Any, **query: Any) -> dict[str, Any]:
        found = source_health_report(db_session, user, AnalyticsQuery.model_validate({**NOVEMBER, **query}),
                                     today=TODAY, rollups=rolled)
        return {row.source: row for row in found.rows if row.source in (made["good"].slug, made["bad"].slug)}

    rows = report(people["admin"])
    good, bad = rows[made["good"].slug], rows[made["bad"].slug]
    assert (good.state, good.enabled, good.budget_used, good.budget_limit, good.budget_used_share, good.observations,
            good.consecutive_failures) == ("ok", True, 120, 300, 0.4, 4, 0)
    assert (bad.state, bad.budget_used, bad.budget_limit, bad.budget_used_share, bad.observations,
            bad.consecutive_failures) == ("degraded", 5, None, None, 1, 3)  # unlinked; October's outside
    assert bad.last_error == "HttpError: 503 from https://example.test/feed" and bad.last_error_at is not None
    agent = report(people["a1"])  # a1's lead: 3 observations; the state is everyone's, the message admins' only
    assert (agent[made["good"].slug].observations, agent[made["bad"].slug].observations) == (3, 0)
    assert agent[made["bad"].slug].last_error is None and agent[made["bad"].slug].state == "degraded"
    south = report(people["manager"], team=people["south"].name)
    assert (south[made["good"].slug].observations, south[made["bad"].slug].observations) == (1, 0)
    short = report(people["admin"], **{"from": day(4), "to": day(9)})
    assert (short[made["good"].slug].observations, short[made["bad"].slug].observations) == (1, 1)


# --------------------------------------------------------------------------------------------------
# Through the API
# --------------------------------------------------------------------------------------------------


def test_the_new_reports_through_the_api_with_their_csv(app: Any, client: Any, db_session: Session,
                                                        people: Any) -> None:
    outcome_book(db_session, people)
    made = source_book(db_session, people, date.today())
    params = {"from": "2026-11-01", "to": "2026-11-30", "bucket": "week"}
    body = client.get("/api/v1/analytics/recovery", headers=auth(app, people["admin"]), params=params).json()
    assert [c["name"] for c in body["columns"]] == ["bucket", "payments", "recovered", "leads_paying", "promises",
                                                    "promises_kept", "promises_broken", "kept_rate"]
    assert body["rows"][1] == {"bucket": "2026-11-02", "payments": 4, "recovered": 380.0, "leads_paying": 3,
                               "promises": 1, "promises_kept": 1, "promises_broken": 0, "kept_rate": 1.0}
    assert body["first_payments"] == 3 and body["days_to_first_payment_median"] == 14.0
    download = client.get("/api/v1/analytics/recovery.csv", headers=auth(app, people["admin"]), params=params)
    assert download.headers["content-disposition"] == (
        'attachment; filename="upswing-recovery-2026-11-01-to-2026-11-30.csv"')
    table = list(csv.reader(io.StringIO(download.text)))
    assert table[2] == ["2026-11-02", "4", "380.0", "3", "1", "1", "0", "1.0"] and len(table) == 7

    health = client.get("/api/v1/analytics/source-health", headers=auth(app, people["viewer"]),
                        params={"from": "2026-11-01", "to": "2026-11-30"}).json()
    bad = next(row for row in health["rows"] if row["source"] == made["bad"].slug)
    assert bad["last_error"] is None and bad["consecutive_failures"] == 3 and bad["observations"] == 1
    lines = list(csv.reader(io.StringIO(client.get("/api/v1/analytics/source-health.csv",
                                                   headers=auth(app, people["admin"]),
                                                   params={"from": "2026-11-01", "to": "2026-11-30"}).text)))
    assert lines[0][:4] == ["source", "name", "enabled", "state"]
    assert [made["bad"].slug, "Bad", "true", "degraded"] == next(line[:4] for line in lines
                                                                 if line[0] == made["bad"].slug)

    coverage = client.get("/api/v1/analytics/coverage", headers=auth(app, people["a1"])).json()
    assert coverage["scope"]["kind"] == "agent" and coverage["rows"][-1]["bucket"] == date.today().isoformat()
    refused = client.get("/api/v1/analytics/coverage", headers=auth(app, people["a1"]), params={"team": "all"})
    assert refused.status_code == 403
