"""The outcome domain's consumer and tasks: outcomes recorded on signals, promises settled daily."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from upswing.core import tasks
from upswing.core.db import transaction
from upswing.core.outbox import Event, consumer
from upswing.outcome import service
from upswing.signal.service import SIGNAL_UPDATED


@consumer("outcome.from_signal", SIGNAL_UPDATED)
def from_signal(session: Session, event: Event) -> None:
    """A signal resolved with a payment, promise to pay or dispute: the lead's outcome (once per signal and kind)."""
    if event.payload.get("change") != "resolved":
        return
    service.record_signal_outcome(session, uuid.UUID(event.entity_id), str(event.payload.get("outcome")),
                                  on=event.created_at.date(), actor=event.actor or "system")


@tasks.scheduled(every=timedelta(days=1))
@tasks.task("outcomes.settle_promises")
def settle_promises() -> list[int]:
    """Promises past due: kept or broken by the payments that followed them."""
    with transaction() as session:
        kept, broken = service.settle_promises(session)
    return [kept, broken]
