"""The guard's answers for a page of leads (``POST /api/v1/compliance/answers``): in words and per channel, with
the borrower's local time; only leads the caller may see; one batch whatever the number of leads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_team, make_user
from upswing.account.models import Role
from upswing.compliance import service
from upswing.compliance.phrases import guard_phrase
from upswing.compliance.rules import Channel, Flag, GuardDecision
from upswing.lead.models import Lead

P = "/api/v1/compliance"
CELL = "+12125550123"
EARLY_CT = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)  # 6:30 am CST: before the 8:00 am window opens
NOON_CT = datetime(2026, 12, 8, 18, 0, tzinfo=UTC)


def _texan(session: Session, **fields: Any) -> Any:
    values: dict[str, Any] = {"state": "TX", "postal_code": "75201", "timezone": "America/Chicago", "phone": CELL,
                              "phones": [{"number": CELL, "type": "cell"}], "email": "sam@example.org",
                              "emails": ["sam@example.org"], "country": "US"}
    values.update(fields)
    return make_lead(session, **values)


def test_answers_in_words_per_channel_with_the_local_time(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    early, ceased = _texan(db_session, assignee_id=agent.id), _texan(db_session, assignee_id=agent.id)
    service.set_flag(db_session, ceased, Flag.CEASE, active=True, actor="test")
    db_session.flush()

    result = service.contact_answers(db_session, [early.id, ceased.id], user=agent, at=EARLY_CT,
                                     fallback_zone="America/New_York")
    first, second = result.items
    assert first.lead_id == early.id and second.lead_id == ceased.id  # in the order asked
    assert (first.phrase, first.contactable) == ("call after 8:00 am CT", True)
    assert first.channels.call.allowed is False and first.channels.call.reasons == ["time_window"]
    assert first.channels.call.next_allowed_at == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    assert (first.lead_timezone, first.lead_zone_label) == ("America/Chicago", "CT")
    assert first.lead_local_time is not None and first.lead_local_time.isoformat() == "2026-12-08T06:30:00-06:00"
    assert first.restricted_by == []
    assert (second.phrase, second.contactable, second.restricted_by) == ("do not contact: cease", False, ["cease"])

    later = service.contact_answers(db_session, [early.id], user=agent, at=NOON_CT, fallback_zone="UTC").items[0]
    assert later.phrase.endswith(" now") and later.phrase.startswith("call") and later.contactable
    assert later.channels.call.allowed and later.channels.email.allowed


def test_a_lead_without_a_known_zone_is_worded_in_the_fallback_zone(db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session, country="FR", timezone=None, state=None, postal_code=None)
    db_session.flush()
    answer = service.contact_answers(db_session, [lead.id], user=admin, at=NOON_CT,
                                     fallback_zone="America/Chicago").items[0]
    assert answer.lead_timezone is None and answer.lead_local_time is None and answer.lead_zone_label is None


def test_guard_phrase_moved_to_compliance_keeps_its_words() -> None:
    from upswing.digest.content import guard_phrase as digest_phrase

    assert digest_phrase is guard_phrase
    lead = Lead(external_id="x", first_name="A", last_name="B", timezone="America/Chicago", state="TX", country="US")
    wait = GuardDecision(False, ["time_window"], datetime(2026, 12, 8, 14, 0, tzinfo=UTC))
    assert guard_phrase(lead, {Channel.CALL: wait}, None, EARLY_CT, "UTC") == ("call after 8:00 am CT", True)


def test_the_endpoint_leaves_out_leads_the_caller_may_not_see(app: Any, client: Any, db_session: Session) -> None:
    team, other = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    stranger = make_user(db_session, Role.AGENT, team=other)
    own = _texan(db_session, assignee_id=agent.id, team_id=team.id)
    foreign = _texan(db_session, assignee_id=stranger.id, team_id=other.id)
    service.set_flag(db_session, own, Flag.CEASE, active=True, actor="test")
    db_session.commit()

    response = client.post(f"{P}/answers", headers=auth(app, agent),
                           json={"lead_ids": [str(foreign.id), str(own.id), str(own.id)]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["lead_id"] for item in body["items"]] == [str(own.id)]
    item = body["items"][0]
    assert item["phrase"] == "do not contact: cease" and item["contactable"] is False
    assert set(item["channels"]) == {"call", "sms", "email"}
    assert set(item["channels"]["call"]) == {"allowed", "reasons", "next_allowed_at"}
    assert item["lead_timezone"] == "America/Chicago" and item["lead_zone_label"] == "CT"
    assert item["lead_local_time"].endswith(("-06:00", "-05:00"))

    viewer = make_user(db_session, Role.VIEWER)
    db_session.commit()
    seen = client.post(f"{P}/answers", headers=auth(app, viewer), json={"lead_ids": [str(foreign.id)]}).json()
    assert [item["lead_id"] for item in seen["items"]] == [str(foreign.id)]


def test_at_most_a_hundred_leads_and_the_field_is_named(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    too_many = client.post(f"{P}/answers", headers=headers,
                           json={"lead_ids": [f"00000000-0000-0000-0000-{n:012d}" for n in range(101)]})
    assert too_many.status_code == 422 and "lead_ids" in too_many.text
    assert client.post(f"{P}/answers", headers=headers, json={"lead_ids": []}).json()["items"] == []
    assert client.post(f"{P}/answers", headers=headers, json={"lead_ids": ["nope"]}).status_code == 422


def test_one_batch_of_queries_whatever_the_number_of_leads(db_session: Session, migrated_engine: Any) -> None:
    admin = make_user(db_session, Role.ADMIN)
    few = [_texan(db_session).id for _ in range(2)]
    many = [_texan(db_session).id for _ in range(30)]
    db_session.flush()
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def count(ids: list[Any]) -> int:
        statements.clear()
        event.listen(migrated_engine, "before_cursor_execute", capture)
        try:
            service.contact_answers(db_session, ids, user=admin, at=NOON_CT, fallback_zone="UTC")
        finally:
            event.remove(migrated_engine, "before_cursor_execute", capture)
        return len(statements)

    count(few)  # warm (the rule settings)
    baseline = count(few)
    assert baseline > 0 and count(many) == baseline
