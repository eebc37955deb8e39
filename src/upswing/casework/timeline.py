"""A lead's timeline: snapshots, signals, their evidence, what specialists did about them, and the contact
ledger, compliance flags, consents and suppressions next to them, in order.

Escalations, actions, acknowledgements, outcomes and dismissals come from the audit log (every one of them,
with who and when; a signal acted on twice shows both); a transition stored on a signal without an audit
entry (none is written that way, but data can be imported) still shows, from the signal's columns.
Contacts show their masked target only (never the number or address).
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
from upswing.compliance import service as compliance
from upswing.compliance.models import ContactAttempt, ContactConsent, LeadComplianceFlag
from upswing.lead.access import visible_lead
from upswing.lead.models import Lead
from upswing.observation.models import Observation, ObservationKind
from upswing.privacy.sealing import mask_identifiers
from upswing.signal.models import Evidence, Signal
from upswing.signal.service import sees_held_out
from upswing.source.models import Source

TimelineKind = Literal["snapshot", "observation", "signal", "evidence", "escalated", "acknowledged", "action",
                       "outcome", "dismissed", "contact", "flag_set", "flag_cleared", "consent_granted",
                       "consent_revoked", "consent_reassigned", "suppressed"]
#: Among items at the same instant: what was seen, then what it meant, then what was done.
_ORDER: dict[str, int] = {"snapshot": 0, "observation": 0, "evidence": 1, "signal": 2, "escalated": 3,
                          "acknowledged": 3, "action": 4, "contact": 5, "outcome": 6, "dismissed": 7, "flag_set": 8,
                          "flag_cleared": 8, "consent_granted": 9, "consent_revoked": 9, "consent_reassigned": 9,
                          "suppressed": 10}
_AUDIT_KINDS: dict[str, TimelineKind] = {
    "signal.acknowledged": "acknowledged", "signal.actioned": "action", "signal.outcome": "outcome",
    "signal.dismissed": "dismissed", "signal.escalated": "escalated",
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
    signals = [signal for signal in session.scalars(select(Signal).where(Signal.lead_id == lead_id))
               if sees_held_out(user) or not signal.holdout]
    items += [_signal_item(signal) for signal in signals]
    if signals:
        ids = [signal.id for signal in signals]
        items += _evidence(session, ids)
        items += _transitions(session, signals)
    items += _contacts(session, lead_id)
    items += _flags(session, lead_id)
    items += _consents(session, lead_id)
    items += _suppressions(session, lead)
    items.sort(key=lambda item: (item.at, _ORDER[item.kind]))
    return LeadTimeline(lead_id=lead.id, lead_external_id=lead.external_id, lead_name=lead.full_name, items=items)


def _short(text: str | None) -> str:
    text = mask_identifiers(" ".join((text or "").split()))
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
    if kind == "escalated":  # nobody acknowledged it in time (escalation.service)
        to = ", ".join(str(name) for name in details.get("to") or ()) or "nobody (no manager or admin to tell)"
        return _short(f"escalated: level {details.get('level')}, not acknowledged by {details.get('due_at')}, "
                      f"to {to}")
    value = details.get("action") or details.get("outcome") or details.get("reason")
    text = kind if value is None else f"{kind}: {value}"
    if details.get("note"):
        text += f" — {details['note']}"
    return _short(text)


def _contacts(session: Session, lead_id: uuid.UUID) -> list[TimelineItem]:
    items = []
    for row in session.scalars(select(ContactAttempt).where(ContactAttempt.lead_id == lead_id)):
        what = f"{row.direction} {row.channel}" + (" (conversation)" if row.conversation else "")
        if row.target_hint:
            what += f" to {row.target_hint}"
        if row.override_reason:
            what += f" — guard overridden: {row.override_reason}"
        items.append(TimelineItem(
            at=row.occurred_at, kind="contact", summary=_short(what), signal_id=row.signal_id, actor=row.actor,
            details={"contact_id": str(row.id), "channel": row.channel, "direction": row.direction,
                     "conversation": row.conversation, "autodialed": row.autodialed, "target": row.target_hint,
                     "target_type": row.target_type, "outcome": row.outcome, "note": row.note, "source": row.source,
                     "override_reason": row.override_reason, "overridden_reasons": row.overridden_reasons}))
    return items


def _flags(session: Session, lead_id: uuid.UUID) -> list[TimelineItem]:
    items = []
    for row in session.scalars(select(LeadComplianceFlag).where(LeadComplianceFlag.lead_id == lead_id)):
        items.append(TimelineItem(at=row.set_at, kind="flag_set", actor=row.set_by,
                                  summary=_short(f"flag set: {row.flag}" + (f" — {row.note}" if row.note else "")),
                                  details={"flag": row.flag, "note": row.note}))
        if row.cleared_at is not None:
            note = f" — {row.clear_note}" if row.clear_note else ""
            items.append(TimelineItem(at=row.cleared_at, kind="flag_cleared", actor=row.cleared_by,
                                      summary=_short(f"flag cleared: {row.flag}{note}"),
                                      details={"flag": row.flag, "note": row.clear_note}))
    return items


def _consents(session: Session, lead_id: uuid.UUID) -> list[TimelineItem]:
    items = []
    for row in session.scalars(select(ContactConsent).where(ContactConsent.lead_id == lead_id)):
        events: list[tuple[TimelineKind, datetime | None, str | None]] = [
            ("consent_granted", row.granted_at, row.granted_by), ("consent_revoked", row.revoked_at, row.revoked_by),
            ("consent_reassigned", row.reassigned_at, row.reassigned_by)]
        for kind, at, actor in events:
            if at is not None:
                label = kind.replace("_", " ")
                items.append(TimelineItem(at=at, kind=kind, actor=actor, summary=f"{label}: {row.target_hint}",
                                          details={"target": row.target_hint, "source": row.source}))
    return items


def _suppressions(session: Session, lead: Lead) -> list[TimelineItem]:
    return [TimelineItem(at=row.created_at, kind="suppressed", actor=row.created_by,
                         summary=_short(f"opted out: {row.target_hint}" + (f" — {row.reason}" if row.reason else "")),
                         details={"target": row.target_hint, "kind": row.target_kind, "reason": row.reason,
                                  "source": row.source})
            for row in compliance.suppressions_for_lead(session, lead)]
