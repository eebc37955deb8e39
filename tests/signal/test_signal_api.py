"""The signal API: scores and evidence in every read, the lifecycle bodies, filters and sorting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.detection.events import SignalType


def _setup(db_session: Session) -> tuple[Any, Any, list[Any]]:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    lead = make_lead(db_session, assignee_id=agent.id, team_id=team.id)
    cheap = make_lead(db_session, assignee_id=agent.id, balance=Decimal("50"), days_delinquent=5)
    signals = [make_signal(db_session, lead), make_signal(db_session, cheap, SignalType.AWARD),
               make_signal(db_session, lead, SignalType.PROMOTION)]
    db_session.commit()
    return agent, lead, signals


def test_signal_read_carries_score_breakdown_and_evidence(app: Any, client: Any, db_session: Session) -> None:
    agent, _, signals = _setup(db_session)
    body = client.get(f"/api/v1/signals/{signals[0]}", headers=auth(app, agent)).json()
    assert 0 <= body["score"] <= 100 and body["priority"] in ("urgent", "high", "medium", "low")
    assert set(body["score_breakdown"]) == {"strength", "confidence", "recency", "corroboration", "balance",
                                            "delinquency", "outcomes"}
    assert abs(sum(body["score_breakdown"].values()) - body["score"]) <= 0.5
    [evidence] = body["evidence"]
    assert evidence["kind"] == "profile" and evidence["source"] == "apify-file"
    assert evidence["observation_id"] == body["observation_ids"][0]
    assert evidence["snippet"] == body["evidence_snippet"]
    assert body["action"] is None and body["outcome"] is None and body["dismiss_reason"] is None


def test_list_sorts_by_score_and_filters_by_priority(app: Any, client: Any, db_session: Session) -> None:
    agent, _, _ = _setup(db_session)
    headers = auth(app, agent)
    by_score = client.get("/api/v1/signals", headers=headers, params={"sort": "score"}).json()["items"]
    assert len(by_score) == 3
    scores = [item["score"] for item in by_score]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    assert by_score[-1]["type"] == "award"
    low = by_score[-1]["priority"]
    filtered = client.get("/api/v1/signals", headers=headers, params={"priority": low, "count": True}).json()
    assert filtered["total"] >= 1 and {item["priority"] for item in filtered["items"]} == {low}
    assert client.get("/api/v1/signals", headers=headers, params={"sort": "random"}).status_code == 422
    assert client.get("/api/v1/signals", headers=headers, params={"priority": "critical"}).status_code == 422


def test_lifecycle_over_the_api(app: Any, client: Any, db_session: Session) -> None:
    agent, _, signals = _setup(db_session)
    headers = auth(app, agent)
    first, second, _ = signals
    url = f"/api/v1/signals/{first}"

    assert client.post(f"{url}/action", headers=headers).status_code == 422  # the action is required
    assert client.post(f"{url}/action", headers=headers, json={"action": "fax"}).status_code == 422
    outcome_first = client.post(f"{url}/outcome", headers=headers, json={"outcome": "payment"})
    assert outcome_first.status_code == 409 and "action" in outcome_first.json()["detail"]

    assert client.post(f"{url}/acknowledge", headers=headers).json()["status"] == "acknowledged"
    acted = client.post(f"{url}/action", headers=headers, json={"action": "crm_task", "note": "task #881"})
    assert acted.status_code == 200
    assert (acted.json()["status"], acted.json()["action"], acted.json()["status_reason"]) == (
        "actioned", "crm_task", "task #881")
    assert acted.json()["actioned_by"] == str(agent.id) and acted.json()["actioned_at"] is not None
    resolved = client.post(f"{url}/outcome", headers=headers, json={"outcome": "promise_to_pay"}).json()
    assert (resolved["status"], resolved["outcome"], resolved["outcome_by"]) == (
        "resolved", "promise_to_pay", str(agent.id))
    resolved_count = client.get("/api/v1/signals", headers=headers, params={"status": "resolved", "count": True})
    assert resolved_count.json()["total"] == 1

    second_url = f"/api/v1/signals/{second}"
    assert client.post(f"{second_url}/dismiss", headers=headers, json={"reason": "not our borrower"}).status_code == 422
    dismissed = client.post(f"{second_url}/dismiss", headers=headers,
                            json={"reason": "not_relevant", "note": "old award"}).json()
    assert (dismissed["status"], dismissed["dismiss_reason"], dismissed["status_reason"]) == (
        "dismissed", "not_relevant", "old award")
    assert client.post(f"{second_url}/action", headers=headers, json={"action": "call"}).status_code == 409

    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "signal")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor) for e in entries] == [
        ("signal.acknowledged", f"user:{agent.username}"), ("signal.actioned", f"user:{agent.username}"),
        ("signal.outcome", f"user:{agent.username}"), ("signal.dismissed", f"user:{agent.username}")]


def test_viewer_cannot_act(app: Any, client: Any, db_session: Session) -> None:
    _, _, signals = _setup(db_session)
    viewer = make_user(db_session, Role.VIEWER)
    db_session.commit()
    response = client.post(f"/api/v1/signals/{signals[0]}/action", headers=auth(app, viewer), json={"action": "call"})
    assert response.status_code == 403


def test_time_filters_take_dates_and_naive_times(app: Any, client: Any, db_session: Session) -> None:
    agent, _, _ = _setup(db_session)
    headers = auth(app, agent)
    everything = client.get("/api/v1/signals", headers=headers, params={"count": True}).json()["total"]
    for since in ("2026-12-06", "2020-01-01", "2020-01-01T08:00", "2020-01-01T08:00:00Z", "2020-01-01 08:00"):
        response = client.get("/api/v1/signals", headers=headers, params={"since": since})
        assert response.status_code == 200, (since, response.text)
    def counted(**params: str) -> int:
        return int(client.get("/api/v1/signals", headers=headers, params={**params, "count": True}).json()["total"])

    assert counted(since="2020-01-01") == everything
    assert counted(until="2020-01-01") == 0
    for bad in ("yesterday", "0001-01-01T00:00:00+14:00", "2026-13-01"):
        response = client.get("/api/v1/signals", headers=headers, params={"since": bad})
        assert response.status_code == 422, (bad, response.text)


def test_the_unassigned_queue_and_my_signals(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    colleague = make_user(db_session, Role.AGENT, team=team)
    manager = make_user(db_session, Role.MANAGER, team=team)
    admin = make_user(db_session, Role.ADMIN)
    mine = make_signal(db_session, make_lead(db_session, assignee_id=agent.id, team_id=team.id))
    theirs = make_signal(db_session, make_lead(db_session, assignee_id=colleague.id, team_id=team.id))
    team_pool = make_signal(db_session, make_lead(db_session, team_id=team.id))  # the team's, nobody's yet
    orphan = make_signal(db_session, make_lead(db_session))  # no team, no assignee
    db_session.commit()

    def ids(user: Any, **params: str) -> set[str]:
        response = client.get("/api/v1/signals", headers=auth(app, user), params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids(agent, assignee="me") == {str(mine)}
    assert ids(agent, assignee="none") == {str(team_pool)}  # an agent sees their team's unassigned leads only
    assert ids(agent) == {str(mine), str(theirs), str(team_pool)}
    # Every signal has someone who sees it: managers and admins see the unassigned queue, orphans included.
    for user in (manager, admin):
        assert ids(user, assignee="none") == {str(team_pool), str(orphan)}
    assert ids(manager, assignee=colleague.username) == {str(theirs)}
    assert ids(admin, assignee=str(agent.id)) == {str(mine)}
    assert client.get("/api/v1/signals", headers=auth(app, admin),
                      params={"assignee": "nobody-by-that-name"}).status_code == 422


def test_filter_by_event_date(app: Any, client: Any, db_session: Session) -> None:
    from datetime import date

    admin = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session)
    march = make_signal(db_session, lead, effective_date=date(2026, 3, 1))
    june = make_signal(db_session, lead, SignalType.PROMOTION, effective_date=date(2026, 6, 15))
    make_signal(db_session, lead, SignalType.AWARD, effective_date=None)
    db_session.commit()
    headers = auth(app, admin)

    def ids(**params: str) -> set[str]:
        return {item["id"] for item in client.get("/api/v1/signals", headers=headers, params=params).json()["items"]}

    assert ids(effective_from="2026-06-01") == {str(june)}
    assert ids(effective_to="2026-03-01") == {str(march)}
    assert ids(effective_from="2026-01-01", effective_to="2026-12-31") == {str(march), str(june)}
    assert client.get("/api/v1/signals", headers=headers, params={"effective_from": "June"}).status_code == 422
