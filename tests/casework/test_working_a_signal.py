"""Working a signal goes through the contact guard and the ledger, on SQLite and PostgreSQL: a refused contact
writes nothing, an allowed one writes the action and its ledger entry together, overrides follow the admin's
settings, and outcomes feed the ledger and the flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import make_lead, make_signal, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.casework import service as casework
from upswing.casework.timeline import timeline
from upswing.compliance import service as compliance
from upswing.compliance.models import ContactAttempt
from upswing.core.errors import ValidationFailedError
from upswing.core.outbox import OutboxEvent
from upswing.lead.models import Lead
from upswing.signal import service as signals
from upswing.signal.models import Signal, SignalAction, SignalOutcome

CELL = "+15125550123"
#: 23:56 in Austin (CST, UTC-6): the guard's time window is closed.
LATE_NIGHT = datetime(2026, 12, 8, 5, 56, tzinfo=UTC)
#: 10:00 in Austin.
MORNING = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def texas_lead(session: Session, **fields: Any) -> Lead:
    values: dict[str, Any] = {"state": "TX", "postal_code": "78701", "city": "Austin", "timezone": "America/Chicago",
                              "phone": CELL, "phones": [{"number": CELL, "type": "cell"}]}
    values.update(fields)
    return make_lead(session, **values)


def counts(session: Session) -> tuple[int, int, int]:
    """Ledger entries, audit entries and outbox events: what a refused action must not add to."""
    return (session.scalar(select(func.count()).select_from(ContactAttempt)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


def test_a_call_refused_by_the_guard_writes_nothing(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    before = counts(db_session)

    with pytest.raises(casework.ContactRefused) as refused:
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=agent, now=LATE_NIGHT)

    assert refused.value.decision.reasons == ["time_window"]
    # 08:00 the next morning in Austin.
    assert refused.value.decision.next_allowed_at == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    assert refused.value.body["next_allowed_at"] == "2026-12-08T14:00:00+00:00"
    assert counts(db_session) == before
    signal = db_session.get(Signal, signal_id)
    assert signal is not None and (signal.status, signal.action) == ("new", None)


def test_an_allowed_call_is_in_the_ledger_and_the_timeline(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)

    result = casework.record_action(db_session, signal_id, SignalAction.CALL, user=agent, note="left a voicemail",
                                    now=MORNING)

    assert (result.status, result.action) == ("actioned", "call")
    entry = db_session.scalars(select(ContactAttempt).where(ContactAttempt.lead_id == lead.id)).one()
    assert (entry.channel, entry.signal_id, entry.occurred_at, entry.source) == ("call", signal_id, MORNING, "api")
    assert entry.target_hint is not None and CELL not in entry.target_hint  # masked
    assert entry.override_reason is None
    events = set(db_session.scalars(select(OutboxEvent.type).where(OutboxEvent.lead_id == lead.id)))
    assert {"signal.updated", "contact.logged"} <= events

    items = timeline(db_session, lead.id, user=agent).items
    contact = next(item for item in items if item.kind == "contact")
    assert contact.signal_id == signal_id and contact.details["channel"] == "call"
    assert [item.kind for item in items].index("action") < [item.kind for item in items].index("contact")
    # The seven-in-seven rule now counts this call: logging it twice is no longer needed.
    assert compliance.check_contact(db_session, lead, "call", MORNING + timedelta(hours=1)).allowed


def test_sms_is_an_action_and_needs_consent_for_an_autodialed_text(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    with pytest.raises(casework.ContactRefused) as refused:
        casework.record_action(db_session, signal_id, SignalAction.SMS, user=agent, autodialed=True, now=MORNING)
    assert refused.value.decision.reasons == ["no_tcpa_consent"] and refused.value.decision.next_allowed_at is None

    compliance.record_consent(db_session, lead, CELL, actor="test", source="application form")
    result = casework.record_action(db_session, signal_id, SignalAction.SMS, user=agent, autodialed=True,
                                    now=MORNING)
    assert result.action == "sms"
    assert db_session.scalars(select(ContactAttempt.channel).where(ContactAttempt.lead_id == lead.id)).one() == "sms"


def test_a_crm_task_is_not_a_contact(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    result = casework.record_action(db_session, signal_id, SignalAction.CRM_TASK, user=agent, now=LATE_NIGHT)
    assert result.action == "crm_task"
    assert db_session.scalar(select(func.count()).select_from(ContactAttempt)) == 0
    with pytest.raises(ValidationFailedError, match="override_reason"):
        casework.record_action(db_session, signal_id, SignalAction.CRM_TASK, user=agent,
                               override_reason="the borrower asked for it", now=LATE_NIGHT)


def test_overrides_follow_the_admins_settings_and_are_audited(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    reason = "Borrower asked by e-mail to be called after 11 pm (shift worker)"

    with pytest.raises(casework.ContactRefused, match="reserved to: nobody"):  # the default: nobody may
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=manager, override_reason=reason,
                               now=LATE_NIGHT)
    compliance.update_rules(db_session, {"override_roles": ["manager"]}, actor="test")
    with pytest.raises(casework.ContactRefused, match="reserved to: manager"):
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=agent, override_reason=reason,
                               now=LATE_NIGHT)

    result = casework.record_action(db_session, signal_id, SignalAction.CALL, user=manager, override_reason=reason,
                                    now=LATE_NIGHT)
    assert result.action == "call"
    entry = db_session.scalars(select(ContactAttempt)).one()
    assert (entry.override_reason, entry.overridden_reasons) == (reason, ["time_window"])
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.guard.override")).one()
    assert audited.details["reasons"] == ["time_window"] and audited.details["override_reason"] == reason

    # A cease request is never overridable by default, whoever asks.
    compliance.set_flag(db_session, lead, "cease", active=True, actor="test")
    with pytest.raises(casework.ContactRefused, match="cannot be overridden: cease"):
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=manager, override_reason=reason,
                               now=MORNING)


def test_a_dispute_outcome_sets_the_flag_and_stops_contact(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    casework.record_action(db_session, signal_id, SignalAction.CALL, user=agent, now=MORNING)
    casework.record_outcome(db_session, signal_id, SignalOutcome.DISPUTE, user=agent, note="says it is not hers")

    assert "dispute" in {flag.value for flag in compliance.active_flags(db_session, lead.id)}
    decision = compliance.check_contact(db_session, lead, "email", MORNING + timedelta(days=1))
    assert not decision.allowed and "dispute" in decision.reasons
    kinds = [item.kind for item in timeline(db_session, lead.id, user=agent).items]
    assert "flag_set" in kinds and "outcome" in kinds


def test_a_conversation_outcome_counts_for_the_seven_day_rule(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    casework.record_action(db_session, signal_id, SignalAction.CALL, user=agent, now=MORNING)
    tomorrow = MORNING + timedelta(days=1)
    assert compliance.check_contact(db_session, lead, "call", tomorrow).allowed

    casework.record_outcome(db_session, signal_id, SignalOutcome.PROMISE_TO_PAY, user=agent)

    assert db_session.scalars(select(ContactAttempt.conversation)).one() is True
    decision = compliance.check_contact(db_session, lead, "call", tomorrow)
    assert decision.reasons == ["after_conversation_7d"]
    assert decision.next_allowed_at == MORNING + timedelta(days=7)


def test_an_e_mail_outcome_is_not_a_phone_conversation(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    casework.record_action(db_session, signal_id, SignalAction.EMAIL, user=agent, now=MORNING)
    casework.record_outcome(db_session, signal_id, SignalOutcome.CONVERSATION, user=agent)
    assert db_session.scalars(select(ContactAttempt.conversation)).one() is False
    assert compliance.check_contact(db_session, lead, "call", MORNING + timedelta(days=1)).allowed


def test_the_timeline_shows_flags_consents_and_suppressions(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    lead = texas_lead(db_session, email="jo@example.org", emails=["jo@example.org"])
    make_signal(db_session, lead)
    compliance.set_flag(db_session, lead, "attorney", active=True, actor="test", note="represented")
    compliance.set_flag(db_session, lead, "attorney", active=False, actor="test", note="no longer")
    compliance.record_consent(db_session, lead, CELL, actor="test", source="form")
    compliance.record_consent(db_session, lead, CELL, action="revoke", actor="test")
    compliance.suppress(db_session, "jo@example.org", actor="test", source="api", reason="replied STOP")
    compliance.suppress(db_session, "someone.else@example.org", actor="test", source="api")

    items = timeline(db_session, lead.id, user=manager).items
    kinds = [item.kind for item in items]
    for kind in ("signal", "flag_set", "flag_cleared", "consent_granted", "consent_revoked", "suppressed"):
        assert kind in kinds, kind
    suppressed = [item for item in items if item.kind == "suppressed"]
    assert len(suppressed) == 1 and "jo@example.org" not in suppressed[0].summary  # masked, and only this lead's
    assert all(CELL not in item.summary for item in items)


def test_working_a_signal_keeps_the_lifecycle_rules(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    viewer = make_user(db_session, Role.VIEWER)
    lead = texas_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    from upswing.core.errors import NotFoundError, PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=viewer, now=MORNING)
    with pytest.raises(NotFoundError):
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=make_user(db_session), now=MORNING)
    signals.dismiss(db_session, signal_id, signals.DismissReason.NOT_RELEVANT, user=agent)
    with pytest.raises(signals.ConflictError):
        casework.record_action(db_session, signal_id, SignalAction.CALL, user=agent, now=MORNING)
    assert db_session.scalar(select(func.count()).select_from(ContactAttempt)) == 0
