"""The lead endpoints the dashboard needs: names on leads, the least-delinquent order, bulk assignment, the CSV
export, portfolios and assignees, and a lead's audit trail (both databases)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.lead.models import Lead
from upswing.lead.schemas import MAX_BULK_ASSIGN


def _rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_leads_carry_their_portfolio_assignee_and_team_names(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session, "North")
    agent = make_user(db_session, Role.AGENT, team=team, username="agent.north")
    agent.full_name = "Nora North"
    lead = make_lead(db_session, make_portfolio(db_session, "Spring book"), assignee_id=agent.id, team_id=team.id)
    db_session.commit()
    body = client.get(f"/api/v1/leads/{lead.id}", headers=auth(app, agent)).json()
    assert (body["portfolio_name"], body["assignee_name"], body["team_name"]) == ("Spring book", "Nora North",
                                                                                  "North")
    listed = client.get("/api/v1/leads", headers=auth(app, agent)).json()["items"]
    assert listed[0]["assignee_name"] == "Nora North"


def test_the_list_sorts_least_delinquent_first_and_pages_by_cursor(app: Any, client: Any,
                                                                     db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    portfolio = make_portfolio(db_session)
    for days in (30, 400, None, 90, 90):
        make_lead(db_session, portfolio, days_delinquent=days)
    db_session.commit()
    headers = auth(app, manager)
    seen: list[int | None] = []
    params: dict[str, Any] = {"sort": "days_delinquent", "limit": 2, "portfolio": portfolio.name}
    while True:
        page = client.get("/api/v1/leads", headers=headers, params=params).json()
        seen += [item["days_delinquent"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [None, 30, 90, 90, 400]
    default = client.get("/api/v1/leads", headers=headers, params={"portfolio": portfolio.name}).json()
    assert [item["days_delinquent"] for item in default["items"]] == [400, 90, 90, 30, None]
    # A cursor of one order is refused by the other.
    mixed = client.get("/api/v1/leads", headers=headers, params={"limit": 1, "portfolio": portfolio.name,
                                                                 "cursor": page["next_cursor"] or params["cursor"]})
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "cursor"


def test_bulk_assignment_is_one_transaction_audited_per_lead(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session, "East")
    manager = make_user(db_session, Role.MANAGER)
    agent = make_user(db_session, Role.AGENT, team=team, username="agent.east")
    portfolio = make_portfolio(db_session)
    leads = [make_lead(db_session, portfolio) for _ in range(3)]
    already = make_lead(db_session, portfolio, assignee_id=agent.id, team_id=team.id)
    db_session.commit()
    ids = [str(lead.id) for lead in (*leads, already)]

    result = client.post("/api/v1/leads/assign", headers=auth(app, manager),
                         json={"lead_ids": [*ids, ids[0]], "assignee": "agent.east"})
    assert result.status_code == 200, result.text
    assert result.json() == {"updated": 3, "unchanged": 1, "assignee_id": str(agent.id), "team_id": str(team.id)}
    db_session.expire_all()
    assert {db_session.get(Lead, lead.id).assignee_id for lead in leads} == {agent.id}  # type: ignore[union-attr]
    assert {db_session.get(Lead, lead.id).team_id for lead in leads} == {team.id}  # type: ignore[union-attr]
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.update")).all()
    assert sorted(e.entity_id for e in entries if e.entity_id) == sorted(str(lead.id) for lead in leads)
    assert all(e.details["bulk"] and e.actor == f"user:{manager.username}" for e in entries)

    unassigned = client.post("/api/v1/leads/assign", headers=auth(app, manager),
                             json={"lead_ids": ids[:2], "assignee": None}).json()
    assert unassigned["updated"] == 2 and unassigned["assignee_id"] is None
    db_session.expire_all()
    assert db_session.get(Lead, leads[0].id).assignee_id is None  # type: ignore[union-attr]
    assert db_session.get(Lead, leads[0].id).team_id == team.id  # type: ignore[union-attr]  (team kept)


def test_bulk_assignment_refuses_unknown_users_leads_and_oversized_requests(app: Any, client: Any,
                                                                            db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session)
    db_session.commit()
    headers = auth(app, manager)
    unknown_user = client.post("/api/v1/leads/assign", headers=headers,
                               json={"lead_ids": [str(lead.id)], "assignee": "nobody"})
    assert unknown_user.status_code == 422 and unknown_user.json()["errors"][0]["field"] == "assignee"
    missing = client.post("/api/v1/leads/assign", headers=headers,
                          json={"lead_ids": [str(lead.id), str(uuid.uuid4())], "assignee": agent.username})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "lead_ids.1"
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).assignee_id is None  # type: ignore[union-attr]  (nothing changed)
    too_many = client.post("/api/v1/leads/assign", headers=headers,
                           json={"lead_ids": [str(uuid.uuid4()) for _ in range(MAX_BULK_ASSIGN + 1)],
                                 "assignee": agent.username})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "body.lead_ids"
    unknown_team = client.post("/api/v1/leads/assign", headers=headers,
                               json={"lead_ids": [str(lead.id)], "assignee": agent.username, "team": "Nowhere"})
    assert unknown_team.status_code == 422 and unknown_team.json()["errors"][0]["field"] == "team"
    refused = client.post("/api/v1/leads/assign", headers=auth(app, agent),
                          json={"lead_ids": [str(lead.id)], "assignee": agent.username})
    assert refused.status_code == 403


def test_the_export_streams_the_filtered_leads_without_contact_details(app: Any, client: Any,
                                                                       db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER, username="boss")
    portfolio = make_portfolio(db_session, "Export book")
    make_lead(db_session, portfolio, external_id="E-1", first_name="=HYPERLINK(\"x\")", days_delinquent=10,
              phone="+15125550100", address="12 Main St")
    make_lead(db_session, portfolio, external_id="E-2", days_delinquent=300, status="promise")
    make_lead(db_session, make_portfolio(db_session), external_id="OTHER")
    db_session.commit()
    response = client.get("/api/v1/leads/export.csv", headers=auth(app, manager),
                          params={"portfolio": "Export book"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response)
    assert [row["external_id"] for row in rows] == ["E-2", "E-1"]  # most delinquent first
    assert rows[1]["name"].startswith("'=")  # a formula is neutralised
    assert rows[0]["portfolio"] == "Export book" and rows[0]["status"] == "promise"
    text = response.text
    for secret in ("@example.com", "+15125550100", "5550100", "12 Main St"):
        assert secret not in text
    assert not {"email", "phone", "address", "birth_date"} & set(rows[0])
    only = _rows(client.get("/api/v1/leads/export.csv", headers=auth(app, manager),
                            params={"portfolio": "Export book", "status": "promise"}))
    assert [row["external_id"] for row in only] == ["E-2"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.export")).first()
    assert entry is not None and entry.actor == "user:boss" and entry.details["filters"] == ["portfolio"]
    bad = client.get("/api/v1/leads/export.csv", headers=auth(app, manager), params={"assignee": "nobody"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "assignee"


def test_an_agent_exports_only_their_own_and_their_teams_leads(app: Any, client: Any, db_session: Session) -> None:
    team, other_team = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    portfolio = make_portfolio(db_session)
    make_lead(db_session, portfolio, external_id="MINE", assignee_id=agent.id)
    make_lead(db_session, portfolio, external_id="TEAM", team_id=team.id)
    make_lead(db_session, portfolio, external_id="FOREIGN", team_id=other_team.id)
    db_session.commit()
    rows = _rows(client.get("/api/v1/leads/export.csv", headers=auth(app, agent)))
    assert sorted(row["external_id"] for row in rows) == ["MINE", "TEAM"]


def test_the_export_pages_through_more_than_one_batch(app: Any, client: Any, db_session: Session,
                                                      monkeypatch: Any) -> None:
    from upswing.lead import export

    monkeypatch.setattr(export, "BATCH", 2)
    manager = make_user(db_session, Role.MANAGER)
    portfolio = make_portfolio(db_session)
    for n in range(5):
        make_lead(db_session, portfolio, external_id=f"B-{n}", days_delinquent=n)
    db_session.commit()
    rows = _rows(client.get("/api/v1/leads/export.csv", headers=auth(app, manager),
                            params={"portfolio": portfolio.name}))
    assert [row["external_id"] for row in rows] == ["B-4", "B-3", "B-2", "B-1", "B-0"]


def test_portfolios_and_assignees(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session, "South")
    manager = make_user(db_session, Role.MANAGER, username="m.south", team=team)
    gone = make_user(db_session, Role.AGENT, username="gone")
    gone.is_active = False
    make_portfolio(db_session, "Beta")
    make_portfolio(db_session, "Alpha")
    db_session.commit()
    names = [p["name"] for p in client.get("/api/v1/leads/portfolios", headers=auth(app, manager)).json()]
    assert names.index("Alpha") < names.index("Beta")
    people = {p["username"]: p for p in client.get("/api/v1/leads/assignees", headers=auth(app, manager)).json()}
    assert people["m.south"]["team_name"] == "South" and "gone" not in people


def test_a_leads_audit_trail_for_managers(app: Any, client: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session)
    other = make_lead(db_session)
    db_session.commit()
    headers = auth(app, manager)
    client.get(f"/api/v1/leads/{lead.id}", headers=headers)
    client.patch(f"/api/v1/leads/{lead.id}", headers=headers, json={"status": "contacted"})
    client.get(f"/api/v1/leads/{other.id}", headers=headers)
    trail = client.get(f"/api/v1/leads/{lead.id}/audit", headers=headers).json()
    assert [item["action"] for item in trail["items"]] == ["lead.update", "lead.view"]  # newest first
    assert trail["items"][0]["details"] == {"status": {"from": "new", "to": "contacted"}}
    changes = client.get(f"/api/v1/leads/{lead.id}/audit", headers=headers, params={"views": False}).json()
    assert [item["action"] for item in changes["items"]] == ["lead.update"] and changes["total"] == 1
    assert client.get(f"/api/v1/leads/{uuid.uuid4()}/audit", headers=headers).status_code == 404
    assert client.get(f"/api/v1/leads/{lead.id}/audit", headers=auth(app, agent)).status_code == 403
