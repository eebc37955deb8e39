"""What the linker learns from people's feedback, delivered by the event outbox (``core.outbox``)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from upswing.core.outbox import Event, consumer
from upswing.resolution.service import record_non_match

WRONG_PERSON = "wrong_person"


@consumer("resolution.learn_non_match", "signal.dismissed", "signal.updated")
def learn_non_match(session: Session, event: Event) -> None:
    """A signal dismissed as, or resolved with, "wrong person": the subject its evidence was about is not this
    lead, and no later ingest may link them again (the event carries the subject key; the signal domain
    computed it when the person said so)."""
    payload = event.payload
    if WRONG_PERSON not in (payload.get("reason"), payload.get("outcome")):
        return
    subject_key = payload.get("subject_key")
    if not subject_key or event.lead_id is None:
        return  # nothing identifies who the evidence was about
    record_non_match(session, lead_id=uuid.UUID(str(event.lead_id)), subject_key=str(subject_key),
                     actor=event.actor or "system", reason=WRONG_PERSON)
