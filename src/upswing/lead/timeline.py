"""A lead's timeline: snapshots, signals, their evidence, and what specialists did about them, in order.

Actions, acknowledgements, outcomes and dismissals come from the audit log (every one of them, with
who and when; a signal acted on twice shows both); a transition stored on a signal without an audit
entry (none is written that way, but data can be imported) still shows, from the signal's columns.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit.models import AuditEntry
from upswing.lead.service import visible_lead
from upswing.observation.models import Observation, ObservationKind
from upswing.signal.models import Evidence, Signal
from upswing.source.models import Source

TimelineKind = Literal["snapshot", "observation", "signal", "evidence", "acknowledged", "action", "outcome",
                       "dismissed"]
#: Among items at the same instant: what was seen, then what it meant, then what was done.
_ORDER: dict[str, int] = {"snapshot": 0, "observation": 0, "evidence": 1, "signal": 2, "acknowledged": 3,
                          "action": 4, "outcome": 5, "dismissed": 6}
_AUDIT_KINDS: dict[str, TimelineKind] = {
    "signal.acknowledged": "acknowledged", "signal.actioned": "action", "signal.outcome": "outcome",
    "signal.dismissed": "dismissed",
}
SUMMARY_LENGTH = 200


class TimelineItem(BaseModel):
    at: datetime
    kind: TimelineKind
    summary: str
    signal_id: uuid.UUID | None = None
    observation_id: uuid.UUID | None = None
    actor: str | None = Field(default=None, description="Who made the change (actions, outcomes, …)")
    details: dict[str, Any] = Field(default_factory=dict)


class LeadTimeline(BaseModel):
    lead_id: uuid.UUID
    lead_external_id: str
    lead_name: str
    items: list[TimelineItem]


def timeline(session: Session, lead_id: uuid.UUID, *, user: User | None) -> LeadTimeline:
    """The lead's history, oldest first (``user=None``: the operator, who sees every lead)."""
    lead = visible_lead(session, lead_id, user)
    items = _observations(session, lead_id)
    signals = list(session.scalars(select(Signal).where(Signal.lead_id == lead_id)))
    items += [_signal_item(signal) for signal in signals]
    if signals:
        ids = [signal.id for signal in signals]
        items += _evidence(session, ids)
        items += _transitions(session, signals)
    items.sort(key=lambda item: (item.at, _ORDER[item.kind]))
    return LeadTimeline(lead_id=lead.id, lead_external_id=lead.external_id, lead_name=lead.full_name, items=items)


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1] + "…"


def snapshot_summary(normalized: dict[str, Any]) -> str:
    """``"Dental Assistant at Bright Smiles · Helping smiles"``: the current positions, then the headline."""
    positions = []
    for experience in normalized.get("experiences") or ():
        if isinstance(experience, dict) and experience.get("current"):
            title, company = experience.get("title"), experience.get("company")
            positions.append(" at ".join(part for part in (title, company) if part))
    parts = ["; ".join(p for p in positions if p) or "no current position"]
    if normalized.get("open_to_work"):
        parts.append("open to work")
    if normalized.get("headline"):
        parts.append(str(normalized["headline"]))
    return _short(" · ".join(parts))


def _observations(session: Session, lead_id: uuid.UUID) -> list[TimelineItem]:
    items = []
    for row in session.execute(
        select(Observation.id, Observation.kind, Observation.version, Observation.observed_at, Observation.url,
               Observation.shape, Observation.normalized, Source.slug)
        .join(Source, Source.id == Observation.source_id).where(Observation.lead_id == lead_id)
    ):
        normalized = row.normalized or {}
        if row.kind == ObservationKind.PROFILE.value:
            kind: TimelineKind = "snapshot"
            summary = snapshot_summary(normalized)
        else:
            kind = "observation"
            summary = _short(str(normalized.get("title") or normalized.get("text") or row.url or row.kind))
        items.append(TimelineItem(at=row.observed_at, kind=kind, summary=summary, observation_id=row.id,
                                  details={"version": row.version, "source": row.slug, "shape": row.shape,
                                           "url": row.url, "observation_kind": row.kind}))
    return items


def _signal_item(signal: Signal) -> TimelineItem:
    what = " at ".join(part for part in (signal.title, signal.organization) if part)
    summary = f"{signal.type}{': ' + what if what else ''} (score {signal.score}, {signal.priority})"
    return TimelineItem(at=signal.detected_at, kind="signal", summary=_short(summary), signal_id=signal.id,
                        details={"type": signal.type, "title": signal.title, "organization": signal.organization,
                                 "effective_date": signal.effective_date.isoformat() if signal.effective_date
                                 else None, "confidence": signal.confidence, "score": signal.score,
                                 "priority": signal.priority, "score_breakdown": signal.score_breakdown,
                                 "status": signal.status})


def _evidence(session: Session, signal_ids: list[uuid.UUID]) -> list[TimelineItem]:
    return [
        TimelineItem(at=item.observed_at, kind="evidence", summary=_short(item.snippet), signal_id=item.signal_id,
                     observation_id=item.observation_id,
                     details={"url": item.url, "source": item.source, "evidence_kind": item.kind,
                              "confidence": item.confidence})
        for item in session.scalars(select(Evidence).where(Evidence.signal_id.in_(signal_ids)))
    ]


def _transitions(session: Session, signals: list[Signal]) -> list[TimelineItem]:
    by_id = {str(signal.id): signal for signal in signals}
    items: list[TimelineItem] = []
    audited: set[tuple[str, TimelineKind]] = set()
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "signal", AuditEntry.entity_id.in_(list(by_id)),
                                 AuditEntry.action.in_(list(_AUDIT_KINDS)))
    ):
        kind = _AUDIT_KINDS[entry.action]
        assert entry.entity_id is not None
        audited.add((entry.entity_id, kind))
        details = dict(entry.details)
        items.append(TimelineItem(at=entry.at, kind=kind, summary=_transition_summary(kind, details),
                                  signal_id=uuid.UUID(entry.entity_id), actor=entry.actor, details=details))
    for signal_id, signal in by_id.items():  # stored on the signal but never audited
        stored: list[tuple[TimelineKind, datetime | None, str | None]] = [
            ("action", signal.actioned_at, signal.action), ("outcome", signal.outcome_at, signal.outcome)]
        for kind, at, value in stored:
            if at is not None and value is not None and (signal_id, kind) not in audited:
                details = {kind: value, "note": signal.status_reason}
                items.append(TimelineItem(at=at, kind=kind, summary=_transition_summary(kind, details),
                                          signal_id=signal.id, details=details))
    return items


def _transition_summary(kind: str, details: dict[str, Any]) -> str:
    value = details.get("action") or details.get("outcome") or details.get("reason")
    text = kind if value is None else f"{kind}: {value}"
    if details.get("note"):
        text += f" — {details['note']}"
    return _short(text)
