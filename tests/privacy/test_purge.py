"""Retention: the dry run counts exactly what the purge then removes; what must stay, stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead, make_signal
from upswing.audit.models import AuditEntry
from upswing.observation.models import Observation
from upswing.privacy import service
from upswing.privacy.models import DataSubjectRequest, RequestType
from upswing.privacy.policy import policy_for
from upswing.settings import Settings
from upswing.signal.models import Signal
from upswing.source.service import file_source

NOW = datetime(2026, 11, 22, 3, tzinfo=UTC)
POLICY = policy_for(Settings(retention_raw_payload_days=30, retention_observation_days=365,
                             retention_signal_days=365))


def observation(session: Session, lead_id: uuid.UUID | None, *, age_days: int, raw: dict[str, Any],
                observed_days: int | None = None) -> uuid.UUID:
    created = NOW - timedelta(days=age_days)
    observed = NOW - timedelta(days=observed_days if observed_days is not None else age_days)
    row = Observation(source_id=file_source(session).id, lead_id=lead_id, kind="profile", raw=raw, normalized={},
                      content_hash=uuid.uuid4().hex * 2, observed_at=observed, last_observed_at=observed,
                      created_at=created)
    session.add(row)
    session.flush()
    return row.id


def counts(report: service.PurgeReport) -> dict[tuple[str, str], int]:
    return {(item.table, item.what.split(" ")[0]): item.count for item in report.items}


def test_dry_run_counts_what_the_purge_removes(db_session: Session) -> None:
    lead = make_lead(db_session)
    old_signal = make_signal(db_session, lead, observed_at=NOW - timedelta(days=400))
    db_session.get(Signal, old_signal).detected_at = NOW - timedelta(days=400)  # type: ignore[union-attr]
    worked_signal = make_signal(db_session, lead, identity="kept", organization="Globex", title="Clerk")
    worked = db_session.get(Signal, worked_signal)
    assert worked is not None
    worked.detected_at, worked.status = NOW - timedelta(days=400), "actioned"  # someone is working on it
    fresh_raw = observation(db_session, lead.id, age_days=5, raw={"a": 1})
    stale_raw = observation(db_session, None, age_days=60, raw={"a": 2})
    ancient = observation(db_session, None, age_days=500, raw={"a": 3})
    latest_of_lead = observation(db_session, make_lead(db_session).id, age_days=500, raw={"a": 4}, observed_days=450)
    closed = service.create_request(db_session, type_=RequestType.ACCESS, subject=service.Subject(email="x@y.org"),
                                    actor="test", received_at=NOW - timedelta(days=800))
    service.reject(db_session, closed.id, reason="duplicate request", actor="test")
    closed.completed_at = NOW - timedelta(days=790)
    db_session.flush()

    dry = service.purge(db_session, dry_run=True, now=NOW, policy=POLICY)
    assert dry.dry_run and db_session.scalar(select(Observation.raw).where(Observation.id == stale_raw)) == {"a": 2}
    expected = counts(dry)
    # Raw payloads: everything stored over 30 days ago with a payload (the factory's signal observations are {}).
    assert expected[("observations", "raw")] == 3
    assert expected[("signals", "deleted")] == 1 and expected[("evidence", "deleted")] == 1
    # Old observations: the unlinked ancient one and the old signal's evidence; not the lead's latest snapshot
    # nor the evidence of the signal being worked on.
    assert expected[("observations", "deleted")] == 2
    assert expected[("privacy_requests", "closed")] == 1

    done = service.purge(db_session, now=NOW, policy=POLICY, actor="test")
    assert counts(done) == expected
    assert db_session.get(Signal, old_signal) is None and db_session.get(Signal, worked_signal) is not None
    assert db_session.get(Observation, ancient) is None
    kept = db_session.get(Observation, latest_of_lead)
    assert kept is not None and kept.raw == {}
    assert db_session.scalar(select(Observation.raw).where(Observation.id == fresh_raw)) == {"a": 1}
    assert db_session.get(DataSubjectRequest, closed.id) is None
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.purge")).one()
    assert entry.details["dry_run"] is False

    again = service.purge(db_session, now=NOW, policy=POLICY)
    assert all(item.count == 0 for item in again.items)  # idempotent
