"""The alert API: webhook targets that would reach inside the network, rule ownership, preferences."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_team, make_user
from upswing.account.models import Role
from upswing.alert.models import Alert
from upswing.core.db import utcnow


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/hook", "http://10.0.0.5/hook", "ftp://hooks.example.com/x"])
def test_webhook_targets_inside_the_network_are_refused(app: Any, client: Any, db_session: Session, url: str) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    answer = client.post("/api/v1/webhooks", headers=auth(app, admin), json={"url": url})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "url"


def test_managers_manage_only_their_teams_rules(app: Any, client: Any, db_session: Session) -> None:
    team, other = make_team(db_session), make_team(db_session)
    manager = make_user(db_session, Role.MANAGER, team=team)
    db_session.commit()
    own = client.post("/api/v1/alert-rules", headers=auth(app, manager),
                      json={"name": "mine", "conditions": {"min_score": 70}, "channels": ["in_app"]})
    assert own.status_code == 201 and own.json()["team_id"] == str(team.id)
    foreign = client.post("/api/v1/alert-rules", headers=auth(app, manager),
                          json={"name": "theirs", "team": other.name})
    assert foreign.status_code == 403
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    global_rule = client.post("/api/v1/alert-rules", headers=auth(app, admin), json={"name": "all"}).json()
    assert client.patch(f"/api/v1/alert-rules/{global_rule['id']}", headers=auth(app, manager),
                        json={"enabled": False}).status_code == 403
    bad = client.post("/api/v1/alert-rules", headers=auth(app, manager),
                      json={"name": "typo", "conditions": {"min_scor": 70}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "conditions.min_scor"


def test_users_set_their_own_alert_preferences(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session)
    db_session.commit()
    ok = client.patch("/api/v1/users/me", headers=auth(app, agent),
                      json={"timezone": "Europe/Paris", "quiet_hours_start": "22:00", "quiet_hours_end": "07:00",
                            "away_from": "2026-12-24", "away_until": "2026-12-26", "alert_hourly_cap": 5})
    assert ok.status_code == 200 and ok.json()["timezone"] == "Europe/Paris"
    bad_zone = client.patch("/api/v1/users/me", headers=auth(app, agent), json={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "timezone" in bad_zone.text
    backwards = client.patch("/api/v1/users/me", headers=auth(app, agent),
                             json={"away_from": "2026-12-26", "away_until": "2026-12-24"})
    assert backwards.status_code == 422


def test_rule_options_name_what_a_rule_may_use(app: Any, client: Any, db_session: Session) -> None:
    team, other = make_team(db_session, "Options North"), make_team(db_session, "Options South")
    make_portfolio(db_session, "Options Book")
    manager = make_user(db_session, Role.MANAGER, team=team, username="opt.manager")
    make_user(db_session, Role.AGENT, team=team, username="opt.mine")
    make_user(db_session, Role.AGENT, team=other, username="opt.theirs")
    gone = make_user(db_session, Role.AGENT, team=team, username="opt.gone")
    gone.is_active = False
    admin = make_user(db_session, Role.ADMIN, username="opt.admin")
    db_session.commit()
    answer = client.get("/api/v1/alert-rules/options", headers=auth(app, manager))
    assert answer.status_code == 200, answer.text
    options = answer.json()
    assert "new_employment" in options["signal_types"] and "promise" in options["lead_statuses"]
    assert options["priorities"] == ["low", "medium", "high", "urgent"]
    assert "Options Book" in options["portfolios"] and {"Options North", "Options South"} <= set(options["teams"])
    assert {u["username"] for u in options["users"]} == {"opt.manager", "opt.mine"}  # their team's, active only
    assert options["users"][0]["team"] == "Options North"
    assert options["sources"] and options["sources"] == sorted(options["sources"])
    everyone = {u["username"] for u in client.get("/api/v1/alert-rules/options", headers=auth(app, admin)).json()[
        "users"]}
    assert {"opt.manager", "opt.mine", "opt.theirs", "opt.admin"} <= everyone and "opt.gone" not in everyone


def test_alerts_carry_the_borrowers_time_zone(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session)
    now = utcnow()
    for lead in (make_lead(db_session, assignee_id=agent.id, timezone="America/Denver"),
                 make_lead(db_session, assignee_id=agent.id, state="NY", postal_code="10001", timezone=None)):
        db_session.add(Alert(id=uuid.uuid4(), user_id=agent.id, lead_id=lead.id, kind="signal", priority="high",
                             title="New job", guard={}, routed_by="assignee", window_ends_at=now, created_at=now,
                             updated_at=now))
    db_session.commit()
    page = client.get("/api/v1/alerts", headers=auth(app, agent))
    assert page.status_code == 200, page.text
    assert sorted(item["lead_timezone"] for item in page.json()["items"]) == ["America/Denver", "America/New_York"]
