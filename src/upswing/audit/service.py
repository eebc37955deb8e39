"""Append-only, hash-chained audit trail.

Each entry's hash covers its content and the previous entry's hash, so any edit to history breaks the chain
(``verify``); database triggers refuse DELETE, and every UPDATE except sealing. Writers only append (``record``):
no writer reads the end of the chain, so recording a view takes no lock that other requests wait on. The sealer
(``seal``, the ``audit.seal`` task every minute, and before every verification) links unsealed entries into the
chain one at a time under a single lock: position ``seq``, the previous hash and the entry's own hash.

The log can never be edited, so it must never hold personal data (an erasure could not remove it): entries
name people by id only. ``record`` enforces that on every entry: identifier-valued detail keys (``PII_KEYS``)
are replaced by a keyed hash (``pseudonym``), and e-mail addresses and phone numbers inside free text are
masked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from upswing.audit.models import UNSEALED, AuditEntry
from upswing.core.db import utcnow
from upswing.core.pagination import capped_count

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
    """Add an audit entry to the session's transaction (it commits with the change it records; the sealer
    chains it afterwards)."""
    details = redact_details(json.loads(json.dumps(details or {}, default=str)))
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, entity_type=entity_type,
                       entity_id=str(entity_id) if entity_id is not None else None, details=details,
                       prev_hash=UNSEALED, hash=UNSEALED)
    session.add(entry)
    session.flush()
    return entry


def seal(session: Session, *, limit: int = 10_000) -> int:
    """Chain up to ``limit`` unsealed entries, oldest first, after the last sealed one; returns how many.

    One sealer at a time: an advisory lock on PostgreSQL, the write lock on SQLite (the caller's transaction
    is a write transaction). Entries of transactions still open are not visible yet and are sealed next time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('audit_log.seal'))"))
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None))
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    updates: list[dict[str, Any]] = []
    for row in session.execute(
        select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.entity_type,
               AuditEntry.entity_id, AuditEntry.details)
        .where(AuditEntry.seq.is_(None), AuditEntry.hash == UNSEALED).order_by(AuditEntry.id).limit(limit)
    ):
        seq += 1
        entry_hash = _entry_hash(prev_hash, row.at.isoformat(), row.actor, row.action, row.entity_type,
                                 row.entity_id, row.details)
        updates.append({"id": row.id, "seq": seq, "prev_hash": prev_hash, "hash": entry_hash})
        prev_hash = entry_hash
    if updates:
        session.execute(update(AuditEntry), updates)
    return len(updates)


def seal_all(session: Session) -> int:
    """Seal everything committed so far (before a verification)."""
    total = 0
    while sealed := seal(session):
        total += sealed
    return total


def verify_chain(session: Session) -> int | None:
    """Return the id of the first sealed entry whose hash does not check out, or None if the chain is intact."""
    report = verify(session)
    return report.first_broken_id


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    entries: int  # sealed entries checked (up to and including the first broken one)
    first_broken_id: int | None
    last_id: int | None
    last_hash: str | None
    #: Entries appended but not sealed into the chain yet (``seal_all`` first to include them).
    pending: int = 0


def verify(session: Session) -> ChainReport:
    """Walk the whole chain in order: every sealed entry's hash and its link to the previous one."""
    prev_hash = GENESIS_HASH
    checked, last_id = 0, None
    rows = session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                                  AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.details,
                                  AuditEntry.prev_hash, AuditEntry.hash)
                           .where(AuditEntry.seq.is_not(None))
                           .order_by(AuditEntry.seq).execution_options(yield_per=2000))
    for row in rows:
        checked += 1
        expected = _entry_hash(prev_hash, row.at.isoformat(), row.actor, row.action, row.entity_type,
                               row.entity_id, row.details)
        if row.prev_hash != prev_hash or row.hash != expected:
            rows.close()
            return ChainReport(False, checked, row.id, last_id, prev_hash if last_id is not None else None)
        prev_hash, last_id = row.hash, row.id
    # Outside the chain, only unsealed appends may exist: one claiming a hash was written around the sealer.
    forged = session.scalar(select(func.min(AuditEntry.id)).where(AuditEntry.seq.is_(None),
                                                                  AuditEntry.hash != UNSEALED))
    if forged is not None:
        return ChainReport(False, checked + 1, forged, last_id, prev_hash if last_id is not None else None)
    pending = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))) or 0
    return ChainReport(True, checked, None, last_id, prev_hash if last_id is not None else None, pending)


def list_entries(session: Session, *, entity_type: str | None = None, entity_id: str | None = None,
                 actor: str | None = None, action: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100, offset: int = 0,
                 exclude_actions: Collection[str] = ()) -> tuple[list[AuditEntry], int]:
    """Entries matching every given filter (and none of ``exclude_actions``), newest first, and how many match
    in all (up to ``COUNT_CAP``)."""
    query = select(AuditEntry)
    if exclude_actions:
        query = query.where(AuditEntry.action.not_in(list(exclude_actions)))
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
    total, _ = capped_count(session, query)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total
