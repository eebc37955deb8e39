from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.lead.models import Lead

GOOD_CSV = (
    "external_id,first_name,last_name,email,phone,phone_type,state,linkedin_url,balance,days_delinquent\n"
    "A-1,Tasha,Greene,tasha@example.com,(614) 555-2368,cell,OH,linkedin.com/in/Tasha-Greene/,1200.50,95\n"
    "A-2,Marcus,Hill,marcus@example.com,312-867-5309,home,IL,,8000,200\n"
)
BAD_CSV = (
    "external_id,first_name,last_name,email,state,balance\n"
    "B-1,Ok,Row,ok@example.com,OH,10\n"
    "B-2,Bad,Mail,not-an-email,OH,10\n"
    "B-3,Bad,State,x@example.com,ZZ,-5\n"
)


def _upload(client: Any, headers: dict[str, str], body: str, **data: str) -> Any:
    return client.post("/api/v1/leads/import", headers=headers, data={"portfolio": "api", **data},
                       files={"file": ("leads.csv", io.BytesIO(body.encode()), "text/csv")})


def test_import_through_the_api_is_idempotent(app: Any, client: Any, db_session: Session) -> None:
    headers = auth(app, make_user(db_session, Role.MANAGER))
    db_session.commit()
    first = _upload(client, headers, GOOD_CSV)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["updated"]) == (2, 0)
    again = _upload(client, headers, GOOD_CSV).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)

    listed = client.get("/api/v1/leads", headers=headers, params={"q": "tasha", "count": True}).json()
    assert listed["total"] == 1
    tasha = listed["items"][0]
    assert tasha["phone"] == "+16145552368"
    assert tasha["linkedin_url"] == "https://www.linkedin.com/in/tasha-greene"
    assert tasha["timezone"] == "America/New_York"
    assert "companyDomain" in tasha


def test_bad_upload_names_rows_and_fields_and_writes_nothing(app: Any, client: Any, db_session: Session) -> None:
    headers = auth(app, make_user(db_session, Role.ADMIN))
    db_session.commit()
    response = _upload(client, headers, BAD_CSV)
    assert response.status_code == 422
    problems = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {(3, "email"), (4, "state"), (4, "balance")} <= problems
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0

    skipped = _upload(client, headers, BAD_CSV, skip_invalid="true").json()
    assert (skipped["created"], skipped["rejected"]) == (1, 2)


def test_update_status_and_reassign(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session, "West")
    agent = make_user(db_session, Role.AGENT, team=team, username="agent.west")
    other = make_user(db_session, Role.AGENT, username="agent.other")
    manager = make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session, make_portfolio(db_session), assignee_id=agent.id)
    db_session.commit()

    moved = client.patch(f"/api/v1/leads/{lead.id}", headers=auth(app, agent), json={"status": "promise"})
    assert moved.status_code == 200 and moved.json()["status"] == "promise"
    refused = client.patch(f"/api/v1/leads/{lead.id}", headers=auth(app, agent), json={"assignee": "agent.other"})
    assert refused.status_code == 403
    bad_status = client.patch(f"/api/v1/leads/{lead.id}", headers=auth(app, agent), json={"status": "won"})
    assert bad_status.status_code == 422
    reassigned = client.patch(f"/api/v1/leads/{lead.id}", headers=auth(app, manager),
                              json={"assignee": "agent.other"})
    assert reassigned.json()["assignee_id"] == str(other.id)
    unknown = client.patch(f"/api/v1/leads/{lead.id}", headers=auth(app, manager), json={"assignee": "nobody"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "assignee"
    audited = db_session.scalars(select(AuditEntry.details).where(AuditEntry.action == "lead.update")).all()
    assert {"status": {"from": "new", "to": "promise"}} in audited


def test_list_filters_and_pagination(app: Any, client: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    portfolio = make_portfolio(db_session, "book")
    for days in (100, 300, 200):
        make_lead(db_session, portfolio, days_delinquent=days, state="OH")
    make_lead(db_session, portfolio, days_delinquent=500, state="TX")
    db_session.commit()
    headers = auth(app, manager)
    page = client.get("/api/v1/leads", headers=headers, params={"state": "OH", "limit": 2, "count": True}).json()
    assert page["total"] == 3 and [i["days_delinquent"] for i in page["items"]] == [300, 200]
    second = client.get("/api/v1/leads", headers=headers, params={"state": "OH", "limit": 2, "offset": 2}).json()
    assert [i["days_delinquent"] for i in second["items"]] == [100]
    assert client.get("/api/v1/leads", headers=headers,
                      params={"portfolio": "book", "min_days_delinquent": 250, "count": True}).json()["total"] == 2


def test_the_unassigned_lead_queue(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    admin = make_user(db_session, Role.ADMIN)
    mine = make_lead(db_session, assignee_id=agent.id, team_id=team.id)
    pool = make_lead(db_session, team_id=team.id)
    orphan = make_lead(db_session)
    db_session.commit()

    def ids(user: Any, **params: str) -> set[str]:
        response = client.get("/api/v1/leads", headers=auth(app, user), params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids(agent, assignee="me") == {str(mine.id)}
    assert ids(agent, assignee="none") == {str(pool.id)}
    assert ids(admin, assignee="none") >= {str(pool.id), str(orphan.id)}
    assert str(mine.id) not in ids(admin, assignee="none")


def test_viewers_see_contact_details_masked_and_every_page_is_audited(app: Any, client: Any,
                                                                       db_session: Session) -> None:
    from datetime import date

    viewer = make_user(db_session, Role.VIEWER)
    manager = make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session, email="jordan.rivera@example.com", emails=["jordan.rivera@example.com"],
                     phone="+12125550123", phones=[{"number": "+12125550123", "type": "cell"}],
                     address="12 Main St", birth_date=date(1999, 4, 2))
    db_session.commit()

    seen = client.get(f"/api/v1/leads/{lead.id}", headers=auth(app, viewer)).json()
    assert (seen["email"], seen["phone"], seen["address"], seen["birth_date"]) == ("j***", "***-***-0123", "1***",
                                                                                  None)
    assert seen["phones"] == [{"number": "***-***-0123", "type": "cell"}]
    listed = client.get("/api/v1/leads", headers=auth(app, viewer), params={"q": "Rivera"}).json()["items"]
    assert "example.com" not in str(listed) and "555-0123" not in str(listed) and "5550123" not in str(listed)
    whole = client.get(f"/api/v1/leads/{lead.id}", headers=auth(app, manager)).json()
    assert whole["email"] == "jordan.rivera@example.com" and whole["phone"] == "+12125550123"

    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.list")).all()
    assert len(entries) == 1  # one entry for the page, not one per lead
    assert str(lead.id) in entries[0].details["lead_ids"] and entries[0].details["filters"] == ["q"]
    assert "Rivera" not in str(entries[0].details)  # what was searched for is not kept


def test_the_lead_list_pages_with_a_cursor_and_searches_by_part_of_a_name(app: Any, client: Any,
                                                                           db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    admin = make_user(db_session, Role.ADMIN)
    portfolio = make_portfolio(db_session)
    for n in range(7):
        make_lead(db_session, portfolio, first_name="Marisol", last_name=f"Quintero{n}", days_delinquent=100 + n,
                  assignee_id=agent.id if n % 2 else None, team_id=team.id if n < 5 else None)
    make_lead(db_session, portfolio, first_name="Other", last_name="Person", days_delinquent=None)
    db_session.commit()

    def walk(user: Any, **params: Any) -> list[dict[str, Any]]:
        seen, cursor = [], None
        while True:
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/leads", headers=auth(app, user), params=query).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    everyone = walk(admin, portfolio=portfolio.name)
    assert [lead["days_delinquent"] for lead in everyone] == [106, 105, 104, 103, 102, 101, 100, None]
    assert len({lead["id"] for lead in everyone}) == 8
    # An agent's pages: their own leads and their team's, in the same order, none twice.
    mine = walk(agent)
    assert [lead["last_name"] for lead in mine] == [f"Quintero{n}" for n in (5, 4, 3, 2, 1, 0)]
    # A part of the name, any case; the search keeps to what the user may see.
    assert {lead["last_name"] for lead in walk(admin, q="quintero")} == {f"Quintero{n}" for n in range(7)}
    assert {lead["last_name"] for lead in walk(agent, q="QUINTERO")} == {f"Quintero{n}" for n in (0, 1, 2, 3, 4, 5)}
    assert walk(admin, q="sol quin") != [] and walk(admin, q="100%") == []
    bad = client.get("/api/v1/leads", headers=auth(app, admin), params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
