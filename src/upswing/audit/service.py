"""Append-only, hash-chained audit trail.

Each entry's hash covers its content and the previous entry's hash, so any edit to history
breaks the chain (``verify_chain``); the database triggers refuse UPDATE and DELETE outright.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow

GENESIS_HASH = "0" * 64


def _entry_hash(prev_hash: str, at: str, actor: str, action: str, entity_type: str,
                entity_id: str | None, details: dict[str, Any]) -> str:
    payload = json.dumps([prev_hash, at, actor, action, entity_type, entity_id, details],
                         sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, entity_type: str,
           entity_id: object | None = None, details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit entry to the session's transaction (it commits with the change it records)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialize writers so two transactions can never chain onto the same previous entry.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('audit_log'))"))
    last = session.execute(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = last or GENESIS_HASH
    at = utcnow()
    details = json.loads(json.dumps(details or {}, default=str))
    entity = str(entity_id) if entity_id is not None else None
    entry = AuditEntry(
        at=at, actor=actor, action=action, entity_type=entity_type, entity_id=entity, details=details,
        prev_hash=prev_hash,
        hash=_entry_hash(prev_hash, at.isoformat(), actor, action, entity_type, entity, details),
    )
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> int | None:
    """Return the id of the first entry whose hash does not check out, or None if the chain is intact."""
    prev_hash = GENESIS_HASH
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        expected = _entry_hash(prev_hash, entry.at.isoformat(), entry.actor, entry.action,
                               entry.entity_type, entry.entity_id, entry.details)
        if entry.prev_hash != prev_hash or entry.hash != expected:
            return entry.id
        prev_hash = entry.hash
    return None
