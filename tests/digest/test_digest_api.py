"""The digest over the API and the CLI (both databases): preferences with inheritance and named errors, preview
in HTML and text, send now (once a day unless forced), history, and who may see whose digest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_team, make_user
from upswing.account.models import Role, User
from upswing.core.db import transaction
from upswing.detection.events import SignalType
from upswing.signal.models import Signal


def _agent(session: Session, username: str, team: Any = None) -> User:
    user = make_user(session, Role.AGENT, team=team, username=username)
    user.email, user.timezone, user.full_name = f"{username}@lender.example", "America/Chicago", "Dana Whitfield"
    lead = make_lead(session, assignee_id=user.id, first_name="Jordan", last_name="Rivera")
    signal = session.get(Signal, make_signal(session, lead, SignalType.PROMOTION, title="Shift Supervisor",
                                             organization="Walgreens"))
    assert signal is not None
    signal.detected_at = datetime.now(UTC) - timedelta(hours=2)
    return user


def test_preferences_over_the_api(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session, "Central")
    agent = _agent(db_session, "dana", team)
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    defaults = client.patch(f"/api/v1/digest/preferences/teams/{team.id}", headers=auth(app, admin),
                            json={"frequency": "weekdays", "min_priority": "high"})
    assert defaults.status_code == 200, defaults.text
    assert defaults.json()["overrides"] == {"frequency": "weekdays", "min_priority": "high"}
    assert client.patch(f"/api/v1/digest/preferences/teams/{team.id}", headers=auth(app, agent),
                        json={"frequency": "off"}).status_code == 403  # team defaults are the admins'
    mine = client.patch("/api/v1/digest/preferences", headers=auth(app, agent),
                        json={"send_time": "06:15", "signal_types": ["promotion", "new_employment"]})
    assert mine.status_code == 200, mine.text
    effective = mine.json()["effective"]
    assert (effective["frequency"], effective["send_time"], effective["min_priority"]) == ("weekdays", "06:15", "high")
    assert effective["sources"]["frequency"] == "team" and effective["sources"]["send_time"] == "user"
    assert effective["timezone"] == "America/Chicago"
    cleared = client.patch("/api/v1/digest/preferences", headers=auth(app, agent), json={"send_time": None})
    assert cleared.json()["effective"]["send_time"] == "07:30"  # back to the default
    bad = client.patch("/api/v1/digest/preferences", headers=auth(app, agent), json={"send_time": "25:00"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.send_time"
    unknown = client.patch("/api/v1/digest/preferences", headers=auth(app, agent), json={"portfolios": ["Nope"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "portfolios[0]"


def test_preview_send_and_history(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session, "Central")
    agent = _agent(db_session, "dana", team)
    other = _agent(db_session, "olu", make_team(db_session, "South"))
    manager = make_user(db_session, Role.MANAGER, team=team)
    db_session.commit()
    page = client.get("/api/v1/digest/preview", headers=auth(app, agent))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    subject = str(make_header(decode_header(page.headers["x-subject"])))
    assert subject.startswith("1 ") and "— Upswing digest for" in subject
    assert "Promotion: Shift Supervisor at Walgreens" in page.text and "Jordan Rivera" in page.text
    text = client.get("/api/v1/digest/preview", headers=auth(app, agent), params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain") and "Contact:" in text.text
    # A manager previews their team's members; nobody else's.
    assert client.get("/api/v1/digest/preview", headers=auth(app, manager),
                      params={"user": str(agent.id)}).status_code == 200
    assert client.get("/api/v1/digest/preview", headers=auth(app, manager),
                      params={"user": str(other.id)}).status_code == 403
    assert client.get("/api/v1/digest/preview", headers=auth(app, agent),
                      params={"user": str(other.id)}).status_code == 403

    sent = client.post("/api/v1/digest/send", headers=auth(app, agent), json={})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["status"] == "queued" and body["delivery_id"] and body["counts"]["medium"] + body["counts"][
        "high"] + body["counts"]["urgent"] + body["counts"]["low"] == 1
    again = client.post("/api/v1/digest/send", headers=auth(app, agent), json={})
    assert again.status_code == 409 and "force" in again.json()["detail"]
    forced = client.post("/api/v1/digest/send", headers=auth(app, agent), json={"force": True})
    assert forced.status_code == 201 and forced.json()["forced"] is True
    assert client.post("/api/v1/digest/send", headers=auth(app, manager),
                       json={"user_id": str(agent.id)}).status_code == 403  # only admins send others'
    history = client.get("/api/v1/digests", headers=auth(app, agent))
    assert [row["forced"] for row in history.json()] == [True, False]
    assert client.get("/api/v1/digests", headers=auth(app, other)).json() == []


def test_digest_commands(cli: Callable[..., Any], tmp_path: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    with transaction() as session:
        _agent(session, "cli.agent", make_team(session, "CLI team"))
    bad = cli("digest", "prefs", "set", "--user", "cli.agent", "--time", "7.30")
    assert bad.exit_code == 1 and "send_time" in bad.output
    ok = cli("digest", "prefs", "set", "--user", "cli.agent", "--time", "06:45", "--min-priority", "low",
             "--exclude-not-contactable")
    assert ok.exit_code == 0, ok.output
    shown = json.loads(cli("digest", "prefs", "show", "--user", "cli.agent").output)
    assert shown["effective"]["send_time"] == "06:45" and shown["effective"]["include_not_contactable"] is False
    team = cli("digest", "prefs", "set", "--team", "CLI team", "--frequency", "weekdays")
    assert team.exit_code == 0 and json.loads(team.output)["overrides"] == {"frequency": "weekdays"}
    cli("digest", "prefs", "set", "--user", "cli.agent", "--clear", "include_not_contactable")

    preview = cli("digest", "preview", "--user", "cli.agent")
    assert preview.exit_code == 0 and preview.output.startswith("Subject: 1 ")
    assert "Shift Supervisor at Walgreens" in preview.output
    out = tmp_path / "digest.html"
    written = cli("digest", "preview", "--user", "cli.agent", "--format", "html", "--output", str(out))
    assert written.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")

    # No e-mail transport configured: the send fails visibly, naming the setting.
    sent = cli("digest", "send", "--user", "cli.agent")
    assert sent.exit_code == 1 and "UPSWING_EMAIL_TRANSPORT" in sent.output
    again = cli("digest", "send", "--user", "cli.agent")
    assert again.exit_code == 1 and "force" in again.output
    listed = cli("digest", "list", "--user", "cli.agent", "--json")
    assert [row["status"] for row in json.loads(listed.output)] == ["failed"]
    assert cli("digest", "run").exit_code == 0


def test_a_long_subject_is_one_header_line() -> None:
    from upswing.digest.api import subject_header

    subject = "3 urgent, 1 high, 21 medium, 56 low — Upswing digest for Dana Whitfield, Sun 6 Dec"
    header = subject_header(subject)
    assert "\n" not in header and "\r" not in header and header.isascii()  # folded, the server drops the connection
    assert str(make_header(decode_header(header))) == subject
