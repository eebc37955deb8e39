"""The analytics API (both databases): each signal report's figures on a small known book — counted live, and read
from the daily rollups (the ``book`` fixture gives both) — scoped by role (agents their own signals, managers their
team by default or the one they name, admins and viewers all), the range and team checks naming the field, CSV
downloads neutralised against formulas, and the queries answered from indexes."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from analytics.books import roll_up, signal_book
from factories import auth, make_user
from upswing.account.models import Role
from upswing.analytics.service import percentile

RANGE = {"from": "2026-11-01", "to": "2026-11-30"}
REPORTS = ("signals", "funnel", "response-times", "outcomes", "recovery", "coverage", "source-health",
           "model-quality")


@pytest.fixture(params=["live", "rollups"])
def book(request: pytest.FixtureRequest, db_session: Session, session_factory: sessionmaker[Session]) -> Any:
    """The book, its November counted live or read from the rollups built for it."""
    made = signal_book(db_session)
    if request.param == "rollups":
        roll_up(session_factory)
    made["rolled"] = request.param == "rollups"
    return made


def _get(client: Any, app: Any, user: Any, report: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/analytics/{report}", headers=auth(app, user), params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_signals_per_day_and_week_by_type_and_source(app: Any, client: Any, db_session: Session, book: Any) -> None:
    body = _get(client, app, book["admin"], "signals")
    assert body["from"] == "2026-11-01" and body["to"] == "2026-11-30" and body["bucket"] == "day"
    assert [c["name"] for c in body["columns"]] == ["bucket", "type", "source", "signals"]
    assert body["scope"] == {"kind": "all", "team_id": None, "user_id": None, "label": "All teams"}
    assert [(r["bucket"], r["type"], r["source"], r["signals"]) for r in body["rows"]] == [
        ("2026-11-02", "new_employment", "news", 1),  # its earliest evidence, not its first attached
        ("2026-11-03", "new_employment", "apify-linkedin", 1),  # 23:00 UTC is still the 3rd
        ("2026-11-03", "promotion", '=HYPERLINK("x")', 1),
        ("2026-11-04", "new_employment", "apify-linkedin", 1),
        ("2026-11-10", "new_employment", "apify-linkedin", 1),
    ]
    weekly = _get(client, app, book["admin"], "signals", bucket="week")
    assert weekly["columns"][0]["label"] == "Week of"
    assert [(r["bucket"], r["type"], r["source"], r["signals"]) for r in weekly["rows"]] == [
        ("2026-11-02", "new_employment", "apify-linkedin", 2),
        ("2026-11-02", "new_employment", "news", 1),
        ("2026-11-02", "promotion", '=HYPERLINK("x")', 1),
        ("2026-11-09", "new_employment", "apify-linkedin", 1),
    ]
    october = _get(client, app, book["admin"], "signals", **{"from": "2026-10-01", "to": "2026-10-31"})
    assert [(r["type"], r["signals"]) for r in october["rows"]] == [("job_loss", 1)]


def test_funnel_per_type_with_rates(app: Any, client: Any, db_session: Session, book: Any) -> None:
    body = _get(client, app, book["admin"], "funnel")
    rows = {r["type"]: r for r in body["rows"]}
    assert [r["type"] for r in body["rows"]] == ["new_employment", "promotion"]  # most signals first
    assert rows["new_employment"] == {
        "type": "new_employment", "signals": 4, "acknowledged": 2, "actioned": 1, "promised": 1, "paid": 0,
        "dismissed": 1, "acknowledged_rate": 0.5, "actioned_rate": 0.25, "promised_rate": 0.25, "paid_rate": 0.0}
    assert rows["promotion"] == {
        "type": "promotion", "signals": 1, "acknowledged": 1, "actioned": 1, "promised": 1, "paid": 1,
        "dismissed": 0, "acknowledged_rate": 1.0, "actioned_rate": 1.0, "promised_rate": 1.0, "paid_rate": 1.0}


def _times(body: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int, float | None, float | None]]:
    return {(r["group"], r["name"], r["priority"]): (r["signals"], r["responded"], r["median_minutes"],
                                                     r["p90_minutes"]) for r in body["rows"]}


def test_response_times_per_team_and_agent_by_priority(app: Any, client: Any, db_session: Session, book: Any) -> None:
    north, south = book["north"].name, book["south"].name
    times = _times(_get(client, app, book["admin"], "response-times"))
    assert times[("all", "All teams", "all")] == (5, 4, 45.0, 81.0)  # 10, 30, 60, 90 minutes
    assert times[("all", "All teams", "urgent")] == (2, 2, 20.0, 28.0)
    assert times[("all", "All teams", "high")] == (2, 2, 75.0, 87.0)
    assert times[("all", "All teams", "low")] == (1, 0, None, None)
    assert times[("team", north, "all")] == (4, 3, 30.0, 78.0)
    assert times[("team", south, "all")] == (1, 1, 60.0, 60.0)
    assert times[("agent", "Ana Alvarez", "all")] == (3, 2, 60.0, 84.0)
    assert times[("agent", book["a2"].username, "urgent")] == (1, 1, 10.0, 10.0)
    assert ("all", "All teams", "medium") not in times  # October's signal is outside the range
    rows = _get(client, app, book["admin"], "response-times")["rows"]
    assert [r["group"] for r in rows] == sorted((r["group"] for r in rows), key=["all", "team", "agent"].index)
    assert rows[0]["priority"] == "all"  # each group's overall row before its priorities


def test_outcomes_of_the_signals_detected_in_the_range(app: Any, client: Any, db_session: Session, book: Any) -> None:
    body = _get(client, app, book["admin"], "outcomes")
    assert body["signals"] == 5 and body["with_outcome"] == 2
    assert {r["outcome"]: (r["signals"], r["share"]) for r in body["rows"]} == {
        "promise_to_pay": (1, 0.5), "payment": (1, 0.5), "no_response": (0, 0.0), "dispute": (0, 0.0),
        "wrong_person": (0, 0.0), "conversation": (0, 0.0)}
    assert any("Dollars recovered are in the recovery report" in note for note in body["notes"])
    assert any("held out" in note for note in body["notes"])
    assert any("read from the daily rollups" in note for note in body["notes"]) is book["rolled"]


def test_model_quality_from_feedback(app: Any, client: Any, db_session: Session) -> None:
    book = signal_book(db_session)
    body = _get(client, app, book["admin"], "model-quality")
    assert [(r["type"], r["kind"], r["confirmed"], r["corrected"], r["not_an_event"], r["confirmed_share"],
             r["examples"]) for r in body["rows"]] == [
        ("new_employment", "person", 1, 2, 1, 0.3333, 4),
        ("intent_growth", "company", 1, 0, 0, 1.0, 1),
    ]  # s2's confirmation came in December
    south = _get(client, app, book["admin"], "model-quality", team=book["south"].name)
    assert [(r["type"], r["confirmed"], r["corrected"]) for r in south["rows"]] == [("new_employment", 0, 1)]


def test_every_report_is_scoped_by_role(app: Any, client: Any, db_session: Session, book: Any) -> None:
    north, south = book["north"], book["south"]

    # An agent: their own signals (s1, s2, s6), whatever their team holds; one group, theirs.
    agent = _get(client, app, book["a1"], "funnel")
    assert agent["scope"] == {"kind": "agent", "team_id": None, "user_id": str(book["a1"].id),
                              "label": "Ana Alvarez"}
    assert {r["type"]: r["signals"] for r in agent["rows"]} == {"new_employment": 2, "promotion": 1}
    own = _times(_get(client, app, book["a1"], "response-times"))
    assert set(own) == {("all", "Ana Alvarez", p) for p in ("all", "urgent", "high", "low")}
    assert own[("all", "Ana Alvarez", "all")] == (3, 2, 60.0, 84.0)
    assert _get(client, app, book["b1"], "outcomes")["signals"] == 1
    assert _get(client, app, book["a2"], "model-quality")["rows"][0]["not_an_event"] == 1
    refused = client.get("/api/v1/analytics/funnel", headers=auth(app, book["a1"]), params={"team": north.name})
    assert refused.status_code == 403 and "team" in refused.json()["detail"]

    # A manager: their team by default, another team or all when asked.
    manager = _get(client, app, book["manager"], "outcomes")
    assert manager["scope"] == {"kind": "team", "team_id": str(north.id), "user_id": None, "label": north.name}
    assert manager["signals"] == 4
    assert _get(client, app, book["manager"], "outcomes", team=south.name)["signals"] == 1
    assert _get(client, app, book["manager"], "outcomes", team=str(south.id))["signals"] == 1
    assert _get(client, app, book["manager"], "outcomes", team="all")["signals"] == 5

    # Admins and viewers: every team by default.
    for user in (book["admin"], book["viewer"]):
        assert _get(client, app, user, "outcomes")["signals"] == 5
        assert _get(client, app, user, "signals", team=north.name)["scope"]["kind"] == "team"


@pytest.mark.parametrize("report", REPORTS)
def test_range_and_team_are_checked_naming_the_field(app: Any, client: Any, db_session: Session,
                                                     report: str) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    path = f"/api/v1/analytics/{report}"
    inverted = client.get(path, headers=headers, params={"from": "2026-11-30", "to": "2026-11-01"})
    assert inverted.status_code == 422 and inverted.json()["errors"][0]["field"] == "from"
    too_long = client.get(path, headers=headers, params={"from": "2025-11-29", "to": "2026-11-30"})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "from"
    a_year = client.get(path, headers=headers, params={"from": "2025-11-30", "to": "2026-11-30"})
    assert a_year.status_code == 200  # 366 days
    unknown = client.get(path, headers=headers, params={"team": "no such team"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "team"
    default = client.get(path, headers=headers).json()
    assert date.fromisoformat(default["to"]) - date.fromisoformat(default["from"]) == timedelta(days=29)


def test_csv_downloads_are_the_tables_neutralised(app: Any, client: Any, db_session: Session, book: Any) -> None:
    response = client.get("/api/v1/analytics/signals.csv", headers=auth(app, book["admin"]), params=RANGE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="upswing-signals-2026-11-01-to-2026-11-30.csv"')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["bucket", "type", "source", "signals"]
    assert ["2026-11-03", "promotion", '\'=HYPERLINK("x")', "1"] in rows
    assert len(rows) == 6
    for report in REPORTS:
        download = client.get(f"/api/v1/analytics/{report}.csv", headers=auth(app, book["a1"]), params=RANGE)
        body = client.get(f"/api/v1/analytics/{report}", headers=auth(app, book["a1"]), params=RANGE).json()
        table = list(csv.reader(io.StringIO(download.text)))
        assert table[0] == [c["name"] for c in body["columns"]]
        assert len(table) == len(body["rows"]) + 1, report
    funnel = list(csv.reader(io.StringIO(client.get("/api/v1/analytics/funnel.csv", headers=auth(app, book["a1"]),
                                                    params=RANGE).text)))
    assert funnel[1][:2] == ["new_employment", "2"] and funnel[1][-4:] == ["0.5", "0.0", "0.0", "0.0"]
    refused = client.get("/api/v1/analytics/funnel.csv", headers=auth(app, book["a1"]), params={"team": "all"})
    assert refused.status_code == 403


def test_percentile_is_postgresqls_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([10.0, 30.0, 60.0, 90.0], 0.5) == 45.0
    assert percentile([10.0, 30.0, 60.0, 90.0], 0.9) == pytest.approx(81.0)


_READ = r"(signals|labelled_examples|outcomes|analytics_\w+)"


def _plans(session: Session, statements: list[tuple[str, Any]]) -> list[str]:
    """The query plans of the statements that read the signals, the labelled examples, the outcomes or the
    rollups."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    plans = []
    if postgres:  # a tiny table is cheaper to scan: ask what the planner does when it must not
        connection.execute(text("SET LOCAL enable_seqscan = off"))
    for statement, parameters in statements:
        if not re.search(rf"\bFROM {_READ}\b", statement):
            continue
        if postgres:
            raw = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
        else:
            raw = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        plans.append("\n".join(raw))
    return plans


def test_the_reports_read_the_range_through_indexes(app: Any, client: Any, db_session: Session, book: Any) -> None:
    """Every report but coverage (which reads its snapshots here: coverage counted live reads every lead, once an
    hour, by design) reads the range of signals, outcomes or rollups through an index, whatever the scope."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    bind = db_session.get_bind()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        for user, params in ((book["admin"], {}), (book["manager"], {}), (book["a1"], {})):
            for report in REPORTS:
                _get(client, app, user, report, **params)
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    plans = _plans(db_session, statements)
    assert len(plans) >= 15
    if book["rolled"]:
        assert any("analytics_daily" in plan for plan in plans) and any("analytics_recovery_daily" in plan
                                                                         for plan in plans)
    for plan in plans:
        assert not re.search(rf"Seq Scan on {_READ}\b", plan), plan
        assert not re.search(rf"^SCAN {_READ}\b(?! USING)", plan, re.MULTILINE), plan
        assert not re.search(rf"^SCAN {_READ} USING (COVERING )?INDEX", plan, re.MULTILINE), plan
