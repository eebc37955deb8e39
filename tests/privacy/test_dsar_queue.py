"""The data-subject request queue: deadlines, status transitions, overdue listing, correction, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead
from upswing.audit.models import AuditEntry
from upswing.compliance import service as compliance
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.lead.models import Lead
from upswing.privacy import service
from upswing.privacy.models import DataSubjectRequest, RequestStatus, RequestType
from upswing.privacy.policy import Regime

RECEIVED = datetime(2026, 11, 2, 9, tzinfo=UTC)


def create(session: Session, type_: RequestType = RequestType.ACCESS, **subject: Any) -> DataSubjectRequest:
    return service.create_request(session, type_=type_, subject=service.Subject(**subject),
                                  regime=Regime.CCPA, received_at=RECEIVED, actor="user:dpo")


def test_a_request_gets_its_deadlines_and_finds_the_person(db_session: Session) -> None:
    lead = make_lead(db_session, email="kit@example.org", linkedin_public_id="kit-m")
    make_lead(db_session)  # somebody else
    by_email = service.create_request(db_session, type_=RequestType.ACCESS,
                                      subject=service.Subject(email=" Kit@Example.org "), regime=Regime.CCPA,
                                      received_at=RECEIVED, actor="user:dpo")
    assert by_email.subject_lead_ids == [str(lead.id)]
    assert by_email.acknowledge_by == datetime(2026, 11, 16, 9, tzinfo=UTC)
    assert by_email.due_at == datetime(2026, 12, 17, 9, tzinfo=UTC)
    gdpr = service.create_request(db_session, type_=RequestType.ERASURE, subject=service.Subject(linkedin="kit-m"),
                                  regime=Regime.GDPR, received_at=RECEIVED, actor="user:dpo")
    assert (gdpr.subject_lead_ids, gdpr.acknowledge_by, gdpr.due_at) == (
        [str(lead.id)], None, datetime(2026, 12, 2, 9, tzinfo=UTC))
    assert gdpr.subject_encrypted is not None and "kit" not in gdpr.subject_encrypted  # sealed, not in clear
    assert service.subject_of(gdpr).linkedin == "kit-m"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(gdpr.id))).one()
    assert (entry.action, entry.details) == ("privacy.dsar.create", {"type": "erasure", "regime": "gdpr", "leads": 1})


def test_a_request_needs_an_identifier(db_session: Session) -> None:
    with pytest.raises(ValidationFailedError, match="at least one identifier"):
        service.create_request(db_session, type_=RequestType.ACCESS, subject=service.Subject(first_name="Kit"),
                               actor="user:dpo")


def test_overdue_listing_and_transitions(db_session: Session) -> None:
    late_ack = create(db_session, email="a@example.org")
    acknowledged = create(db_session, email="b@example.org")
    service.acknowledge(db_session, acknowledged.id, actor="user:dpo")
    rejected = create(db_session, email="c@example.org")
    service.reject(db_session, rejected.id, reason="identity could not be verified", actor="user:dpo")

    def overdue(now: datetime) -> list[object]:
        return [r.id for r in service.list_requests(db_session, overdue=True, now=now)[0]]

    assert overdue(RECEIVED + timedelta(days=1)) == []
    # Day 15: the CCPA acknowledgement deadline has passed for the one never acknowledged.
    assert overdue(RECEIVED + timedelta(days=15)) == [late_ack.id]
    # Day 46: both open requests are past the 45-day answer deadline; the rejected one is closed.
    assert set(overdue(RECEIVED + timedelta(days=46))) == {late_ack.id, acknowledged.id}
    service.extend(db_session, acknowledged.id, actor="user:dpo")
    assert overdue(RECEIVED + timedelta(days=46)) == [late_ack.id]
    with pytest.raises(ConflictError, match="already extended"):
        service.extend(db_session, acknowledged.id, actor="user:dpo")
    with pytest.raises(ConflictError, match="already acknowledged"):
        service.acknowledge(db_session, acknowledged.id, actor="user:dpo")
    with pytest.raises(ConflictError, match="rejected"):
        service.start(db_session, rejected.id, actor="user:dpo")
    listed, total = service.list_requests(db_session, status=RequestStatus.REJECTED)
    assert total == 1 and listed[0].rejection_reason == "identity could not be verified"


def test_an_access_request_completes_only_after_its_export(db_session: Session) -> None:
    make_lead(db_session, email="d@example.org")
    request = create(db_session, email="d@example.org")
    with pytest.raises(ConflictError, match="export the data"):
        service.complete(db_session, request.id, actor="user:dpo")
    service.export_request(db_session, request.id, actor="user:dpo")
    done = service.complete(db_session, request.id, actor="user:dpo")
    assert done.status == RequestStatus.COMPLETED.value and done.completed_at is not None
    with pytest.raises(ConflictError, match="completed"):
        service.export_request(db_session, request.id, actor="user:dpo")
    erasure = create(db_session, RequestType.ERASURE, email="d@example.org")
    with pytest.raises(ConflictError, match="completes when it is carried out"):
        service.complete(db_session, erasure.id, actor="user:dpo")
    with pytest.raises(NotFoundError):
        service.get_request(db_session, "not-a-uuid")


def test_correction_updates_every_lead_of_the_person_and_audits_field_names_only(db_session: Session) -> None:
    lead = make_lead(db_session, email="old@example.org", emails=["old@example.org"], last_name="Smyth")
    request = create(db_session, RequestType.CORRECTION, lead_ids=[lead.id])
    with pytest.raises(ValidationFailedError) as invalid:
        service.correct(db_session, request.id, {"email": "not an address", "balance": "0"},
                        actor="user:dpo")
    assert {e["field"] for e in invalid.value.errors} == {"email", "balance"}
    done = service.correct(db_session, request.id, {"last_name": "Smith", "email": "New@Example.org"},
                           actor="user:dpo")
    assert done.status == RequestStatus.COMPLETED.value
    db_session.expire_all()
    corrected = db_session.get(Lead, lead.id)
    assert corrected is not None
    assert (corrected.last_name, corrected.email, corrected.emails[0]) == ("Smith", "new@example.org",
                                                                           "new@example.org")
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.correct")).one()
    assert entry.details == {"request_id": str(request.id), "fields": ["email", "last_name"]}
    assert service.find_leads(db_session, service.Subject(email="new@example.org")) == [lead.id]


def test_opt_out_suppresses_every_address_and_number_of_the_person(db_session: Session) -> None:
    lead = make_lead(db_session, email="opt@example.org", emails=["opt@example.org", "opt.home@example.org"],
                     phone="+15125550123", phones=[{"number": "+15125550123", "type": "cell"}])
    request = create(db_session, RequestType.OPT_OUT, email="opt@example.org")
    done = service.opt_out(db_session, request.id, actor="user:dpo")
    assert (done.status, done.outcome["suppressed"]) == (RequestStatus.COMPLETED.value, 3)
    suppressed, total = compliance.list_suppressions(db_session)
    assert total == 3 and {s.target_kind for s in suppressed} == {"email", "phone"}
    result = compliance.check_contact(db_session, lead, "email", datetime(2026, 11, 24, 15, tzinfo=UTC),
                                      target="opt.home@example.org")
    assert "opted_out" in result.reasons
