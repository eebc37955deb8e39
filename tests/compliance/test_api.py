"""The compliance API: the check contract, the ledger, flags, consents, suppressions, rules, scoping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry

P = "/api/v1/compliance"
CELL = "+12125550123"


def _lead(session: Session, **fields: Any) -> Any:
    values: dict[str, Any] = {"state": "NY", "timezone": "America/New_York", "phone": CELL,
                              "phones": [{"number": CELL, "type": "cell"}]}
    values.update(fields)
    return make_lead(session, **values)


def test_check_contract_and_consent_flow(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    lead = _lead(db_session, assignee_id=agent.id, team_id=team.id)
    db_session.commit()
    headers = auth(app, agent)
    body = {"lead_id": str(lead.id), "channel": "call", "at": "2026-01-15T17:00:00", "autodialed": True}

    response = client.post(f"{P}/check", json=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"allowed": False, "reasons": ["no_tcpa_consent"], "next_allowed_at": None}

    consent = client.post(f"{P}/consents", json={"lead_id": str(lead.id), "target": "212 555 0123"},
                          headers=headers)
    assert consent.status_code == 200 and consent.json()[0]["valid"] is True
    assert client.post(f"{P}/check", json=body, headers=headers).json() == {
        "allowed": True, "reasons": [], "next_allowed_at": "2026-01-15T17:00:00+00:00"}

    client.post(f"{P}/consents", json={"lead_id": str(lead.id), "target": CELL, "action": "reassigned"},
                headers=headers)
    assert client.post(f"{P}/check", json=body, headers=headers).json()["reasons"] == ["no_tcpa_consent"]

    early = client.post(f"{P}/check", headers=headers, json={**body, "autodialed": False,
                                                             "at": "2026-03-08T11:30:00Z"})
    assert early.json() == {"allowed": False, "reasons": ["time_window"],
                            "next_allowed_at": "2026-03-08T12:00:00+00:00"}


def test_ledger_flags_and_windows(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    manager = make_user(db_session, Role.MANAGER)
    lead = _lead(db_session, assignee_id=agent.id)
    db_session.commit()
    headers = auth(app, agent)

    logged = client.post(f"{P}/contacts", headers=headers, json={
        "lead_id": str(lead.id), "channel": "call", "at": "2026-01-10T15:00:00Z", "conversation": True,
        "target": "(212) 555-0123", "outcome": "promise_to_pay"})
    assert logged.status_code == 201, logged.text
    assert logged.json()["target_hint"] == "+1******0123" and logged.json()["reasons_at_the_time"] == []
    page = client.get(f"{P}/contacts", params={"lead_id": str(lead.id)}, headers=headers).json()
    assert page["total"] == 1 and page["items"][0]["actor"] == f"user:{agent.username}"
    check = {"lead_id": str(lead.id), "channel": "call", "at": "2026-01-12T15:00:00Z"}
    assert client.post(f"{P}/check", json=check, headers=headers).json() == {
        "allowed": False, "reasons": ["after_conversation_7d"], "next_allowed_at": "2026-01-17T15:00:00+00:00"}

    flagged = client.put(f"{P}/leads/{lead.id}/flags/attorney", json={"active": True}, headers=headers)
    assert flagged.status_code == 200 and flagged.json()["active"] == ["attorney"]
    assert client.put(f"{P}/leads/{lead.id}/flags/attorney", json={"active": False},
                      headers=headers).status_code == 403  # agents may not lift a block
    cleared = client.put(f"{P}/leads/{lead.id}/flags/attorney", json={"active": False}, headers=auth(app, manager))
    assert cleared.json()["active"] == [] and cleared.json()["history"][0]["cleared_by"] == f"user:{manager.username}"
    assert client.put(f"{P}/leads/{lead.id}/flags/unknown", json={"active": True}, headers=headers).status_code == 422

    window = client.post(f"{P}/leads/{lead.id}/blocked-windows", headers=headers,
                         json={"start": "10:00", "end": "25:00"})
    assert window.status_code == 422
    window = client.post(f"{P}/leads/{lead.id}/blocked-windows", headers=headers,
                         json={"start": "09:00", "end": "17:00", "days": ["monday", "tue"], "channels": ["call"]})
    assert window.status_code == 201 and window.json()["days"] == ["mon", "tue"]
    monday = {**check, "at": "2026-01-19T15:00:00Z"}
    assert client.post(f"{P}/check", json=monday, headers=headers).json()["next_allowed_at"] == (
        "2026-01-19T22:00:00+00:00")
    assert client.delete(f"{P}/blocked-windows/{window.json()['id']}", headers=headers).status_code == 204


def test_agents_cannot_reach_other_leads(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT, team=make_team(db_session))
    foreign = _lead(db_session)
    db_session.commit()
    headers = auth(app, agent)
    body = {"lead_id": str(foreign.id), "channel": "call"}
    assert client.post(f"{P}/check", json=body, headers=headers).status_code == 404
    assert client.post(f"{P}/contacts", json={**body, "at": "2026-01-10T15:00:00Z"},
                       headers=headers).status_code == 404
    assert client.get(f"{P}/contacts", params={"lead_id": str(foreign.id)}, headers=headers).status_code == 404
    assert client.get(f"{P}/leads/{foreign.id}/flags", headers=headers).status_code == 404
    assert client.post(f"{P}/consents", json={"lead_id": str(foreign.id), "target": CELL},
                       headers=headers).status_code == 404


def test_import_errors_name_row_and_field(app: Any, client: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    lead = _lead(db_session)
    db_session.commit()
    content = f"lead,channel,at\n{lead.external_id},call,2026-01-10T15:00:00Z\n{lead.external_id},pigeon,x\n"
    response = client.post(f"{P}/contacts/import", headers=auth(app, manager),
                           files={"file": ("c.csv", content.encode(), "text/csv")})
    assert response.status_code == 422
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {(3, "at"), (3, "channel")}
    assert client.get(f"{P}/contacts", params={"lead_id": str(lead.id)},
                      headers=auth(app, manager)).json()["total"] == 0


def test_rules_are_admin_settings(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    rules = client.get(f"{P}/rules", headers=headers).json()
    assert rules["window_start"] == "08:00" and rules["call_frequency_limit"] == 7
    assert rules["state_rules"][0]["state"] == "MA" and rules["social_dm_enabled"] is False
    changed = client.put(f"{P}/rules", headers=headers, json={"changes": {"social_dm_enabled": True}})
    assert changed.status_code == 200 and changed.json()["social_dm_enabled"] is True
    bad = client.put(f"{P}/rules", headers=headers, json={"changes": {"call_frequency_limit": 0}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "call_frequency_limit"
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.rules.update")).all()
    assert [(e.actor, e.details) for e in entries] == [
        (f"user:{admin.username}", {"social_dm_enabled": {"from": False, "to": True}})]


def test_suppressions_are_scoped_and_removable_with_a_reason(app: Any, client: Any, db_session: Session) -> None:
    east, west = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=east)
    manager = make_user(db_session, Role.MANAGER)
    mine = make_lead(db_session, team_id=east.id, assignee_id=agent.id, phone="+12125550123",
                     phones=[{"number": "+12125550123", "type": "cell"}])
    theirs = make_lead(db_session, team_id=west.id, phone="+12125550177",
                       phones=[{"number": "+12125550177", "type": "cell"}])
    db_session.commit()
    headers = auth(app, agent)
    url = "/api/v1/compliance/suppressions"

    # An agent cannot block every contact on another team's borrower by suppressing their number.
    assert client.post(url, headers=headers, json={"target": "+12125550177"}).status_code == 403
    other = client.post(url, headers=headers, json={"target": "+12125550177", "lead_id": str(theirs.id)})
    assert other.status_code == 404  # a lead they may not see does not exist for them
    wrong = client.post(url, headers=headers, json={"target": "+12125550177", "lead_id": str(mine.id)})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "target"
    ok = client.post(url, headers=headers, json={"target": "(212) 555-0123", "lead_id": str(mine.id),
                                                 "reason": "replied STOP"})
    assert ok.status_code == 201, ok.text
    # Managers may suppress any number (an opt-out can come from anyone).
    assert client.post(url, headers=auth(app, manager), json={"target": "+12125550177"}).status_code == 201

    suppression_id = ok.json()["id"]
    assert client.delete(f"{url}/{suppression_id}", headers=headers,
                         params={"reason": "asked to be called"}).status_code == 403
    assert client.delete(f"{url}/{suppression_id}", headers=auth(app, manager)).status_code == 422  # no reason
    removed = client.delete(f"{url}/{suppression_id}", headers=auth(app, manager),
                            params={"reason": "consumer asked to be called again"})
    assert removed.status_code == 204
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.suppression.remove")).one()
    assert entry.details["reason"] == "consumer asked to be called again"
    assert client.delete(f"{url}/{suppression_id}", headers=auth(app, manager),
                         params={"reason": "again, by mistake"}).status_code == 404


def test_removing_another_teams_blocked_window_reveals_nothing(app: Any, client: Any, db_session: Session) -> None:
    from upswing.compliance import service as compliance
    from upswing.compliance.schemas import BlockedWindowCreate

    east, west = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=east)
    theirs = make_lead(db_session, team_id=west.id)
    window = compliance.add_blocked_window(db_session, theirs, BlockedWindowCreate(start="12:00", end="13:00"),
                                           actor="test")
    db_session.commit()
    response = client.delete(f"/api/v1/compliance/blocked-windows/{window.id}", headers=auth(app, agent))
    assert response.status_code == 404
    assert str(theirs.id) not in response.text and "lead" not in response.json()["detail"]
