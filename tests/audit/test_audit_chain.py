from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from upswing.audit.models import UNSEALED, AuditEntry
from upswing.audit.service import GENESIS_HASH, record, seal, seal_all, verify, verify_chain


def test_chain_links_each_entry_to_the_previous(db_session: Session) -> None:
    first = record(db_session, actor="cli:test", action="lead.import", entity_type="portfolio", details={"n": 1})
    second = record(db_session, actor="cli:test", action="lead.update", entity_type="lead", entity_id="x")
    assert (first.seq, first.hash, second.hash) == (None, UNSEALED, UNSEALED)  # appended, not chained yet
    assert verify(db_session).pending == 2

    assert seal_all(db_session) == 2
    db_session.refresh(first)
    db_session.refresh(second)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert second.seq == first.seq + 1  # type: ignore[operator]
    assert verify_chain(db_session) is None and verify(db_session).pending == 0
    assert seal(db_session) == 0  # nothing left to seal


def test_entries_appended_later_continue_the_chain(db_session: Session) -> None:
    record(db_session, actor="cli:test", action="a", entity_type="x")
    seal_all(db_session)
    later = record(db_session, actor="cli:test", action="b", entity_type="x")
    seal_all(db_session)
    db_session.refresh(later)
    report = verify(db_session)
    assert report.intact and report.last_id == later.id and report.last_hash == later.hash


def test_a_forged_entry_breaks_the_chain(db_session: Session) -> None:
    good = record(db_session, actor="cli:test", action="user.create", entity_type="user")
    seal_all(db_session)
    db_session.refresh(good)
    db_session.execute(insert(AuditEntry).values(
        at=datetime(2026, 1, 1, tzinfo=UTC), actor="intruder", action="user.create", entity_type="user",
        entity_id=None, details={}, prev_hash=good.hash, hash="f" * 64))
    forged_id = db_session.query(AuditEntry.id).filter(AuditEntry.actor == "intruder").scalar()
    assert verify_chain(db_session) == forged_id
    # It does not stop the sealer from chaining honest entries appended after it.
    honest = record(db_session, actor="cli:test", action="user.update", entity_type="user")
    assert seal_all(db_session) == 1
    db_session.refresh(honest)
    assert honest.prev_hash == good.hash


def test_a_forged_entry_placed_in_the_chain_breaks_it(db_session: Session) -> None:
    good = record(db_session, actor="cli:test", action="user.create", entity_type="user")
    seal_all(db_session)
    db_session.refresh(good)
    db_session.execute(insert(AuditEntry).values(
        at=datetime(2026, 1, 1, tzinfo=UTC), actor="intruder", action="user.create", entity_type="user",
        entity_id=None, details={}, seq=(good.seq or 0) + 1, prev_hash=good.hash, hash="f" * 64))
    forged_id = db_session.query(AuditEntry.id).filter(AuditEntry.actor == "intruder").scalar()
    assert verify_chain(db_session) == forged_id
