from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from upswing.audit.models import AuditEntry
from upswing.audit.service import GENESIS_HASH, record, verify_chain


def test_chain_links_each_entry_to_the_previous(db_session: Session) -> None:
    first = record(db_session, actor="cli:test", action="lead.import", entity_type="portfolio", details={"n": 1})
    second = record(db_session, actor="cli:test", action="lead.update", entity_type="lead", entity_id="x")
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert verify_chain(db_session) is None


def test_a_forged_entry_breaks_the_chain(db_session: Session) -> None:
    good = record(db_session, actor="cli:test", action="user.create", entity_type="user")
    db_session.execute(insert(AuditEntry).values(
        at=datetime(2026, 1, 1, tzinfo=UTC), actor="intruder", action="user.create", entity_type="user",
        entity_id=None, details={}, prev_hash=good.hash, hash="f" * 64))
    forged_id = db_session.query(AuditEntry.id).filter(AuditEntry.actor == "intruder").scalar()
    assert verify_chain(db_session) == forged_id
