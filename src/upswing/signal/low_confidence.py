"""The low-confidence list: texts whose top guess is an event the classifier is not sure enough of.

Below its type's confidence threshold (the precision floor, ``detection.training.choose_thresholds``) a text
makes no signal: a false "new job" wastes a specialist's call. Its guess is kept on the observation
(``guess_label``, ``guess_confidence``) and listed here for people to label. A label is stored as a labelled
example (``upswing model train --include-feedback`` trains on it) and takes the text off the list; labelling it
an event also makes the signal it would have made.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.audit import service as audit
from upswing.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.core.pagination import decode_cursor, encode_cursor
from upswing.core.timeparse import parse_timestamp
from upswing.detection.classifier import Prediction, split_sentences
from upswing.detection.text import NO_SIGNAL, PERSON_EVENT_LABELS, analyze_texts, snippet_of, to_candidate_events
from upswing.lead.access import visible_leads_clause
from upswing.lead.models import Lead
from upswing.observation.models import Observation, ObservationKind
from upswing.observation.text import classified_text
from upswing.signal.models import EvidenceKind, LabelledExample
from upswing.signal.service import SightedEvent, upsert_events

__all__ = ["LowConfidenceItem", "LowConfidencePage", "label_text", "list_low_confidence"]

_CURSOR_KIND = "low-confidence"


@dataclass(frozen=True)
class LowConfidenceItem:
    observation_id: uuid.UUID
    lead_id: uuid.UUID
    lead_name: str
    best_label: str
    confidence: float
    snippet: str
    url: str | None
    observed_at: datetime


@dataclass(frozen=True)
class LowConfidencePage:
    items: list[LowConfidenceItem]
    next_cursor: str | None


def list_low_confidence(session: Session, user: User, *, label: str | None = None, lead_id: uuid.UUID | None = None,
                        limit: int = 50, cursor: str | None = None) -> LowConfidencePage:
    """Unlabelled low-confidence texts on the leads the user may see, newest first (keyset pages)."""
    if label is not None and label not in PERSON_EVENT_LABELS:
        raise ValidationFailedError(f"label {label!r} is not an event type", [
            {"row": None, "field": "label", "message": f"one of {', '.join(PERSON_EVENT_LABELS)}"}])
    query = (
        select(Observation, Lead)
        .join(Lead, Lead.id == Observation.lead_id)
        .where(Observation.guess_label.is_not(None), visible_leads_clause(user))
        .order_by(Observation.observed_at.desc(), Observation.id.desc())
        .limit(limit + 1)
    )
    if label is not None:
        query = query.where(Observation.guess_label == label)
    if lead_id is not None:
        query = query.where(Observation.lead_id == lead_id)
    if cursor:
        when, last_id = decode_cursor(cursor, _CURSOR_KIND)
        after = parse_timestamp(when) if isinstance(when, str) else None
        if after is None:
            raise ValidationFailedError("cursor: not a cursor of this list", [{"row": None, "field": "cursor",
                                                                              "message": "invalid cursor"}])
        query = query.where(tuple_(Observation.observed_at, Observation.id) < (after, uuid.UUID(str(last_id))))
    rows = session.execute(query).all()
    items = [_item(observation, lead) for observation, lead in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return LowConfidencePage(items, encode_cursor(_CURSOR_KIND, [last.observed_at, last.id]) if last else None)


def _item(observation: Observation, lead: Lead) -> LowConfidenceItem:
    return LowConfidenceItem(
        observation_id=observation.id, lead_id=lead.id, lead_name=lead.full_name,
        best_label=observation.guess_label or NO_SIGNAL, confidence=float(observation.guess_confidence or 0.0),
        snippet=snippet_of(classified_text(observation.normalized), None), url=observation.url,
        observed_at=observation.observed_at,
    )


@dataclass(frozen=True)
class LabelOutcome:
    observation_id: uuid.UUID
    label: str
    previous_label: str
    signals_created: int


def label_text(session: Session, observation_id: uuid.UUID, label: str, *, user: User) -> LabelOutcome:
    """Store a person's label for a low-confidence text, take it off the list, and (for an event) make the
    signal. Does not commit."""
    if user.role == Role.VIEWER.value:
        raise PermissionDeniedError("viewers cannot label texts")
    label = label.strip().lower()
    if label != NO_SIGNAL and label not in PERSON_EVENT_LABELS:
        raise ValidationFailedError(f"label {label!r} is not a person label", [{
            "row": None, "field": "label", "message": f"one of {', '.join((*PERSON_EVENT_LABELS, NO_SIGNAL))}"}])
    found = session.execute(
        select(Observation, Lead).join(Lead, Lead.id == Observation.lead_id)
        .where(Observation.id == observation_id, Observation.kind == ObservationKind.TEXT.value,
               Observation.guess_label.is_not(None), visible_leads_clause(user))
    ).first()
    if found is None:
        raise NotFoundError("no low-confidence text with this id (labelled already, or not yours to see)")
    observation, lead = found
    previous = observation.guess_label or NO_SIGNAL
    text = classified_text(observation.normalized)
    session.add(LabelledExample(text=text, label=label, kind="person", correct=label == previous,
                                previous_label=previous, signal_id=None, observation_id=observation.id,
                                user_id=user.id))
    observation.guess_label = None
    observation.guess_confidence = None
    created = 0
    if label != NO_SIGNAL:
        created = _make_signal(session, observation, lead.id, text, label)
    audit.record(session, actor=f"user:{user.username}", action="observation.labelled", entity_type="observation",
                 entity_id=observation.id,
                 details={"label": label, "previous_label": previous, "lead_id": str(lead.id),
                          "signals_created": created})
    session.flush()
    return LabelOutcome(observation.id, label, previous, created)


def _make_signal(session: Session, observation: Observation, lead_id: uuid.UUID, text: str, label: str) -> int:
    """The signal the text makes once a person has said what it is: the label is theirs, the rest (title,
    dates, evidence) is read from the text as for any other."""
    published = parse_timestamp(observation.normalized.get("published_at"))
    reference: date = (published or observation.observed_at).date()
    analysis = analyze_texts([text], kind="person", reference_date=reference, classifier=_Labelled(label))[0]
    events = to_candidate_events(analysis, observed_on=observation.observed_at.date())
    sightings = [SightedEvent(lead_id, observation.id, observation.url, event, kind=EvidenceKind.TEXT,
                              observed_at=observation.observed_at) for event in events]
    return upsert_events(session, sightings).created


class _Labelled:
    """A classifier that answers with a person's label (confidence 1): extraction then reads the text as usual."""

    def __init__(self, label: str) -> None:
        self.label = label

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return [Prediction(self.label, 1.0, (split_sentences(text) or [(0, len(text))])[0]) for text in texts]
