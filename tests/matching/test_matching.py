"""Matchmaking against the database: matches stored in bulk and kept current, ranked and explained over the API,
statuses audited, a service's leads filtered (state, radius, score), recommendations reordered by a job loss
through the event consumer, similar leads within what the caller may see, the CLI (both databases)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow
from upswing.core.outbox import OutboxReceipt
from upswing.detection.events import SignalType
from upswing.lead.models import Lead
from upswing.matching import service
from upswing.matching.models import MatchStatus, ServiceMatch
from upswing.service_catalog.models import Service


def _service(session: Session, name: str, **fields: Any) -> Service:
    values: dict[str, Any] = {"category": "repayment_plan", "states": [], "region_codes": [],
                              "employment_states": [], "signal_types": [], "industries": [], "need_profile": {},
                              "created_by": "test"}
    row = Service(name=name, **{**values, **fields})
    session.add(row)
    session.flush()
    return row


def _catalog(session: Session) -> tuple[Service, Service, Service]:
    restart = _service(session, "Plan restart", need_profile={"restart": 1.0})
    hardship = _service(session, "Hardship forbearance TX", category="hardship_forbearance", states=["TX"],
                        need_profile={"hardship": 1.0, "restart": 0.3})
    california = _service(session, "California rehabilitation", category="rehabilitation", states=["CA"],
                          need_profile={"rehabilitation": 1.0})
    return restart, hardship, california


def _today() -> date:
    return utcnow().date()


def test_matches_are_stored_ranked_and_recomputed_in_place(db_session: Session) -> None:
    restart, hardship, california = _catalog(db_session)
    lead = make_lead(db_session, state="TX")
    chicago = make_lead(db_session, city="Chicago", state="IL")
    make_signal(db_session, lead, SignalType.NEW_EMPLOYMENT, effective_date=_today())
    report = service.compute_matches(db_session, [lead.id, chicago.id])
    assert (report.leads, report.services, report.scored) == (2, 3, 6)
    items = service.lead_matches(db_session, lead.id, user=None)
    assert [item.service_name for item in items] == ["Plan restart", "Hardship forbearance TX"]  # not California
    assert items[0].score > items[1].score and items[0].breakdown["need"] == 25.0 * 0.95  # the confidence
    assert all(len(item.reasons) == 5 for item in items)
    assert {item.service_name for item in service.lead_matches(db_session, chicago.id, user=None)} == {
        "Plan restart"}  # a lead in Chicago, IL is never in CA (nor TX)
    again = service.compute_matches(db_session, [lead.id, chicago.id])
    assert again.stored == 0 and again.removed == 0
    assert db_session.scalar(select(func.count()).select_from(ServiceMatch)) == 3
    # Two Texas leads move to California: a proposed Texas match goes, an accepted one stays (with its new score).
    other = make_lead(db_session, state="TX")
    service.compute_matches(db_session, [other.id])
    accepted = service.set_status(db_session, items[1].id, MatchStatus.ACCEPTED, user=None, actor="test")  # type: ignore[arg-type]
    assert accepted.status is MatchStatus.ACCEPTED and accepted.status_changed_by == "test"
    db_session.execute(Lead.__table__.update().where(Lead.id.in_([lead.id, other.id])).values(state="CA"))
    moved = service.compute_matches(db_session, [lead.id, other.id])
    assert moved.removed == 1
    kept = {item.service_name: item for item in service.lead_matches(db_session, lead.id, user=None)}
    assert set(kept) == {"Plan restart", "Hardship forbearance TX", "California rehabilitation"}
    assert kept["Hardship forbearance TX"].breakdown["geographic"] == 0.0
    assert {item.service_name for item in service.lead_matches(db_session, other.id, user=None)} == {
        "Plan restart", "California rehabilitation"}
    assert {restart.id, hardship.id, california.id} == {item.service_id for item in kept.values()}


def test_a_job_loss_reorders_recommendations_through_the_consumer(db_session: Session,
                                                                  deliver_events: Any) -> None:
    _catalog(db_session)
    lead = make_lead(db_session, state="TX")
    make_signal(db_session, lead, SignalType.NEW_EMPLOYMENT, effective_date=_today())
    db_session.commit()
    deliver_events()  # the consumer matches the lead on its first signal
    db_session.expire_all()
    before = [item.service_name for item in service.recommendations(db_session, lead.id, user=None)]
    assert before == ["Plan restart", "Hardship forbearance TX"]
    make_signal(db_session, lead, SignalType.JOB_LOSS, identity="acme|job-loss", effective_date=_today())
    db_session.commit()
    stale = [item.service_name for item in service.recommendations(db_session, lead.id, user=None)]
    assert stale == before  # nothing changes until the event is delivered
    deliver_events()
    deliver_events()  # a second delivery finds nothing to do
    db_session.expire_all()
    after = service.recommendations(db_session, lead.id, user=None)
    assert [item.service_name for item in after] == ["Hardship forbearance TX", "Plan restart"]
    assert "hardship" in after[0].reasons[2]
    receipts = db_session.scalars(select(OutboxReceipt.status).where(
        OutboxReceipt.consumer == "matching.recompute_on_signal")).all()
    assert receipts and set(receipts) == {"done"}


def test_recommendations_leave_out_rejected_and_score_unmatched_leads_on_read(db_session: Session) -> None:
    _catalog(db_session)
    lead = make_lead(db_session, state="TX")
    fresh = service.recommendations(db_session, lead.id, user=None)
    assert [item.id for item in fresh] == [None, None]  # scored now, not stored
    assert db_session.scalar(select(func.count()).select_from(ServiceMatch)) == 0
    service.compute_matches(db_session, [lead.id])
    top = service.recommendations(db_session, lead.id, user=None)[0]
    service.set_status(db_session, top.id, MatchStatus.REJECTED, user=None, actor="test")  # type: ignore[arg-type]
    assert top.service_id not in {item.service_id for item in service.recommendations(db_session, lead.id,
                                                                                      user=None)}


def test_api_match_status_audit_and_visibility(app: Any, client: Any, db_session: Session) -> None:
    team, other_team = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    stranger = make_user(db_session, Role.AGENT, team=other_team)
    viewer = make_user(db_session, Role.VIEWER)
    _catalog(db_session)
    lead = make_lead(db_session, state="TX", assignee_id=agent.id, team_id=team.id)
    db_session.commit()
    assert client.post(f"/api/v1/leads/{lead.id}/match", headers=auth(app, viewer)).status_code == 403
    assert client.post(f"/api/v1/leads/{lead.id}/match", headers=auth(app, stranger)).status_code == 404
    computed = client.post(f"/api/v1/leads/{lead.id}/match", headers=auth(app, agent))
    assert computed.status_code == 200, computed.text
    items = computed.json()["items"]
    assert [item["service_name"] for item in items] == ["Hardship forbearance TX", "Plan restart"]
    assert set(items[0]["breakdown"]) == {"geographic", "industry", "need", "profile", "behaviour"}
    listed = client.get(f"/api/v1/leads/{lead.id}/matches", headers=auth(app, viewer)).json()["items"]
    assert [item["id"] for item in listed] == [item["id"] for item in items]
    assert client.get(f"/api/v1/leads/{lead.id}/matches", headers=auth(app, stranger)).status_code == 404
    match_id = items[0]["id"]
    path = f"/api/v1/matches/{match_id}/status"
    assert client.put(path, json={"status": "maybe"}, headers=auth(app, agent)).status_code == 422
    assert client.put(path, json={"status": "accepted"}, headers=auth(app, stranger)).status_code == 404
    changed = client.put(path, json={"status": "accepted"}, headers=auth(app, agent))
    assert changed.status_code == 200 and changed.json()["status"] == "accepted"
    assert changed.json()["status_changed_by"] == f"user:{agent.username}"
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "service_match.status"))
    assert entry is not None and entry.details["to"] == "accepted" and entry.details["from"] == "proposed"
    recommended = client.get(f"/api/v1/leads/{lead.id}/recommendations", headers=auth(app, agent)).json()["items"]
    assert recommended[0]["status"] == "accepted"


def test_a_services_leads_filter_by_score_state_and_radius(app: Any, client: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    restart = _service(db_session, "Plan restart", need_profile={"restart": 1.0})
    portfolio = make_portfolio(db_session)
    austin = make_lead(db_session, portfolio, city="Austin", state="TX", latitude=30.2672, longitude=-97.7431)
    round_rock = make_lead(db_session, portfolio, city="Round Rock", state="TX", latitude=30.5083,
                           longitude=-97.6789)
    chicago = make_lead(db_session, portfolio, city="Chicago", state="IL", latitude=41.8781, longitude=-87.6298)
    make_signal(db_session, chicago, SignalType.NEW_EMPLOYMENT, effective_date=_today())
    service.compute_matches(db_session, [austin.id, round_rock.id, chicago.id])
    db_session.commit()
    url = f"/api/v1/services/{restart.id}/leads"
    headers = auth(app, manager)
    every = client.get(url, headers=headers).json()["items"]
    assert every[0]["external_id"] == chicago.external_id  # the new job: the best score
    assert sorted(item["external_id"] for item in every[1:]) == [item["external_id"] for item in every[1:]]
    high = client.get(url, params={"min_match_score": every[0]["score"]}, headers=headers).json()["items"]
    assert [item["external_id"] for item in high] == [chicago.external_id]
    texas = client.get(url, params={"state": "TX"}, headers=headers).json()["items"]
    assert {item["external_id"] for item in texas} == {austin.external_id, round_rock.external_id}
    near = client.get(url, params={"near": "30.2672,-97.7431", "radius_km": 10}, headers=headers).json()["items"]
    assert [item["external_id"] for item in near] == [austin.external_id] and near[0]["distance_km"] < 1
    wider = client.get(url, params={"near": "30.2672,-97.7431", "radius_km": 40}, headers=headers).json()["items"]
    assert {item["external_id"] for item in wider} == {austin.external_id, round_rock.external_id}
    for params, field in (({"state": "Chicago"}, "state"), ({"state": "ZZ"}, "state"),
                          ({"near": "30,-97"}, "near"), ({"radius_km": 5}, "near"),
                          ({"near": "91,0", "radius_km": 5}, "near"), ({"near": "abc", "radius_km": 5}, "near"),
                          ({"min_match_score": 101}, "min_match_score"), ({"limit": 0}, "limit")):
        answer = client.get(url, params=params, headers=headers)
        assert answer.status_code == 422 and field in answer.text, (params, answer.text)


def test_similar_leads_are_the_nearest_the_caller_may_see(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    manager = make_user(db_session, Role.MANAGER)
    portfolio = make_portfolio(db_session)
    base = {"latitude": 30.27, "longitude": -97.74, "team_id": team.id}
    target = make_lead(db_session, portfolio, balance=10000, days_delinquent=100, **base)
    twin = make_lead(db_session, portfolio, balance=10500, days_delinquent=105, **base)
    far = make_lead(db_session, portfolio, balance=90000, days_delinquent=700, latitude=47.6, longitude=-122.3,
                    team_id=team.id)
    hidden = make_lead(db_session, portfolio, balance=10000, days_delinquent=100, latitude=30.27, longitude=-97.74)
    make_signal(db_session, target, SignalType.JOB_LOSS, effective_date=_today())
    db_session.commit()
    seen = client.get(f"/api/v1/leads/{target.id}/similar", params={"k": 5}, headers=auth(app, agent)).json()
    assert [item["external_id"] for item in seen["items"]] == [twin.external_id, far.external_id]
    assert seen["items"][0]["distance"] < seen["items"][1]["distance"]
    assert "signals.job_loss" in seen["components"]
    everyone = client.get(f"/api/v1/leads/{target.id}/similar", params={"k": 1},
                          headers=auth(app, manager)).json()["items"]
    # The hidden lead has the target's numbers but not its job loss: the twin is still as near, the order by id.
    assert everyone[0]["external_id"] in {twin.external_id, hidden.external_id}
    assert client.get(f"/api/v1/leads/{target.id}/similar", params={"k": 0},
                      headers=auth(app, agent)).status_code == 422
    assert client.get(f"/api/v1/leads/{hidden.id}/similar", headers=auth(app, agent)).status_code == 404


def test_cli_computes_lists_recommends_and_sets_status(cli: Any, tmp_path: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name,city,state\nA-1,Ann,Lee,Austin,TX\nA-2,Bo,Park,Austin,TX\n")
    assert cli("leads", "import", str(leads)).exit_code == 0
    assert cli("services", "create", '{"name": "Hardship TX", "category": "hardship_forbearance", '
                                     '"states": ["TX"], "need_profile": {"hardship": 1}}').exit_code == 0
    computed = cli("service-matches", "compute", "A-1")
    assert computed.exit_code == 0 and "Hardship TX" in computed.output and "Offered in TX" in computed.output
    assert "1 match(es)" in cli("service-matches", "list", "A-1").output
    assert "Hardship TX" in cli("service-matches", "recommend", "A-2").output
    assert "A-2" in cli("service-matches", "similar", "A-1").output
    found = re.search(r"[│|]\s*([0-9a-f]{8})\s*[│|]", computed.output)
    assert found is not None, computed.output
    match_id = found.group(1)
    changed = cli("service-matches", "status", match_id, "rejected")
    assert changed.exit_code == 0 and "rejected" in changed.output
    assert "0 recommendation(s)" in cli("service-matches", "recommend", "A-1").output
    assert cli("service-matches", "status", match_id, "maybe").exit_code != 0
    assert "2 lead(s) matched" in cli("service-matches", "compute", "--all").output
