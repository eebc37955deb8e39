"""The alert API: webhook targets that would reach inside the network, rule ownership, preferences."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories import auth, make_team, make_user
from upswing.account.models import Role


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
