"""Append-only, hash-chained audit trail.

Each entry's hash covers its content and the previous entry's hash, so any edit to history
breaks the chain (``verify_chain``); the database triggers refuse UPDATE and DELETE outright.

The log can never be edited, so it must never hold personal data (an erasure could not remove it): entries
name people by id only. ``record`` enforces that on every entry: identifier-valued detail keys (``PII_KEYS``)
are replaced by a keyed hash (``pseudonym``), and e-mail addresses and phone numbers inside free text are
masked.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow

GENESIS_HASH = "0" * 64

#: Detail keys whose values identify a person: stored as ``pseudonym(value)``, never in clear.
PII_KEYS = frozenset({
    "subject_key", "email", "emails", "phone", "phones", "first_name", "middle_name", "last_name",
    "full_name", "linkedin_url", "linkedin_public_id", "public_identifier", "address", "birth_date", "target",
})
#: Detail keys holding free text typed by people (notes): phone numbers in them are masked too.
FREE_TEXT_KEYS = frozenset({"note", "comment", "message", "text"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Ten or more digits with the usual separators, not inside a word or id (a phone number with its area code).
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d(?:[\s().-]*\d){9,14}(?![\w-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def pseudonym(value: object) -> str:
    """A keyed hash of a personal identifier: equal inputs match, the value cannot be read back."""
    from upswing.core.crypto import get_key_ring  # late: the key ring reads settings

    return "hmac:" + get_key_ring().blind_index(str(value), kind="audit")[:32]


def _mask_phone(match: re.Match[str]) -> str:
    return match.group() if _DATE.search(match.group()) else "[phone]"


def redact_details(details: Any, key: str | None = None) -> Any:
    """``details`` as stored: identifier keys pseudonymized, e-mail addresses masked everywhere and phone
    numbers masked in free text."""
    if key in PII_KEYS and details is not None:
        if isinstance(details, list | tuple):
            return [pseudonym(item) for item in details]
        return pseudonym(details)
    if isinstance(details, dict):
        return {k: redact_details(v, str(k)) for k, v in details.items()}
    if isinstance(details, list | tuple):
        return [redact_details(item) for item in details]
    if isinstance(details, str):
        masked = _EMAIL.sub("[email]", details) if "@" in details else details
        return _PHONE.sub(_mask_phone, masked) if key in FREE_TEXT_KEYS else masked
    return details



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
    details = redact_details(json.loads(json.dumps(details or {}, default=str)))
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


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    entries: int  # entries checked (up to and including the first broken one)
    first_broken_id: int | None
    last_id: int | None
    last_hash: str | None


def verify(session: Session) -> ChainReport:
    """Walk the whole chain: every entry's hash and link to the previous one."""
    prev_hash = GENESIS_HASH
    checked, last_id = 0, None
    rows = session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                                  AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.details,
                                  AuditEntry.prev_hash, AuditEntry.hash)
                           .order_by(AuditEntry.id).execution_options(yield_per=2000))
    for row in rows:
        checked += 1
        expected = _entry_hash(prev_hash, row.at.isoformat(), row.actor, row.action, row.entity_type,
                               row.entity_id, row.details)
        if row.prev_hash != prev_hash or row.hash != expected:
            rows.close()
            return ChainReport(False, checked, row.id, last_id, prev_hash if last_id is not None else None)
        prev_hash, last_id = row.hash, row.id
    return ChainReport(True, checked, None, last_id, prev_hash if last_id is not None else None)


def list_entries(session: Session, *, entity_type: str | None = None, entity_id: str | None = None,
                 actor: str | None = None, action: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries matching every given filter, newest first, and how many match in all."""
    query = select(AuditEntry)
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total
