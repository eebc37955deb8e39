"""Feedback on a signal's type: people confirm or correct it, and each text behind the signal becomes a labelled
example for retraining the text classifiers (``upswing model train --include-feedback`` reads them back with
``load_labelled_examples``).

A correction also changes the signal while nobody has acted on it yet (status ``new`` or ``acknowledged``):
to another event type, the signal is retyped and rescored; to ``none`` ("this is no event"), it is dismissed
as not relevant. After an action or an outcome, or once dismissed, the signal's history stays as it was and
only the example is kept: retyping it then would rewrite what the specialist acted on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.audit import service as audit
from upswing.core.errors import PermissionDeniedError, ValidationFailedError
from upswing.detection.events import NON_TEXT_TYPES, SignalType
from upswing.detection.text import COMPANY_INTENTS, NO_SIGNAL, PERSON_EVENT_LABELS, label_for_signal_type
from upswing.observation.models import Observation, ObservationKind
from upswing.observation.text import classified_text
from upswing.signal import service
from upswing.signal.models import DismissReason, LabelledExample, SignalStatus
from upswing.signal.schemas import SignalRead

__all__ = ["FeedbackOutcome", "labels_for", "load_labelled_examples", "record_feedback"]

_OPEN = (SignalStatus.NEW.value, SignalStatus.ACKNOWLEDGED.value)


def labels_for(kind: str) -> tuple[str, ...]:
    """The classifier's labels for texts about a person or a company."""
    if kind == "company":
        return (*COMPANY_INTENTS, NO_SIGNAL)
    if kind == "person":
        return (*PERSON_EVENT_LABELS, NO_SIGNAL)
    raise ValueError(f"kind must be person or company, not {kind!r}")


def _label(kind: str, value: str) -> str:
    """A label in the classifier's space: ``intent_growth`` and ``growth`` are the same company label."""
    label = value.strip().lower()
    if kind == "company":
        label = label.removeprefix("intent_")
    if label not in labels_for(kind):
        raise ValidationFailedError(
            f"label {value!r} is not a {kind} label", [{"row": None, "field": "label",
                                                        "message": f"one of {', '.join(labels_for(kind))}"}])
    return label


@dataclass(frozen=True)
class FeedbackOutcome:
    signal: SignalRead
    label: str
    examples_stored: int
    type_changed: bool
    dismissed: bool


def record_feedback(session: Session, signal_id: uuid.UUID, *, correct: bool, label: str | None,
                    user: User) -> FeedbackOutcome:
    """Store the feedback as labelled examples (one per text observation in the signal's evidence), audit it,
    and retype or dismiss the signal as the module docstring says. Does not commit."""
    signal, lead = service._load(session, signal_id, user)
    if user.role == Role.VIEWER.value:
        raise PermissionDeniedError("viewers cannot give feedback on signals")
    if signal.type in NON_TEXT_TYPES:
        raise ValidationFailedError(
            f"a {signal.type} signal was not read from a text: feedback trains the text classifiers (dismiss it "
            "instead)", [{"row": None, "field": "label", "message": "no text classifier makes this type"}])
    kind, current = label_for_signal_type(signal.type)
    if correct:
        if label is not None and _label(kind, label) != current:
            raise ValidationFailedError("a confirmation cannot name another label; send correct=false to correct it",
                                        [{"row": None, "field": "label", "message": f"expected {current} or none"}])
        new_label = current
    else:
        new_label = _label(kind, label) if label is not None else NO_SIGNAL
        if new_label == current:
            raise ValidationFailedError("a correction must name a label other than the signal's own",
                                        [{"row": None, "field": "label", "message": f"the signal is {current}"}])
    ids = [uuid.UUID(oid) for oid in signal.observation_ids]
    texts = session.execute(
        select(Observation.id, Observation.normalized)
        .where(Observation.id.in_(ids), Observation.kind == ObservationKind.TEXT.value)
    ).all() if ids else []
    for observation_id, normalized in texts:
        session.add(LabelledExample(text=classified_text(normalized), label=new_label, kind=kind, correct=correct,
                                    previous_label=current, signal_id=signal.id, observation_id=observation_id,
                                    user_id=user.id))
    type_changed = dismissed = False
    if not correct and signal.status in _OPEN:
        if new_label == NO_SIGNAL:
            dismissed = True
        else:
            signal.type = (SignalType(f"intent_{new_label}") if kind == "company" else SignalType(new_label)).value
            type_changed = True
    audit.record(session, actor=f"user:{user.username}", action="signal.feedback", entity_type="signal",
                 entity_id=signal.id,
                 details={"correct": correct, "label": new_label, "previous_label": current, "kind": kind,
                          "examples": len(texts), "type_changed": type_changed, "dismissed": dismissed,
                          "lead_id": str(lead.id)})
    session.flush()
    if dismissed:
        read = service.dismiss(session, signal.id, DismissReason.NOT_RELEVANT, user=user,
                               note=f"feedback: not a {current} event")
    else:
        if type_changed:
            service.rescore(session, lead_ids=[lead.id])  # the type's weight is part of the score
        read = service.get_signal(session, signal.id, user=user)
    return FeedbackOutcome(read, new_label, len(texts), type_changed, dismissed)


def load_labelled_examples(session: Session, kind: str) -> list[tuple[str, str]]:
    """(text, label) for every text people labelled, for the person or the company classifier. When a text
    was labelled more than once, the latest label wins; the order is that of the first feedback."""
    labels_for(kind)  # refuses an unknown kind
    latest: dict[str, str] = {}
    for text, label in session.execute(
        select(LabelledExample.text, LabelledExample.label).where(LabelledExample.kind == kind)
        .order_by(LabelledExample.created_at, LabelledExample.id)
    ):
        latest[text] = label
    return list(latest.items())
