"""Market analysis of an area and the map's aggregates: every figure equals the hand-computed fixture, per role
(agent: own leads; manager: the team's; admin: all), unknown places and bad parameters are 422s naming the field
(both databases)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.core.db import utcnow
from upswing.detection.events import SignalType
from upswing.geo import market
from upswing.geo.distance import haversine_km
from upswing.geo.geocode import resolve_location
from upswing.outcome.models import Outcome
from upswing.signal.models import Signal


def _fixture(session: Session) -> dict[str, Any]:
    """Around Austin (50 km): A (agent's, team T), B (team T), C (team U) inside; D (Dallas, team T) and a merged
    lead outside the count. Signals: A two in the window and one older; B one, plus one held out; C one; D one.
    Payments: A 100 + 50 in the window; C one before the window; D one (outside the area). B a promise only."""
    team, other = make_team(session), make_team(session)
    agent = make_user(session, Role.AGENT, team=team)
    manager = make_user(session, Role.MANAGER, team=team)
    admin = make_user(session, Role.ADMIN)
    portfolio = make_portfolio(session)
    a = make_lead(session, portfolio, city="Austin", state="TX", postal_code="78701", team_id=team.id,
                  assignee_id=agent.id, balance=Decimal("1000.00"), employer="Austin Regional Hospital")
    b = make_lead(session, portfolio, city="Round Rock", state="TX", postal_code="78664", team_id=team.id,
                  balance=Decimal("3000.00"), employer="Dell Technologies")
    c = make_lead(session, portfolio, city="Kyle", state="TX", postal_code="78640", team_id=other.id, balance=None,
                  employer="Texas State University")
    d = make_lead(session, portfolio, city="Dallas", state="TX", postal_code="75201", team_id=team.id,
                  balance=Decimal("9999.00"), employer="Dallas Bank")
    merged = make_lead(session, portfolio, city="Austin", state="TX", postal_code="78702", team_id=team.id,
                       merged_into_id=a.id, employer="Austin Regional Hospital")
    centre = resolve_location("Austin, TX")
    for lead in (a, b, c):
        assert haversine_km(centre.latitude, centre.longitude, lead.latitude, lead.longitude) < 50
    assert haversine_km(centre.latitude, centre.longitude, d.latitude, d.longitude) > 50

    now = utcnow()
    make_signal(session, a, SignalType.NEW_EMPLOYMENT)
    make_signal(session, a, SignalType.JOB_LOSS)
    old = make_signal(session, a, SignalType.PROMOTION)
    make_signal(session, b, SignalType.NEW_EMPLOYMENT)
    held = make_signal(session, b, SignalType.JOB_LOSS)
    make_signal(session, c, SignalType.NEW_EMPLOYMENT)
    make_signal(session, d, SignalType.JOB_LOSS)
    make_signal(session, merged, SignalType.JOB_LOSS)
    session.execute(update(Signal).where(Signal.id == old).values(detected_at=now - timedelta(days=200)))
    session.execute(update(Signal).where(Signal.id == held).values(holdout=True))
    today = now.date()
    for lead, kind, amount, day in [(a, "payment", "100", today - timedelta(days=10)),
                                    (a, "payment", "50", today), (b, "promise", "300", today),
                                    (c, "payment", "70", today - timedelta(days=200)),
                                    (d, "payment", "500", today)]:
        session.add(Outcome(lead_id=lead.id, kind=kind, amount=Decimal(amount), occurred_on=day, source="api",
                            created_by="test", promise_status="pending" if kind == "promise" else None,
                            due_on=today + timedelta(days=5) if kind == "promise" else None))
    session.flush()
    return {"agent": agent, "manager": manager, "admin": admin, "team": team}


EXPECTED = {
    # leads, signals, by type, leads with signals, average balance, leads paying, paid, employers, industries
    "admin": (3, 4, {"new_employment": 3, "job_loss": 1}, 3, Decimal("2000.00"), 1, Decimal("150.00"),
              {"Austin Regional Hospital": 1, "Dell Technologies": 1, "Texas State University": 1},
              {"healthcare": 1, "technology": 1, "education": 1}),
    "manager": (2, 3, {"new_employment": 2, "job_loss": 1}, 2, Decimal("2000.00"), 1, Decimal("150.00"),
                {"Austin Regional Hospital": 1, "Dell Technologies": 1}, {"healthcare": 1, "technology": 1}),
    "agent": (1, 2, {"new_employment": 1, "job_loss": 1}, 1, Decimal("1000.00"), 1, Decimal("150.00"),
              {"Austin Regional Hospital": 1}, {"healthcare": 1}),
}


@pytest.mark.parametrize("role", ["admin", "manager", "agent"])
def test_market_analysis_equals_the_hand_computed_fixture(db_session: Session, role: str) -> None:
    people = _fixture(db_session)
    report = market.market_analysis(db_session, people[role],
                                    market.MarketQuery(location="Austin, TX", radius_km=50, days=90))
    leads, signals, by_type, with_signals, balance, paying, paid, employers, industries = EXPECTED[role]
    assert report.leads == leads and report.leads_by_precision == {"zip": leads}
    assert report.signals == signals
    assert {row.type: row.signals for row in report.signals_by_type} == by_type
    assert report.leads_with_signals == with_signals
    assert report.signal_rate == round(signals / leads, 4)
    assert report.average_balance == balance
    assert (report.leads_with_payment, report.payments_amount) == (paying, paid)
    assert report.conversion_rate == round(paying / leads, 4)
    assert {row.name: row.leads for row in report.top_employers} == employers
    assert {row.name: row.leads for row in report.top_industries} == industries
    assert report.location.label == "Austin, TX" and report.location.precision == "city"
    assert report.scope.kind == {"admin": "all", "manager": "team", "agent": "agent"}[role]


def test_market_analysis_over_the_api_and_its_422s(db_session: Session, client: Any, app: Any) -> None:
    people = _fixture(db_session)
    db_session.commit()
    headers = auth(app, people["admin"])
    by_zip = client.get("/api/v1/local/market-analysis", params={"location": "78701", "radius_km": 50},
                        headers=headers)
    assert by_zip.status_code == 200, by_zip.text
    body = by_zip.json()
    assert body["leads"] == 3 and body["location"]["precision"] == "zip" and body["from"] <= body["to"]
    narrow = client.get("/api/v1/local/market-analysis", params={"location": "30.2713,-97.7426", "radius_km": 1},
                        headers=headers).json()
    assert narrow["leads"] == 1  # only A's ZIP centroid is within a kilometre
    wide = client.get("/api/v1/local/market-analysis", params={"location": "TX", "radius_km": 600},
                      headers=headers).json()
    assert wide["leads"] == 4  # Dallas too
    refused = client.get("/api/v1/local/market-analysis", params={"location": "Austin, TX", "team": "all"},
                         headers=auth(app, people["agent"]))
    assert refused.status_code == 403
    for params, field in [({"location": "Atlantis, ZZ"}, "location"), ({}, "location"),
                          ({"location": "Austin, TX", "radius_km": 0}, "radius_km"),
                          ({"location": "Austin, TX", "days": 0}, "days"),
                          ({"location": "99.5,0"}, "location")]:
        response = client.get("/api/v1/local/market-analysis", params=params, headers=headers)
        assert response.status_code == 422 and field in response.text, (params, response.text)


def test_map_counts_per_state_and_county_with_points(db_session: Session, client: Any, app: Any) -> None:
    people = _fixture(db_session)
    db_session.commit()
    state = client.get("/api/v1/local/map", params={"level": "state"}, headers=auth(app, people["admin"])).json()
    texas = {area["code"]: area for area in state["areas"]}["48"]
    # A, B, C and D (the merged lead is left out); signals since the window's start: A 2, B 1, C 1, D 1
    assert (texas["name"], texas["leads"], texas["signals"]) == ("Texas", 4, 5)
    assert sum(point["leads"] for point in state["points"]) == 4 and not state["points_truncated"]
    county = client.get("/api/v1/local/map", params={"level": "county"},
                        headers=auth(app, people["manager"])).json()
    areas = {area["code"]: (area["leads"], area["signals"]) for area in county["areas"]}
    assert areas == {"48|travis": (1, 2), "48|williamson": (1, 1), "48|dallas": (1, 1)}  # team T's leads
    bad = client.get("/api/v1/local/map", params={"level": "zip9"}, headers=auth(app, people["admin"]))
    assert bad.status_code == 422 and "level" in bad.text
