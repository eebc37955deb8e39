"""Turning candidate events into signals (one per real event), and the signal lifecycle."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, Table, func, select, update
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit import service as audit
from upswing.core.bulk import bulk_insert
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from upswing.detection.events import CandidateEvent
from upswing.lead.access import can_see_lead, visible_leads_clause
from upswing.lead.models import Lead
from upswing.signal.models import Signal, SignalStatus
from upswing.signal.schemas import SignalFilters, SignalRead

_SIGNALS: Table = Signal.__table__  # type: ignore[assignment]


def dedupe_key(lead_id: uuid.UUID, event: CandidateEvent) -> str:
    """The same real event for the same lead always gets the same key, whatever saw it."""
    return hashlib.sha256(f"{lead_id}|{event.type.value}|{event.identity}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SightedEvent:
    """A candidate event together with the lead and observation it came from."""

    lead_id: uuid.UUID
    observation_id: uuid.UUID
    evidence_url: str | None
    event: CandidateEvent


@dataclass
class UpsertResult:
    created: int = 0
    merged: int = 0


def upsert_events(session: Session, sightings: Sequence[SightedEvent]) -> UpsertResult:
    """Create a signal per new event; attach the evidence of events already known to their signal.

    Works in bulk: one SELECT for the batch's keys, one INSERT for the new signals.
    """
    result = UpsertResult()
    if not sightings:
        return result
    by_key: dict[str, SightedEvent] = {}
    extra_evidence: dict[str, list[str]] = {}
    for sighting in sightings:
        key = dedupe_key(sighting.lead_id, sighting.event)
        if key in by_key:
            extra_evidence.setdefault(key, []).append(str(sighting.observation_id))
        else:
            by_key[key] = sighting
    existing = {
        row.dedupe_key: row
        for row in session.execute(
            select(Signal.id, Signal.dedupe_key, Signal.observation_ids, Signal.confidence)
            .where(Signal.dedupe_key.in_(list(by_key)))
        )
    }
    now = utcnow()
    new_rows = []
    merges = []
    for key, sighting in by_key.items():
        observation_ids = [str(sighting.observation_id), *extra_evidence.get(key, [])]
        known = existing.get(key)
        if known is None:
            event = sighting.event
            new_rows.append({
                "id": uuid.uuid4(), "lead_id": sighting.lead_id, "type": event.type.value,
                "title": event.title, "organization": event.organization,
                "effective_date": event.effective_date, "detected_at": now,
                "confidence": event.confidence, "evidence_url": sighting.evidence_url,
                "evidence_snippet": event.snippet, "observation_ids": observation_ids,
                "status": SignalStatus.NEW.value, "dedupe_key": key, "created_at": now, "updated_at": now,
            })
            continue
        merged_ids = list(known.observation_ids)
        added = [oid for oid in observation_ids if oid not in merged_ids]
        if added:
            merges.append({"id": known.id, "observation_ids": merged_ids + added,
                           "confidence": max(known.confidence, sighting.event.confidence), "updated_at": now})
    if new_rows:
        bulk_insert(session, _SIGNALS, new_rows)
    if merges:
        session.execute(update(Signal), merges)
    result.created = len(new_rows)
    result.merged = len(merges)
    return result


def _read(signal: Signal, lead: Lead) -> SignalRead:
    return SignalRead.model_validate({
        **{c: getattr(signal, c) for c in SignalRead.model_fields if hasattr(signal, c)},
        "lead_external_id": lead.external_id, "lead_name": lead.full_name,
    })


def _filtered(user: User | None, filters: SignalFilters) -> Select[Signal, Lead]:
    query = select(Signal, Lead).join(Lead, Lead.id == Signal.lead_id)
    if user is not None:
        query = query.where(visible_leads_clause(user))
    if filters.type is not None:
        query = query.where(Signal.type == filters.type.value)
    if filters.status is not None:
        query = query.where(Signal.status == filters.status.value)
    if filters.lead_id is not None:
        query = query.where(Signal.lead_id == filters.lead_id)
    if filters.lead_external_id is not None:
        query = query.where(Lead.external_id == filters.lead_external_id)
    if filters.since is not None:
        query = query.where(Signal.detected_at >= filters.since)
    if filters.until is not None:
        query = query.where(Signal.detected_at < filters.until)
    return query


def list_signals(session: Session, filters: SignalFilters, *, user: User | None) -> tuple[list[SignalRead], int]:
    """Signals the user may see (``user=None``: the CLI, which runs with the operator's rights)."""
    query = _filtered(user, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Signal.detected_at.desc(), Signal.id).limit(filters.limit).offset(filters.offset)
    ).all()
    return [_read(signal, lead) for signal, lead in rows], total


def iter_all_signals(session: Session, *, since: datetime | None = None) -> list[SignalRead]:
    query = _filtered(None, SignalFilters(since=since)).order_by(Signal.detected_at, Signal.id)
    return [_read(signal, lead) for signal, lead in session.execute(query)]


def _load_visible(session: Session, signal_id: uuid.UUID, user: User) -> tuple[Signal, Lead]:
    row = session.execute(
        select(Signal, Lead).join(Lead, Lead.id == Signal.lead_id).where(Signal.id == signal_id)
    ).first()
    # A signal on a lead the user may not see is reported as absent, not forbidden.
    if row is None or not can_see_lead(user, row[1]):
        raise NotFoundError(f"signal {signal_id} not found")
    return row[0], row[1]


def get_signal(session: Session, signal_id: uuid.UUID, *, user: User) -> SignalRead:
    return _read(*_load_visible(session, signal_id, user))


_TRANSITIONS: dict[SignalStatus, set[SignalStatus]] = {
    SignalStatus.NEW: {SignalStatus.ACKNOWLEDGED, SignalStatus.ACTIONED, SignalStatus.DISMISSED},
    SignalStatus.ACKNOWLEDGED: {SignalStatus.ACTIONED, SignalStatus.DISMISSED},
    SignalStatus.ACTIONED: set(),
    SignalStatus.DISMISSED: set(),
}


def change_status(session: Session, signal_id: uuid.UUID, new_status: SignalStatus, *, user: User,
                  reason: str | None = None) -> SignalRead:
    signal, lead = _load_visible(session, signal_id, user)
    if user.role == "viewer":
        raise PermissionDeniedError("viewers cannot change signals")
    current = SignalStatus(signal.status)
    if new_status == current:
        return _read(signal, lead)  # idempotent: acknowledging twice is not an error
    if new_status not in _TRANSITIONS[current]:
        raise ConflictError(f"signal is {current.value}; it cannot become {new_status.value}")
    signal.status = new_status.value
    signal.status_reason = reason
    signal.status_changed_by = user.id
    signal.status_changed_at = utcnow()
    audit.record(session, actor=f"user:{user.username}", action=f"signal.{new_status.value}",
                 entity_type="signal", entity_id=signal.id,
                 details={"from": current.value, "to": new_status.value, "reason": reason})
    session.flush()
    return _read(signal, lead)
