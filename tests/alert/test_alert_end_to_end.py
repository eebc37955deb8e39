"""End to end on both databases: a profile export → a signal → alerts → the live stream, e-mail (Brevo and SMTP)
and a signed webhook, then the inbox over the API."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from factories import auth, make_lead, make_team, make_user
from pipeline.monitoring_support import harvest_item
from upswing.account.models import Role
from upswing.alert import sending
from upswing.alert.models import Alert, AlertDelivery, AlertRule
from upswing.fakes.brevo import FakeBrevo
from upswing.fakes.smtp import FakeSmtp
from upswing.fakes.webhook_receiver import FakeWebhookReceiver
from upswing.notify.email import BrevoTransport, SmtpTransport
from upswing.settings import Settings

KEY = "xkeysib-e2e"


@pytest.fixture
def brevo() -> Iterator[tuple[FakeBrevo, str]]:
    fake = FakeBrevo(api_key=KEY)
    with fake as url:
        yield fake, url


def _sse_events(body: str) -> list[dict[str, Any]]:
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return events


def test_a_profile_export_reaches_the_specialist_on_every_channel(
        app: Any, client: Any, db_session: Session, session_factory: sessionmaker[Session], deliver_events: Any,
        brevo: tuple[FakeBrevo, str], us_daytime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_brevo, brevo_url = brevo
    for module in ("service", "sending"):  # the guard allows calls at this hour everywhere in the US
        monkeypatch.setattr(f"upswing.alert.{module}.utcnow", lambda: us_daytime)
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    agent.email, agent.full_name = "dana@team.example", "Dana Scully"
    admin = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session, linkedin_public_id="e2e-person", assignee_id=agent.id, team_id=team.id,
                     phones=[{"number": "+15125550142", "type": "cell"}], timezone="America/Chicago")
    db_session.execute(delete(AlertRule))
    db_session.add(AlertRule(name="everything", channels=["in_app", "email", "webhook"], conditions={},
                             recipients={"to": "owner"}))
    db_session.commit()

    receiver = FakeWebhookReceiver()
    with receiver as hook_url:
        settings = Settings(outbound_allow_hosts=["127.0.0.1"], public_base_url="https://upswing.example")
        app.state.settings = settings
        created = client.post("/api/v1/webhooks", headers=auth(app, admin),
                              json={"url": f"{hook_url}/crm", "event_types": ["alert.created"]})
        assert created.status_code == 201, created.text
        receiver.set_secret("/crm", created.json()["secret"])

        body = json.dumps([harvest_item("e2e-person", jobs=[("Registered Nurse", "Acme Health",
                                                              date(2026, 10, 1), None)])]).encode()
        report = client.post("/api/v1/ingest/apify", headers=auth(app, admin), data={"actor": "harvestapi"},
                             files={"file": ("export.json", io.BytesIO(body), "application/json")})
        assert report.status_code == 200 and report.json()["signals_created"] == 1, report.text
        assert deliver_events().failed == 0

        alert = db_session.scalars(select(Alert).where(Alert.lead_id == lead.id)).one()
        assert alert.user_id == agent.id and alert.actionable and alert.guard["call"]["allowed"] is True
        channels = {d.channel: d for d in db_session.scalars(select(AlertDelivery)
                                                              .where(AlertDelivery.alert_id == alert.id))}
        assert set(channels) == {"in_app", "email", "webhook"}

        # The live stream, resumed from the start with Last-Event-ID.
        streamed = client.get("/api/v1/stream", headers={**auth(app, agent), "Last-Event-ID": "0"},
                              params={"max_seconds": 0.5})
        assert streamed.headers["content-type"].startswith("text/event-stream")
        [event] = [e for e in _sse_events(streamed.text) if e["event"] == "alert.created"]
        assert event["data"]["id"] == str(alert.id) and event["data"]["lead_external_id"] == lead.external_id
        # Someone else's stream does not carry it.
        other = client.get("/api/v1/stream", headers={**auth(app, admin), "Last-Event-ID": "0"},
                           params={"max_seconds": 0.2})
        assert all(e["data"].get("id") != str(alert.id) for e in _sse_events(other.text))

        report_sent = sending.send_due(session_factory, settings=settings, rng=random.Random(1),
                                       transport=BrevoTransport(api_key=KEY, base_url=brevo_url,
                                                                sender_email="alerts@upswing.example"))
        assert (report_sent.sent, report_sent.failed) == (2, 0)
        [mail] = fake_brevo.wait_for(1)
        assert mail.to == [{"email": "dana@team.example", "name": "Dana Scully"}]
        assert mail.header_message_id == f"<{channels['email'].id}@upswing.alerts>"
        assert "Call" in mail.text_content and "allowed now" in mail.text_content
        assert "Registered Nurse" in mail.html_content and "style=" in mail.html_content
        assert lead.last_name not in mail.html_content + mail.text_content + mail.subject  # initials only

        [hook] = receiver.wait_for(1)
        assert hook.verified
        Webhook(created.json()["secret"]).verify(hook.body, dict(hook.headers))  # the reference library agrees
        assert hook.headers["webhook-id"] == f"msg_{channels['webhook'].id}"
        payload = hook.json()
        assert payload["type"] == "alert.created" and payload["data"]["lead"]["external_id"] == lead.external_id
        assert "first_name" not in json.dumps(payload) and lead.last_name not in json.dumps(payload)

    db_session.expire_all()
    sent = {d.channel: d for d in db_session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id))}
    assert sent["email"].status == "sent" and sent["email"].provider_id == mail.message_id
    assert sent["webhook"].status == "sent" and sent["webhook"].response_status == 200

    # The inbox over the API.
    inbox = client.get("/api/v1/alerts", headers=auth(app, agent)).json()
    assert [item["id"] for item in inbox["items"]] == [str(alert.id)]
    assert inbox["items"][0]["guard"]["call"]["allowed"] is True
    assert client.get("/api/v1/alerts/summary", headers=auth(app, agent)).json()["unread"] == 1
    assert client.post(f"/api/v1/alerts/{alert.id}/read", headers=auth(app, agent)).json()["status"] == "read"
    assert client.get("/api/v1/alerts", headers=auth(app, agent), params={"status": "unread"}).json()["items"] == []
    assert client.get(f"/api/v1/alerts/{alert.id}", headers=auth(app, admin)).status_code == 404


def test_the_same_alert_email_over_smtp_has_html_and_text_parts(db_session: Session, session_factory: Any,
                                                                us_daytime: Any, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    from factories import make_signal
    from upswing.alert import service
    from upswing.alert.schemas import RuleCreate

    for module in ("service", "sending"):
        monkeypatch.setattr(f"upswing.alert.{module}.utcnow", lambda: us_daytime)
    db_session.execute(delete(AlertRule))
    service.create_rule(db_session, RuleCreate.model_validate({"name": "all", "channels": ["email"]}), user=None,
                        actor="test")
    agent = make_user(db_session)
    agent.email = "kim@team.example"
    lead = make_lead(db_session, assignee_id=agent.id)
    service.on_signal(db_session, make_signal(db_session, lead), now=us_daytime)
    db_session.commit()
    smtp = FakeSmtp().start()
    try:
        transport = SmtpTransport(host=smtp.host, port=smtp.port, sender_email="alerts@upswing.example",
                                  starttls=False, timeout_s=5)
        report = sending.send_due(session_factory, settings=Settings(), transport=transport)
        assert report.sent == 1
        [received] = smtp.wait_for(1)
    finally:
        smtp.stop()
    message: MimeMessage = received.message
    delivery = db_session.scalars(select(AlertDelivery).where(AlertDelivery.user_id == agent.id)).one()
    assert message["Message-ID"] == f"<{delivery.id}@upswing.alerts>"
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Contact guard, now:" in text and ("allowed now" in text or "not now" in text)
