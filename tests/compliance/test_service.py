"""The guard against the database (SQLite and PostgreSQL): consents (revoked, reassigned), suppressions through
blind indexes, flags with history, the ledger, a new-job signal, rule settings, contact import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.compliance import service
from upswing.compliance.models import ContactAttempt, ContactConsent, LeadComplianceFlag, Suppression
from upswing.compliance.schemas import BlockedWindowCreate, ContactCreate
from upswing.core.crypto import get_key_ring
from upswing.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.lead.models import Lead

NOON_NY = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # 12:00 EST
CELL = "+12125550123"


def ny_lead(session: Session, **fields: Any) -> Lead:
    values: dict[str, Any] = {"state": "NY", "postal_code": "10001", "city": "New York",
                              "timezone": "America/New_York", "phone": CELL,
                              "phones": [{"number": CELL, "type": "cell"}], "employer": "Acme Corp",
                              "email": "jordan@gmail.com", "emails": ["jordan@gmail.com"]}
    values.update(fields)
    return make_lead(session, **values)


def check(session: Session, lead: Lead, channel: str = "call", at: datetime = NOON_NY, **kwargs: Any) -> Any:
    return service.check_contact(session, lead, channel, at, **kwargs)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_consent_granted_revoked_and_granted_again(db_session: Session) -> None:
    lead = ny_lead(db_session)
    assert check(db_session, lead, autodialed=True).reasons == ["no_tcpa_consent"]
    assert check(db_session, lead, autodialed=False).allowed  # a manual call needs no consent

    service.record_consent(db_session, lead, "(212) 555-0123", actor="test", source="application form")
    decision = check(db_session, lead, autodialed=True)
    assert decision.allowed and decision.next_allowed_at == NOON_NY
    assert check(db_session, lead, "sms", autodialed=True).allowed

    records = service.record_consent(db_session, lead, CELL, action="revoke", actor="test")
    assert [r.valid for r in records] == [False]
    revoked = check(db_session, lead, autodialed=True)
    assert revoked.reasons == ["no_tcpa_consent"] and revoked.next_allowed_at is None

    service.record_consent(db_session, lead, CELL, actor="test")
    assert check(db_session, lead, autodialed=True).allowed
    assert actions(db_session)[-3:] == ["compliance.consent.grant", "compliance.consent.revoke",
                                        "compliance.consent.grant"]


def test_reassigned_number_ends_consent(db_session: Session) -> None:
    lead = ny_lead(db_session)
    service.record_consent(db_session, lead, CELL, actor="test")
    assert check(db_session, lead, autodialed=True).allowed
    service.record_consent(db_session, lead, CELL, action="reassigned", actor="test")
    decision = check(db_session, lead, autodialed=True)
    assert decision.reasons == ["no_tcpa_consent"] and decision.next_allowed_at is None
    # The consent was per lead and number: another lead's consent for the same number is its own record.
    row = db_session.scalars(select(ContactConsent).where(ContactConsent.lead_id == lead.id)).one()
    assert row.reassigned_at is not None and CELL not in row.target_encrypted and CELL not in row.target_hint
    assert get_key_ring().decrypt(row.target_encrypted, context="compliance.target") == CELL


def test_suppression_is_a_keyed_hash_honoured_for_every_lead(db_session: Session) -> None:
    first, second = ny_lead(db_session), ny_lead(db_session)
    service.suppress(db_session, "(212) 555-0123", actor="test", source="cli", reason="asked to stop")
    service.suppress(db_session, "212.555.0123", actor="test", source="cli")  # the same number: no second row
    service.suppress(db_session, "Jordan@Gmail.com", actor="test", source="api")
    rows = list(db_session.scalars(select(Suppression)))
    assert len(rows) == 2
    for row in rows:
        assert "5550123" not in row.target_index and "jordan@" not in row.target_index
    assert {row.target_hint for row in rows} == {"+1******0123", "j***@gmail.com"}

    for lead in (first, second):
        call = check(db_session, lead)
        assert call.reasons == ["opted_out"] and call.next_allowed_at is None
        assert check(db_session, lead, "email").reasons == ["opted_out"]
    assert check(db_session, first, target="+1 646 555 0100").allowed  # another number is fine
    with pytest.raises(ValidationFailedError, match="target"):
        service.suppress(db_session, "555-01", actor="test", source="cli")


def test_flags_block_until_cleared_and_keep_history(db_session: Session) -> None:
    lead = ny_lead(db_session)
    for flag in ("cease", "attorney", "bankruptcy", "deceased", "dispute"):
        service.set_flag(db_session, lead, flag, active=True, actor="test")
        decision = check(db_session, lead, "letter")
        assert decision.reasons == [flag] and decision.next_allowed_at is None
        service.set_flag(db_session, lead, flag, active=True, actor="test")  # already set: nothing new
        flags = service.set_flag(db_session, lead, flag, active=False, actor="test", note="resolved")
        assert flags.active == [] and check(db_session, lead, "letter").allowed
    history = list(db_session.scalars(select(LeadComplianceFlag).where(LeadComplianceFlag.lead_id == lead.id)))
    assert len(history) == 5 and all(row.cleared_at is not None for row in history)
    assert actions(db_session).count("compliance.flag.set") == 5
    assert actions(db_session).count("compliance.flag.clear") == 5

    agent = make_user(db_session, Role.AGENT)
    service.set_flag(db_session, lead, "dispute", active=True, actor="agent", user=agent)
    with pytest.raises(PermissionDeniedError):
        service.set_flag(db_session, lead, "dispute", active=False, actor="agent", user=agent)


def test_ledger_counts_calls_and_conversations(db_session: Session) -> None:
    lead = ny_lead(db_session)
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    for day in range(7):
        logged = service.log_contact(db_session, ContactCreate(lead_id=lead.id, channel="call",
                                                               at=start + timedelta(days=day)),
                                     actor="test", source="api")
        assert logged.reasons_at_the_time == []
    decision = check(db_session, lead, at=datetime(2026, 1, 11, 20, 0, tzinfo=UTC))
    assert decision.reasons == ["call_frequency_7in7"]
    assert decision.next_allowed_at == datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
    eighth = service.log_contact(db_session, ContactCreate(lead_id=lead.id, channel="call", conversation=True,
                                                           at=datetime(2026, 1, 11, 20, 0, tzinfo=UTC)),
                                 actor="test", source="cli")
    assert eighth.reasons_at_the_time == ["call_frequency_7in7"]
    after = check(db_session, lead, at=datetime(2026, 1, 12, 15, 0, tzinfo=UTC))
    assert after.reasons == ["call_frequency_7in7", "after_conversation_7d"]
    assert after.next_allowed_at == datetime(2026, 1, 18, 20, 0, tzinfo=UTC)
    items, total = service.list_contacts(db_session, lead.id, user=None)
    assert total == 8 and items[0].conversation and items[0].source == "cli"


def test_massachusetts_resident(db_session: Session) -> None:
    lead = ny_lead(db_session, state="MA", postal_code="02139", timezone="America/New_York",
                   phone="+16175550123", phones=[{"number": "+16175550123", "type": "cell"},
                                                 {"number": "+16175550999", "type": "work"}])
    for day, channel in ((12, "call"), (13, "sms")):
        at = datetime(2026, 1, day, 15, tzinfo=UTC)
        service.log_contact(db_session, ContactCreate(lead_id=lead.id, channel=channel, at=at,
                                                      target="617-555-0123"), actor="test", source="api")
    row = db_session.scalars(select(ContactAttempt).where(ContactAttempt.lead_id == lead.id)).first()
    assert row is not None and row.target_type == "cell" and row.target_hint == "+1******0123"
    decision = check(db_session, lead, at=datetime(2026, 1, 14, 15, tzinfo=UTC))
    assert decision.reasons == ["state_ma_2in7"]
    assert decision.next_allowed_at == datetime(2026, 1, 19, 15, tzinfo=UTC)
    assert check(db_session, lead, "email", at=datetime(2026, 1, 14, 15, tzinfo=UTC)).allowed
    # The same ledger for a New York resident is fine.
    other = ny_lead(db_session)
    assert check(db_session, other, at=datetime(2026, 1, 14, 15, tzinfo=UTC)).allowed


def test_workplace_from_phone_type_employer_and_new_job_signal(db_session: Session) -> None:
    lead = ny_lead(db_session, phones=[{"number": CELL, "type": "cell"}, {"number": "+12125550777", "type": "work"}],
                   company_domain="acme.com")
    assert check(db_session, lead, target="+1 (212) 555-0777").reasons == ["workplace"]
    assert check(db_session, lead, "email", target="jordan@acme.com").reasons == ["workplace"]
    assert check(db_session, lead, "email", target="jordan@globex.com").allowed
    make_signal(db_session, lead, organization="Globex Corporation", identity="globex|analyst|1")
    decision = check(db_session, lead, "email", target="jordan@globex.com")
    assert decision.reasons == ["workplace"] and decision.next_allowed_at is None
    assert check(db_session, lead, "email").allowed  # the personal address on file


def test_blocked_window(db_session: Session) -> None:
    lead = ny_lead(db_session)
    window = service.add_blocked_window(db_session, lead, BlockedWindowCreate(start="12:00", end="13:00",
                                                                              channels=["call"]), actor="test")
    decision = check(db_session, lead)
    assert decision.reasons == ["time_window"]
    assert decision.next_allowed_at == datetime(2026, 1, 15, 18, 0, tzinfo=UTC)
    assert check(db_session, lead, "email").allowed
    service.remove_blocked_window(db_session, window.id, actor="test")
    assert check(db_session, lead).allowed
    with pytest.raises(NotFoundError):
        service.remove_blocked_window(db_session, window.id, actor="test")


def test_rule_changes_apply_and_are_audited(db_session: Session) -> None:
    lead = ny_lead(db_session)
    evening = datetime(2026, 1, 16, 1, 30, tzinfo=UTC)  # 20:30 EST
    assert check(db_session, lead, at=evening).allowed
    service.update_rules(db_session, {"window_end": "20:00", "call_frequency_limit": 5}, actor="user:admin")
    assert check(db_session, lead, at=evening).reasons == ["time_window"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.rules.update")).one()
    assert entry.details == {"window_end": {"from": "21:00", "to": "20:00"},
                             "call_frequency_limit": {"from": 7, "to": 5}}
    with pytest.raises(ValidationFailedError) as invalid:
        service.update_rules(db_session, {"window_start": "22:00"}, actor="user:admin")
    assert "window_start" in str(invalid.value.errors)
    with pytest.raises(ValidationFailedError, match="unknown"):
        service.update_rules(db_session, {"bogus": 1}, actor="user:admin")
    config = service.update_rules(db_session, {"window_end": None}, actor="user:admin")
    assert config.window_end.hour == 21 and config.call_frequency_limit == 5
    assert check(db_session, lead, at=evening).allowed


def test_find_lead_across_portfolios(db_session: Session) -> None:
    first, second = make_portfolio(db_session, "book-a"), make_portfolio(db_session, "book-b")
    lead = make_lead(db_session, first, external_id="DUP-1")
    make_lead(db_session, second, external_id="DUP-1")
    with pytest.raises(ValidationFailedError, match="book-a, book-b"):
        service.find_lead(db_session, "DUP-1")
    assert service.find_lead(db_session, "DUP-1", portfolio="book-a").id == lead.id
    with pytest.raises(NotFoundError):
        service.find_lead(db_session, "NOPE")


def test_import_contacts_all_or_nothing(db_session: Session) -> None:
    lead = ny_lead(db_session, external_id="IMP-1")
    bad = ("lead,channel,at,target,conversation\n"
           "IMP-1,call,2026-01-10T15:00:00Z,212-555-0123,yes\n"
           "IMP-1,fax,2026-01-10T16:00:00Z,,no\n"
           "IMP-2,call,yesterday,,maybe\n"
           "IMP-1,call,2026-01-10T17:00:00Z,12,no\n")
    with pytest.raises(ValidationFailedError) as failed:
        service.import_contacts(db_session, bad.encode(), filename="c.csv", actor="test")
    problems = {(e["row"], e["field"]) for e in failed.value.errors}
    assert problems == {(3, "channel"), (4, "lead"), (4, "at"), (4, "conversation"), (5, "target")}
    assert "3 of 4 row(s)" in str(failed.value)
    assert db_session.scalars(select(ContactAttempt).where(ContactAttempt.lead_id == lead.id)).first() is None

    good = ("External ID,Channel,Occurred At,Target,Conversation,Autodialed,Direction\n"
            "IMP-1,call,2026-01-10T15:00:00,212-555-0123,true,false,outbound\n"
            "IMP-1,email,2026-01-10 16:00:00+00:00,jordan@gmail.com,,,\n")
    report = service.import_contacts(db_session, good.encode(), filename="c.csv", actor="test")
    assert (report.total, report.created) == (2, 2)
    items, _ = service.list_contacts(db_session, lead.id, user=None)
    assert [(i.channel, i.source, i.conversation) for i in items] == [("email", "import", False),
                                                                       ("call", "import", True)]
    assert items[1].occurred_at == datetime(2026, 1, 10, 15, tzinfo=UTC)
    assert check(db_session, lead, at=datetime(2026, 1, 12, 15, tzinfo=UTC)).reasons == ["after_conversation_7d"]


def test_agents_act_only_on_visible_leads(db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    foreign = ny_lead(db_session)
    with pytest.raises(NotFoundError):
        service.log_contact(db_session, ContactCreate(lead_id=foreign.id, channel="call", at=NOON_NY),
                            actor="agent", source="api", user=agent)
    with pytest.raises(NotFoundError):
        service.list_contacts(db_session, foreign.id, user=agent)
    csv = f"lead,channel,at\n{foreign.external_id},call,2026-01-10T15:00:00Z\n"
    with pytest.raises(ValidationFailedError):
        service.import_contacts(db_session, csv.encode(), filename="c.csv", actor="agent", user=agent)
