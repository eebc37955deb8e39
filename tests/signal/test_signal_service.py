from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import make_lead, make_signal, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.audit.service import verify_chain
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from upswing.detection.events import CandidateEvent, SignalType
from upswing.signal import service
from upswing.signal.models import Signal, SignalStatus
from upswing.signal.schemas import SignalFilters


def _event(identity: str = "acme|analyst", confidence: float = 0.8) -> CandidateEvent:
    return CandidateEvent(type=SignalType.NEW_EMPLOYMENT, identity=identity, confidence=confidence,
                          snippet="Experience: Analyst at Acme", title="Analyst", organization="Acme",
                          effective_date=date(2026, 10, 1))


def test_same_event_seen_twice_is_one_signal_with_both_observations(db_session: Session) -> None:
    lead = make_lead(db_session)
    first_signal = make_signal(db_session, lead, identity="acme|analyst", confidence=0.8)
    observation_ids = db_session.scalar(select(Signal.observation_ids).where(Signal.id == first_signal))
    assert observation_ids is not None and len(observation_ids) == 1
    second_signal = make_signal(db_session, lead, identity="acme|analyst", confidence=0.95)

    assert second_signal == first_signal
    signal = db_session.get(Signal, first_signal)
    assert signal is not None
    db_session.refresh(signal)
    assert len(signal.observation_ids) == 2
    assert signal.confidence == pytest.approx(0.95)
    assert db_session.scalar(select(func.count()).select_from(Signal)) == 1


def test_same_event_for_two_leads_is_two_signals(db_session: Session) -> None:
    first, second = make_lead(db_session), make_lead(db_session)
    assert make_signal(db_session, first, identity="x|y") != make_signal(db_session, second, identity="x|y")


def test_dedupe_key_depends_on_lead_type_and_identity(db_session: Session) -> None:
    lead = make_lead(db_session)
    key = service.dedupe_key(lead.id, _event())
    assert key == service.dedupe_key(lead.id, _event(confidence=0.1))
    assert key != service.dedupe_key(lead.id, _event(identity="other|analyst"))


def test_lifecycle_transitions_are_enforced_and_audited(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)

    acknowledged = service.change_status(db_session, signal_id, SignalStatus.ACKNOWLEDGED, user=agent)
    assert acknowledged.status is SignalStatus.ACKNOWLEDGED
    again = service.change_status(db_session, signal_id, SignalStatus.ACKNOWLEDGED, user=agent)
    assert again.status is SignalStatus.ACKNOWLEDGED
    dismissed = service.change_status(db_session, signal_id, SignalStatus.DISMISSED, user=agent,
                                      reason="wrong person")
    assert dismissed.status_reason == "wrong person"
    with pytest.raises(ConflictError):
        service.change_status(db_session, signal_id, SignalStatus.ACKNOWLEDGED, user=agent)

    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["signal.acknowledged", "signal.dismissed"]
    assert verify_chain(db_session) is None


def test_viewer_cannot_change_and_stranger_cannot_see(db_session: Session) -> None:
    viewer = make_user(db_session, Role.VIEWER)
    stranger = make_user(db_session, Role.AGENT)
    signal_id = make_signal(db_session, make_lead(db_session))
    with pytest.raises(PermissionDeniedError):
        service.change_status(db_session, signal_id, SignalStatus.ACKNOWLEDGED, user=viewer)
    with pytest.raises(NotFoundError):
        service.get_signal(db_session, signal_id, user=stranger)


def test_list_filters_by_type_status_and_lead(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    lead, other = make_lead(db_session), make_lead(db_session)
    make_signal(db_session, lead, SignalType.PROMOTION)
    certification = make_signal(db_session, lead, SignalType.CERTIFICATION)
    make_signal(db_session, other, SignalType.PROMOTION)
    service.change_status(db_session, certification, SignalStatus.ACKNOWLEDGED, user=manager)

    def count(**filters: object) -> int:
        return service.list_signals(db_session, SignalFilters.model_validate(filters), user=manager)[1]

    assert count() == 3
    assert count(type="promotion") == 2
    assert count(status="acknowledged") == 1
    assert count(lead_id=lead.id) == 2
    assert count(lead_external_id=other.external_id, type="promotion") == 1
    assert count(since="2999-01-01T00:00:00Z") == 0


def test_audit_log_is_append_only(db_session: Session) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    make_user(db_session, Role.ADMIN)
    from upswing.audit.service import record

    record(db_session, actor="test", action="thing.happened", entity_type="thing")
    db_session.flush()
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_log"))
