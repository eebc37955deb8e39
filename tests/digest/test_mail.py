"""The digest's e-mail plumbing on both databases, through the API: Brevo's event webhook (who may post, what a
hard bounce does), the admins' suppression list, the sender refusing a suppressed address, prepared messages with
their List-Unsubscribe headers, and the one-click unsubscribe link (no sign-in; refused when tampered)."""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import auth, make_user
from upswing.account.models import Role, User
from upswing.alert import sending
from upswing.alert.models import Alert, AlertDelivery
from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow
from upswing.digest import unsubscribe
from upswing.digest.models import DigestPreference
from upswing.fakes.brevo import FakeBrevo
from upswing.fakes.smtp import FakeSmtp
from upswing.notify.email import BrevoTransport, SmtpTransport
from upswing.notify.models import EmailSuppression
from upswing.settings import Settings

KEY = "xkeysib-digest-mail"
HOOK_TOKEN = "brevo-hook-token-0123456789"
BREVO_NETWORK = "185.107.232.0/24"  # an address inside it posts the events
BREVO_HOST = "185.107.232.17"
WEBHOOK = "/api/v1/email/events/brevo"
UNSUBSCRIBE = "/api/v1/digest/unsubscribe"


def hard_bounce(email: str = "Agent.Chen@team.example", **fields: Any) -> dict[str, Any]:
    return {"event": "hard_bounce", "email": email, "id": 501, "date": "2026-11-03 19:30:00",
            "ts_event": 1_793_734_200, "ts_epoch": 1_793_734_200_000, "message-id": "<77@smtp-relay.mailin.fr>",
            "reason": "550 5.1.1 mailbox unknown", "subject": "3 urgent — Upswing digest", "tags": ["digest"],
            **fields}


def bearer(token: str = HOOK_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(password: str, user: str = "brevo") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def configured(app: Any) -> Settings:
    settings: Settings = app.state.settings.model_copy(update={
        "brevo_webhook_token": SecretStr(HOOK_TOKEN), "brevo_webhook_networks": ["10.0.0.0/8", BREVO_NETWORK],
        "public_base_url": "https://upswing.example"})
    app.state.settings = settings
    return settings


def from_host(app: Any, host: str) -> Any:
    """A test client whose requests come from ``host`` (the client address of the ASGI scope)."""
    from fastapi.testclient import TestClient  # imported here, as in conftest.py

    return TestClient(app, client=(host, 41000))


@pytest.fixture
def brevo_client(app: Any, configured: Settings) -> Iterator[Any]:
    """Requests as they come from Brevo's network."""
    with from_host(app, BREVO_HOST) as test_client:
        yield test_client


@pytest.fixture
def brevo() -> Iterator[tuple[FakeBrevo, BrevoTransport]]:
    fake = FakeBrevo(api_key=KEY)
    with fake as url, BrevoTransport(api_key=KEY, base_url=url, sender_email="digest@upswing.example") as transport:
        yield fake, transport


def agent_chen(session: Session) -> User:
    agent = make_user(session, Role.AGENT, username=f"agent.chen.{uuid.uuid4().hex[:6]}")
    agent.email, agent.full_name = "agent.chen@team.example", "Agent Chen"
    session.flush()
    return agent


def queue_alert_email(session: Session, user: User) -> AlertDelivery:
    now = utcnow()
    alert = Alert(id=uuid.uuid4(), user_id=user.id, kind="signal", priority="high", title="New job: Acme Health",
                  guard={}, routed_by="assignee", window_ends_at=now, created_at=now, updated_at=now)
    delivery = AlertDelivery(id=uuid.uuid4(), alert_id=alert.id, channel="email", user_id=user.id,
                             status="pending", run_after=now, created_at=now, attempts=0)
    session.add_all([alert, delivery])
    session.flush()
    return delivery


def queue_digest_email(session: Session, user: User, settings: Settings, *, html: str | None = "<p>Digest</p>",
                       ) -> AlertDelivery:
    """A digest as the digest task leaves it: a delivery with its message rendered in advance, no alert."""
    now = utcnow()
    delivery = AlertDelivery(id=uuid.uuid4(), alert_id=None, channel="email", user_id=user.id, status="pending",
                             run_after=now, created_at=now, attempts=0, content={
                                 "subject": "3 urgent, 5 high — Upswing digest for Tue 8 Dec", "html": html,
                                 "text": "3 urgent, 5 high", "tags": ["digest"],
                                 "headers": unsubscribe.list_unsubscribe_headers(user.id, settings)})
    session.add(delivery)
    session.flush()
    return delivery


def send(factory: sessionmaker[Session], settings: Settings, transport: Any) -> sending.SendReport:
    return sending.send_due(factory, settings=settings, transport=transport, rng=random.Random(7))


# --------------------------------------------------------------------------------------------------
# The must-show: a hard bounce stops further mail


def test_a_hard_bounce_stops_further_mail_and_flags_the_user_for_the_admins(
        app: Any, client: Any, brevo_client: Any, db_session: Session,
        session_factory: sessionmaker[Session], configured: Settings,
        brevo: tuple[FakeBrevo, BrevoTransport]) -> None:
    fake, transport = brevo
    admins = [make_user(db_session, Role.ADMIN) for _ in range(2)]
    agent = agent_chen(db_session)
    db_session.commit()

    posted = brevo_client.post(WEBHOOK, headers=bearer(), json=hard_bounce())
    assert posted.status_code == 200, posted.text
    outcome = posted.json()
    assert (outcome["event"], outcome["action"], outcome["users"]) == ("hard_bounce", "suppressed", 1)
    assert outcome["admins_alerted"] >= 2  # every active admin (the database may hold others)

    # Every admin has the user flagged in their inbox, by name, with the reason.
    for admin in admins:
        inbox = client.get("/api/v1/alerts", headers=auth(app, admin)).json()["items"]
        [flag] = [item for item in inbox if item["kind"] == "system"]
        assert flag["title"].startswith(f"E-mail to {agent.username} stopped: hard bounce (550 5.1.1 mailbox unknown)")
        assert "agent.chen@team.example" not in flag["title"]
    assert client.get("/api/v1/alerts", headers=auth(app, agent)).json()["items"] == []

    # Further mail to that address fails for good, saying why, and Brevo receives nothing.
    alert_mail = queue_alert_email(db_session, agent)
    digest_mail = queue_digest_email(db_session, agent, configured)
    db_session.commit()
    report = send(session_factory, configured, transport)
    assert (report.sent, report.failed) == (0, 2)
    assert fake.messages == []
    for delivery in (alert_mail, digest_mail):
        db_session.refresh(delivery)
        assert delivery.status == "failed"
        assert delivery.last_error == ("address suppressed: hard_bounce at 2026-11-03 19:30 UTC "
                                       "(Brevo: 550 5.1.1 mailbox unknown)")

    # The same event again (Brevo retries): nothing new, no second flag.
    repeat = brevo_client.post(WEBHOOK, headers=bearer(), json=hard_bounce())
    assert repeat.json()["action"] == "already_suppressed"
    assert len([i for i in client.get("/api/v1/alerts", headers=auth(app, admins[0])).json()["items"]
                if i["kind"] == "system"]) == 1

    # The admin sees it, lifts it (audited), and mail goes out again.
    listed = client.get("/api/v1/email-suppressions", headers=auth(app, admins[0]))
    assert listed.status_code == 200
    [row] = [r for r in listed.json() if r["address"] == "agent.chen@team.example"]
    assert (row["reason"], row["users"], row["detail"]) == ("hard_bounce", [agent.username],
                                                            "550 5.1.1 mailbox unknown")
    assert client.delete(f"/api/v1/email-suppressions/{row['address']}",
                         headers=auth(app, agent)).status_code == 403
    lifted = client.delete("/api/v1/email-suppressions/Agent.Chen@team.example", headers=auth(app, admins[0]))
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["lifted_by"] == f"user:{admins[0].username}" and lifted.json()["lifted_at"]
    assert client.delete("/api/v1/email-suppressions/agent.chen@team.example",
                         headers=auth(app, admins[0])).status_code == 404
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.entity_id == row["id"])
                                 .order_by(AuditEntry.at)).all()
    assert [(entry.actor, entry.action) for entry in audited] == [
        ("brevo", "email.suppressed"), (f"user:{admins[0].username}", "email.suppression_lifted")]
    assert "agent.chen@team.example" not in str([entry.details for entry in audited])

    again = queue_digest_email(db_session, agent, configured)
    db_session.commit()
    assert send(session_factory, configured, transport).sent == 1
    [mail] = fake.wait_for(1)
    assert mail.to == [{"email": "agent.chen@team.example", "name": "Agent Chen"}]
    assert mail.header_message_id == f"<{again.id}@upswing.alerts>"


def test_the_webhook_never_logs_the_address_in_clear(brevo_client: Any, db_session: Session,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    agent_chen(db_session)
    db_session.commit()
    assert brevo_client.post(WEBHOOK, headers=bearer(), json=hard_bounce()).status_code == 200
    logged = capsys.readouterr()
    assert "digest.email_suppressed" in logged.out + logged.err
    assert "agent.chen@team.example" not in (logged.out + logged.err).lower()


# --------------------------------------------------------------------------------------------------
# Who may post events


def test_the_webhook_is_refused_until_configured(app: Any, db_session: Session) -> None:
    with from_host(app, BREVO_HOST) as test_client:
        refused = test_client.post(WEBHOOK, headers=bearer(), json=hard_bounce())
    assert refused.status_code == 503
    assert "UPSWING_BREVO_WEBHOOK_TOKEN" in refused.json()["detail"]
    app.state.settings = app.state.settings.model_copy(update={"brevo_webhook_token": SecretStr(HOOK_TOKEN)})
    with from_host(app, BREVO_HOST) as test_client:  # a token but no network: still refused
        assert test_client.post(WEBHOOK, headers=bearer(), json=hard_bounce()).status_code == 503


@pytest.mark.parametrize("headers", [{}, bearer("wrong-token"), bearer(HOOK_TOKEN[:-1]), basic("wrong-token"),
                                     {"Authorization": HOOK_TOKEN}, {"Authorization": "Basic !!!"},
                                     {"Authorization": "Basic " + base64.b64encode(HOOK_TOKEN.encode()).decode()}],
                         ids=["none", "wrong", "prefix", "basic-wrong", "no-scheme", "basic-garbage", "basic-no-colon"])
def test_without_the_token_the_webhook_is_401(brevo_client: Any, db_session: Session,
                                              headers: dict[str, str]) -> None:
    refused = brevo_client.post(WEBHOOK, headers=headers, json=hard_bounce())
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert "token" in refused.json()["detail"]
    assert db_session.scalars(select(EmailSuppression)).all() == []


def test_the_token_as_the_basic_auth_password_is_accepted(brevo_client: Any, db_session: Session) -> None:
    accepted = brevo_client.post(WEBHOOK, headers=basic(HOOK_TOKEN), json=hard_bounce("someone@team.example"))
    assert accepted.status_code == 200 and accepted.json() == {
        "event": "hard_bounce", "action": "suppressed", "suppression_id": accepted.json()["suppression_id"],
        "users": 0, "admins_alerted": accepted.json()["admins_alerted"]}


@pytest.mark.parametrize("host", ["203.0.113.9", "185.107.233.1", "testclient", "::1"])
def test_from_another_network_the_webhook_is_403_even_with_the_token(app: Any, configured: Settings,
                                                                     db_session: Session, host: str) -> None:
    with from_host(app, host) as outsider:
        refused = outsider.post(WEBHOOK, headers=bearer(), json=hard_bounce())
    assert refused.status_code == 403 and "address" in refused.json()["detail"]


def test_an_ipv4_mapped_ipv6_client_counts_as_its_ipv4_address(app: Any, configured: Settings,
                                                               db_session: Session) -> None:
    with from_host(app, f"::ffff:{BREVO_HOST}") as mapped:
        assert mapped.post(WEBHOOK, headers=bearer(), json={"event": "delivered"}).status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    (b"not json", "body"),
    (b"[1, 2]", "body"),
    (b'{"email": "a@team.example"}', "body.event"),
    (b'{"event": "hard_bounce"}', "body.email"),
    (b'{"event": "spam", "email": "nobody"}', "body.email"),
    (b'{"event": "blocked", "email": "a@team.example", "ts_event": "yesterday"}', "body.ts_event"),
    (b'{"event": "blocked", "email": "a@team.example", "ts_event": 1e20}', "body.ts_event"),
])
def test_a_malformed_event_is_422_naming_the_field(brevo_client: Any, db_session: Session, body: bytes,
                                                   field: str) -> None:
    refused = brevo_client.post(WEBHOOK, headers={**bearer(), "Content-Type": "application/json"}, content=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


_NUMBER = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
_JSON = st.recursive(st.none() | st.booleans() | _NUMBER | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3),
                     max_leaves=6)
_EVENTS = st.fixed_dictionaries({}, optional={
    "event": st.sampled_from(["hard_bounce", "hardBounce", "spam", "unsubscribed", "blocked", "delivered", ""])
    | _JSON,
    "email": st.sampled_from(["a@team.example", "A@Team.Example", "nobody", "a@b", ""]) | _JSON,
    "message-id": _JSON, "reason": _JSON, "ts_event": _NUMBER | _JSON, "ts_epoch": _NUMBER | _JSON,
    "tags": _JSON})


def test_any_body_is_an_answer_never_a_server_error(brevo_client: Any, db_session: Session) -> None:
    @settings(max_examples=60, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(body=_EVENTS | _JSON)
    def post(body: Any) -> None:
        answered = brevo_client.post(WEBHOOK, headers=bearer(), json=body)
        assert answered.status_code in (200, 422), answered.text
        if answered.status_code == 422:
            assert answered.json()["errors"][0]["field"].startswith("body")

    post()


def test_events_that_stop_nothing_are_accepted_and_ignored(brevo_client: Any, db_session: Session) -> None:
    for name in ("delivered", "soft_bounce", "opened", "unique_opened", "click", "deferred", "request"):
        answered = brevo_client.post(WEBHOOK, headers=bearer(), json=hard_bounce(event=name))
        assert answered.status_code == 200 and answered.json()["action"] == "ignored", name


# --------------------------------------------------------------------------------------------------
# Prepared messages carry their headers to the provider


def test_a_prepared_message_reaches_brevo_with_its_unsubscribe_headers_and_a_stable_message_id(
        db_session: Session, session_factory: sessionmaker[Session], configured: Settings,
        brevo: tuple[FakeBrevo, BrevoTransport]) -> None:
    fake, transport = brevo
    agent = agent_chen(db_session)
    delivery = queue_digest_email(db_session, agent, configured)
    db_session.commit()
    assert send(session_factory, configured, transport).sent == 1
    [mail] = fake.wait_for(1)
    url = unsubscribe.unsubscribe_url(agent.id, configured)
    assert url.startswith("https://upswing.example/api/v1/digest/unsubscribe?token=")
    assert mail.headers["List-Unsubscribe"] == f"<{url}>"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.header_message_id == f"<{delivery.id}@upswing.alerts>"
    assert (mail.subject, mail.text_content, mail.tags) == ("3 urgent, 5 high — Upswing digest for Tue 8 Dec",
                                                            "3 urgent, 5 high", ["digest"])
    # Sent again (a crash before the result was recorded): the same Message-ID and idempotency key.
    transport.send(sending._prepared_email(delivery, agent, "agent.chen@team.example"))
    assert [(m.header_message_id, m.repeat) for m in fake.wait_for(2)] == [
        (f"<{delivery.id}@upswing.alerts>", False), (f"<{delivery.id}@upswing.alerts>", True)]


def test_a_text_only_prepared_message_goes_through_smtp_with_its_headers(
        db_session: Session, session_factory: sessionmaker[Session], configured: Settings) -> None:
    agent = agent_chen(db_session)
    delivery = queue_digest_email(db_session, agent, configured, html=None)
    db_session.commit()
    with FakeSmtp() as smtp:
        transport = SmtpTransport(host=smtp.host, port=smtp.port, sender_email="digest@upswing.example",
                                  starttls=False, timeout_s=5.0)
        assert send(session_factory, configured, transport).sent == 1
        [received] = smtp.messages
    mail = received.message
    assert mail.get_content_type() == "text/plain"
    assert mail["List-Unsubscribe"].strip() == f"<{unsubscribe.unsubscribe_url(agent.id, configured)}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Message-ID"] == f"<{delivery.id}@upswing.alerts>"


def test_an_incomplete_prepared_message_fails_for_good(db_session: Session, session_factory: sessionmaker[Session],
                                                       configured: Settings,
                                                       brevo: tuple[FakeBrevo, BrevoTransport]) -> None:
    fake, transport = brevo
    delivery = queue_digest_email(db_session, agent_chen(db_session), configured)
    delivery.content = {"subject": "", "text": "x", "html": None, "headers": {}, "tags": []}
    db_session.commit()
    assert send(session_factory, configured, transport).failed == 1
    db_session.refresh(delivery)
    assert delivery.status == "failed" and "incomplete" in (delivery.last_error or "")
    assert fake.messages == []


# --------------------------------------------------------------------------------------------------
# One-click unsubscribe


def test_the_token_round_trips_and_any_change_is_refused() -> None:
    settings = Settings(secret_key=SecretStr("k" * 40))
    user_id = uuid.uuid4()
    token = unsubscribe.token_for(user_id, settings)
    assert token == unsubscribe.token_for(user_id, settings)  # no expiry, no randomness: every digest's link works
    assert token.replace("-", "").replace("_", "").isalnum()  # URL-safe as it is
    assert unsubscribe.user_for(token, settings) == user_id
    for at in range(len(token)):
        for replacement in {"A", "B", "-", "_"} - {token[at]}:
            assert unsubscribe.user_for(token[:at] + replacement + token[at + 1:], settings) is None
    for other in (token[:-1], token + "A", token + "=", " " + token, "", "x" * len(token)):
        assert unsubscribe.user_for(other, settings) is None
    assert unsubscribe.user_for(token, Settings(secret_key=SecretStr("j" * 40))) is None
    # Another user's id with this user's signature is not a token either.
    forged = base64.urlsafe_b64decode(token + "==")
    swapped = base64.urlsafe_b64encode(forged[:1] + uuid.uuid4().bytes + forged[17:]).decode().rstrip("=")
    assert unsubscribe.user_for(swapped, settings) is None
    assert unsubscribe.list_unsubscribe_headers(user_id, settings) == {
        "List-Unsubscribe": f"<http://127.0.0.1:8000/api/v1/digest/unsubscribe?token={token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _preference(session: Session, user: User) -> DigestPreference | None:
    session.expire_all()
    return session.scalar(select(DigestPreference).where(DigestPreference.user_id == user.id))


def test_the_unsubscribe_link_works_without_signing_in(client: Any, db_session: Session,
                                                       configured: Settings) -> None:
    agent = agent_chen(db_session)
    db_session.add(DigestPreference(user_id=agent.id, frequency="daily", send_time="06:45", min_priority="high"))
    db_session.commit()
    token = unsubscribe.token_for(agent.id, configured)

    # Opening the link (a person, or a mail scanner prefetching it) changes nothing.
    page = client.get(UNSUBSCRIBE, params={"token": token})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post"' in page.text and f"unsubscribe?token={token}" in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]  # self-contained
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    preference = _preference(db_session, agent)
    assert preference is not None and preference.frequency == "daily"

    # The mail client's one-click POST (RFC 8058): no sign-in, the token is the authority.
    done = client.post(UNSUBSCRIBE, params={"token": token}, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "unsubscribed" in done.text
    preference = _preference(db_session, agent)
    assert preference is not None
    assert (preference.frequency, preference.send_time, preference.min_priority) == ("off", "06:45", "high")
    assert preference.updated_by == "unsubscribe:one-click"
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "digest.unsubscribe",
                                                          AuditEntry.entity_id == str(agent.id))).all()
    assert entry.actor == "unsubscribe:one-click" and entry.details["frequency"] == {"from": "daily", "to": "off"}

    # Again, from the page's button, asking for JSON: still off, and says so.
    again = client.post(UNSUBSCRIBE, params={"token": token}, headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.json() == {"unsubscribed": True, "frequency": "off"}
    assert len(db_session.scalars(select(AuditEntry).where(AuditEntry.action == "digest.unsubscribe",
                                                           AuditEntry.entity_id == str(agent.id))).all()) == 1


def test_a_user_without_preferences_gets_their_own_row(client: Any, db_session: Session,
                                                       configured: Settings) -> None:
    agent = agent_chen(db_session)
    db_session.commit()
    token = unsubscribe.token_for(agent.id, configured)
    assert client.post(UNSUBSCRIBE, params={"token": token}).status_code == 200
    preference = _preference(db_session, agent)
    assert preference is not None and preference.frequency == "off" and preference.team_id is None


def test_a_tampered_or_unknown_token_is_refused_and_changes_nothing(client: Any, db_session: Session,
                                                                    configured: Settings) -> None:
    agent = agent_chen(db_session)
    db_session.commit()
    token = unsubscribe.token_for(agent.id, configured)
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (tampered, token[:-2], "not-a-token"):
        for method in ("GET", "POST"):
            refused = client.request(method, UNSUBSCRIBE, params={"token": bad},
                                     data={"List-Unsubscribe": "One-Click"} if method == "POST" else None)
            assert refused.status_code == 404, (method, bad)
            assert "token" in refused.json()["detail"] and "not valid" in refused.json()["detail"]
        # A person's browser gets a page that says so.
        page = client.post(UNSUBSCRIBE, params={"token": bad}, headers={"Accept": "text/html,*/*;q=0.8"})
        assert page.status_code == 404 and "This link does not work" in page.text
    assert client.post(UNSUBSCRIBE).status_code == 422  # no token at all
    assert _preference(db_session, agent) is None
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "digest.unsubscribe")).all() == []

    gone = unsubscribe.token_for(uuid.uuid4(), configured)  # well signed, but no such user
    refused = client.post(UNSUBSCRIBE, params={"token": gone})
    assert refused.status_code == 404 and "no longer exists" in refused.json()["detail"]


# --------------------------------------------------------------------------------------------------
# The command line


def test_suppressions_list_and_lift_on_the_command_line(cli: Any) -> None:
    from upswing.core.db import transaction
    from upswing.digest import mail

    assert cli("db", "upgrade").exit_code == 0
    with transaction() as session:
        agent = make_user(session, Role.AGENT, username="agent.chen")
        agent.email = "Agent.Chen@team.example"
        mail.handle_brevo_event(session, hard_bounce(event="spam", reason=None))

    listed = cli("digest", "suppressions", "list")
    assert listed.exit_code == 0, listed.output
    assert "agent.chen@team.example" in listed.output and "spam" in listed.output and "agent.chen" in listed.output
    as_json = cli("digest", "suppressions", "list", "--json", "--reason", "spam")
    assert [row["users"] for row in json.loads(as_json.output)] == [["agent.chen"]]

    lifted = cli("digest", "suppressions", "lift", "AGENT.CHEN@team.example")
    assert lifted.exit_code == 0 and "lifted: agent.chen@team.example (was spam)" in lifted.output
    assert "0 suppressed address(es)" in cli("digest", "suppressions", "list").output
    again = cli("digest", "suppressions", "lift", "agent.chen@team.example")
    assert again.exit_code == 1 and "not suppressed" in again.output
    with transaction() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "email.suppression_lifted")).all()
        assert entry.actor.startswith("cli:")
