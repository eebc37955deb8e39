"""A lead's match decisions with their explanations (the lead page's "why this profile"), on both databases."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_review_match, make_team, make_user
from upswing.account.models import Role
from upswing.observation.models import Observation
from upswing.resolution.models import Match


def test_a_leads_matches_with_both_sides_for_whoever_may_see_the_lead(app: Any, client: Any,
                                                                       db_session: Session) -> None:
    team, other_team = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    portfolio = make_portfolio(db_session)
    lead = make_lead(db_session, portfolio, assignee_id=agent.id, team_id=team.id, employer="Acme", title="Analyst")
    foreign = make_lead(db_session, portfolio, team_id=other_team.id)
    first = make_review_match(db_session, lead, score=0.7)
    db_session.get(Match, first).disagreed = {"city": "other city"}  # type: ignore[union-attr]
    second = make_review_match(db_session, lead, score=0.9)
    make_review_match(db_session, foreign)
    approved = db_session.get(Match, second)
    assert approved is not None
    approved.outcome = "approved"
    observation = db_session.get(Observation, approved.observation_id)
    assert observation is not None
    observation.lead_id = lead.id  # the approved profile is linked to the lead
    observation.normalized = {**observation.normalized, "headline": "Analyst at Acme",
                              "experiences": [{"title": "Senior Analyst", "company": "Acme", "current": True}]}
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()

    page = client.get("/api/v1/matches", headers=auth(app, manager), params={"lead_id": str(lead.id)})
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert {item["id"] for item in items} == {str(first), str(second)} and page.json()["total"] == 2
    by_id = {item["id"]: item for item in items}
    assert by_id[str(first)]["disagreed"] == {"city": "other city"}
    assert by_id[str(first)]["agreed"] == {"first_name": "exact"}
    assert (by_id[str(second)]["profile_title"], by_id[str(second)]["profile_company"]) == ("Senior Analyst", "Acme")
    assert (by_id[str(second)]["lead_title"], by_id[str(second)]["lead_employer"]) == ("Analyst", "Acme")

    # The agent working the lead sees why its linked profile is this person, not the open candidates.
    theirs = client.get("/api/v1/matches", headers=auth(app, agent), params={"lead_id": str(lead.id)}).json()
    assert [item["id"] for item in theirs["items"]] == [str(second)] and theirs["total"] == 1
    hidden = client.get("/api/v1/matches", headers=auth(app, agent), params={"lead_id": str(foreign.id)})
    assert hidden.status_code == 404
    missing = client.get("/api/v1/matches", headers=auth(app, agent), params={"lead_id": str(uuid.uuid4())})
    assert missing.status_code == 404
    assert client.get("/api/v1/matches", headers=auth(app, agent)).status_code == 422
