"""Working a signal over the API: a refused contact is a 409 with the guard's answer and writes nothing; an
allowed one is in the ledger and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_user
from upswing.account.models import Role
from upswing.compliance.models import ContactAttempt

#: Zones around the world: at any moment at least one of them is at least an hour outside 08:00–21:00 (their
#: offsets are never more than 5.5 hours apart, the night from 22:00 to 07:00 is 9 hours long).
ZONES = ("Pacific/Kiritimati", "Asia/Tokyo", "Asia/Kolkata", "Europe/London", "America/New_York",
         "Pacific/Honolulu")


def night_zone() -> str:
    now = datetime.now(UTC)
    return next(zone for zone in ZONES if not 7 <= now.astimezone(ZoneInfo(zone)).hour < 22)


def test_a_refused_call_is_a_409_with_the_guards_answer(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    # Only the time zone places the lead: no state, ZIP or number that could add another zone.
    lead = make_lead(db_session, assignee_id=agent.id, state=None, city=None, country=None, timezone=night_zone())
    signal_id = make_signal(db_session, lead)
    db_session.commit()

    response = client.post(f"/api/v1/signals/{signal_id}/action", headers=auth(app, agent),
                           json={"action": "call", "note": "trying"})

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["reasons"] == ["time_window"] and body["allowed"] is False and body["channel"] == "call"
    assert datetime.fromisoformat(body["next_allowed_at"]) > datetime.now(UTC)
    assert "time_window" in body["detail"]
    after = client.get(f"/api/v1/signals/{signal_id}", headers=auth(app, agent)).json()
    assert (after["status"], after["action"]) == ("new", None)
    assert db_session.scalar(select(func.count()).select_from(ContactAttempt)) == 0


def test_an_allowed_letter_is_in_the_ledger_and_the_timeline(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id, address="1 Main St", timezone=night_zone())
    signal_id = make_signal(db_session, lead)
    db_session.commit()
    headers = auth(app, agent)

    # Letters are not bound to the time window: allowed at any hour.
    response = client.post(f"/api/v1/signals/{signal_id}/action", headers=headers,
                           json={"action": "letter", "note": "payment plan offer"})

    assert response.status_code == 200, response.text
    assert response.json()["action"] == "letter"
    contacts = client.get("/api/v1/compliance/contacts", headers=headers, params={"lead_id": str(lead.id)})
    assert contacts.status_code == 200, contacts.text
    assert [item["channel"] for item in contacts.json()["items"]] == ["letter"]
    assert contacts.json()["items"][0]["signal_id"] == str(signal_id)
    items = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=headers).json()["items"]
    contact = next(item for item in items if item["kind"] == "contact")
    assert contact["signal_id"] == str(signal_id) and contact["details"]["channel"] == "letter"


def test_the_override_body_is_validated(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    db_session.commit()
    response = client.post(f"/api/v1/signals/{signal_id}/action", headers=auth(app, agent),
                           json={"action": "call", "override_reason": "ok"})
    assert response.status_code == 422  # a reason of a few words at least
