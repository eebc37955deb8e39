"""The escalation API (both databases): escalations by role, the signal's escalation in the signals API and the
timeline, policies, team business calendars and holidays, with errors naming the field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.escalation import service
from upswing.signal.models import Signal

FRIDAY_AFTERNOON = datetime(2026, 12, 4, 16, 30, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def _escalated(session: Session) -> dict[str, Any]:
    team = make_team(session)
    manager = make_user(session, Role.MANAGER, team=team)
    agent = make_user(session, Role.AGENT, team=team)
    lead = make_lead(session, assignee_id=agent.id, team_id=team.id)
    signal_id = make_signal(session, lead)
    session.execute(update(Signal).where(Signal.id == signal_id).values(priority="urgent",
                                                                         detected_at=FRIDAY_AFTERNOON))
    assert service.run(session, MONDAY_NOON) == 1
    session.commit()
    return {"team": team, "manager": manager, "agent": agent, "lead": lead, "signal_id": signal_id}


def test_escalations_by_role_and_on_the_signal(app: Any, client: Any, db_session: Session) -> None:
    world = _escalated(db_session)
    stranger = make_user(db_session, Role.AGENT, team=make_team(db_session))
    other_manager = make_user(db_session, Role.MANAGER, team=make_team(db_session))
    viewer = make_user(db_session, Role.VIEWER)
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()

    for user in (world["manager"], world["agent"], admin):
        listed = client.get("/api/v1/escalations", headers=auth(app, user))
        assert listed.status_code == 200, listed.text
        [item] = [row for row in listed.json() if row["signal_id"] == str(world["signal_id"])]
        assert item["level"] == 1 and item["username"] == world["manager"].username and item["still_open"] is True
        assert item["lead_external_id"] == world["lead"].external_id
        assert item["assignee_username"] == world["agent"].username
    for user in (stranger, other_manager):
        assert client.get("/api/v1/escalations", headers=auth(app, user)).json() == []
    assert client.get("/api/v1/escalations", headers=auth(app, viewer)).status_code == 403
    to_me = client.get("/api/v1/escalations", headers=auth(app, world["manager"]), params={"user": "me", "level": 1})
    assert len(to_me.json()) == 1
    assert client.get("/api/v1/escalations", headers=auth(app, admin), params={"level": 2}).json() == []
    unknown = client.get("/api/v1/escalations", headers=auth(app, admin), params={"user": "nobody-at-all"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "user"

    signal = client.get(f"/api/v1/signals/{world['signal_id']}", headers=auth(app, admin)).json()
    assert signal["escalation_level"] == 1 and signal["escalated_at"] is not None
    assert signal["first_action_at"] is None
    escalated = client.get("/api/v1/signals", headers=auth(app, admin), params={"escalated": "true"}).json()
    assert [row["id"] for row in escalated["items"]] == [str(world["signal_id"])]
    kinds = [item["kind"] for item in client.get(f"/api/v1/leads/{world['lead'].id}/timeline",
                                                 headers=auth(app, admin)).json()["items"]]
    assert "escalated" in kinds

    acknowledged = client.post(f"/api/v1/signals/{world['signal_id']}/acknowledge", headers=auth(app, world["agent"]))
    assert acknowledged.status_code == 200 and acknowledged.json()["first_action_at"] is not None
    still = client.get("/api/v1/escalations", headers=auth(app, admin), params={"open": "true"}).json()
    assert str(world["signal_id"]) not in [row["signal_id"] for row in still]


def test_policies_are_listed_and_changed_by_admins(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    listed = client.get("/api/v1/escalation-policies", headers=headers).json()
    assert [(p["priority"], p["level"]) for p in listed] == [("urgent", 1), ("urgent", 2), ("high", 1)]

    created = client.put("/api/v1/escalation-policies", headers=headers, json={
        "priority": "medium", "level": 1, "delay_value": 3, "delay_unit": "business_days", "target": "manager"})
    assert created.status_code == 200 and created.json()["updated_by"] == f"user:{admin.username}"
    replaced = client.put("/api/v1/escalation-policies", headers=headers, json={
        "priority": "medium", "level": 1, "delay_value": 4, "delay_unit": "business_hours", "target": "admin"})
    assert replaced.json()["id"] == created.json()["id"] and replaced.json()["delay_value"] == 4
    patched = client.patch(f"/api/v1/escalation-policies/{listed[0]['id']}", headers=headers,
                           json={"enabled": False, "delay_value": 3})
    assert patched.status_code == 200 and patched.json()["enabled"] is False and patched.json()["delay_value"] == 3

    for body, field in (({"priority": "medium", "level": 0, "delay_value": 1, "delay_unit": "business_days",
                          "target": "manager"}, "body.level"),
                        ({"priority": "medium", "level": 1, "delay_value": 1, "delay_unit": "minutes",
                          "target": "manager"}, "body.delay_unit"),
                        ({"priority": "someday", "level": 1, "delay_value": 1, "delay_unit": "business_days",
                          "target": "manager"}, "body.priority")):
        refused = client.put("/api/v1/escalation-policies", headers=headers, json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    missing = client.patch(f"/api/v1/escalation-policies/{uuid.uuid4()}", headers=headers, json={"enabled": True})
    assert missing.status_code == 404


def test_team_business_calendars(app: Any, client: Any, db_session: Session) -> None:
    team, other = make_team(db_session), make_team(db_session)
    admin = make_user(db_session, Role.ADMIN)
    manager = make_user(db_session, Role.MANAGER, team=team)
    db_session.commit()
    url = f"/api/v1/teams/{team.id}/business-calendar"

    default = client.get(url, headers=auth(app, manager)).json()
    assert default["own"] is False and default["timezone"] == "America/New_York"
    assert default["weekdays"] == ["mon", "tue", "wed", "thu", "fri"] and default["day_minutes"] == 480
    assert any(h["source"] == "country" for h in default["upcoming_holidays"])

    body = {"timezone": "America/Chicago", "start": "08:00", "end": "16:30", "weekdays": ["mon", "tue", 3],
            "holiday_country": "us"}
    assert client.put(url, headers=auth(app, manager), json=body).status_code == 403
    saved = client.put(url, headers=auth(app, admin), json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["own"] is True and saved.json()["weekdays"] == ["mon", "tue", "thu"]
    assert saved.json()["holiday_country"] == "US" and saved.json()["day_minutes"] == 510
    assert client.get(url, headers=auth(app, manager)).json()["timezone"] == "America/Chicago"

    assert client.get(f"/api/v1/teams/{other.id}/business-calendar", headers=auth(app, manager)).status_code == 403
    assert client.get(f"/api/v1/teams/{uuid.uuid4()}/business-calendar",
                      headers=auth(app, admin)).status_code == 404
    for change, field in (({"timezone": "Mars/Olympus"}, "body.timezone"), ({"start": "9am"}, "body.start"),
                          ({"end": "07:00"}, "body.end"), ({"weekdays": ["funday"]}, "body.weekdays"),
                          ({"holiday_country": "XX"}, "body.holiday_country")):
        refused = client.put(url, headers=auth(app, admin), json={**body, **change})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field, refused.json()


def test_holidays(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    everyone = client.post("/api/v1/holidays", headers=headers, json={"day": "2026-12-24", "name": "Christmas Eve"})
    assert everyone.status_code == 201 and everyone.json()["team_id"] is None
    own = client.post("/api/v1/holidays", headers=headers,
                      json={"day": "2026-12-28", "name": "Team retreat", "team_id": str(team.id)})
    assert own.status_code == 201
    again = client.post("/api/v1/holidays", headers=headers, json={"day": "2026-12-24", "name": "Twice"})
    assert again.status_code == 409
    unknown = client.post("/api/v1/holidays", headers=headers,
                          json={"day": "2026-12-29", "name": "Nobody's", "team_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "team_id"
    bad_day = client.post("/api/v1/holidays", headers=headers, json={"day": "2026-02-30", "name": "Never"})
    assert bad_day.status_code == 422 and bad_day.json()["errors"][0]["field"] == "body.day"

    assert [h["name"] for h in client.get("/api/v1/holidays", headers=headers).json()] == \
        ["Christmas Eve", "Team retreat"]
    assert [h["name"] for h in client.get("/api/v1/holidays", headers=headers,
                                          params={"team_id": str(uuid.uuid4())}).json()] == ["Christmas Eve"]
    upcoming = service.get_calendar(db_session, team.id, user=None, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert [(h.day.isoformat(), h.name, h.source) for h in upcoming.upcoming_holidays][:3] == [
        ("2026-12-24", "Christmas Eve", "all_teams"), ("2026-12-25", "Christmas Day", "country"),
        ("2026-12-28", "Team retreat", "team")]

    assert client.delete(f"/api/v1/holidays/{everyone.json()['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/holidays/{everyone.json()['id']}", headers=headers).status_code == 404
    assert [h["name"] for h in client.get("/api/v1/holidays", headers=headers).json()] == ["Team retreat"]
