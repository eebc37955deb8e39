"""The matching domain's consumer and task: a lead's matches recomputed on its new signals, the book daily."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from upswing.core import tasks
from upswing.core.db import transaction
from upswing.core.outbox import Event, batch_consumer
from upswing.matching import service
from upswing.signal.service import SIGNAL_CREATED, SIGNAL_DISMISSED


@batch_consumer("matching.recompute_on_signal", SIGNAL_CREATED, SIGNAL_DISMISSED, batch_size=200)
def recompute_on_signal(session: Session, events: Sequence[Event]) -> None:
    """A lead's signal was created or dismissed: its needs (and employment) changed, so its matches are scored
    again (once per lead per batch; idempotent: the same facts give the same rows)."""
    lead_ids = sorted({event.lead_id for event in events if event.lead_id is not None}, key=str)
    if lead_ids:
        service.compute_matches(session, lead_ids)


@tasks.scheduled(every=timedelta(days=1))
@tasks.task("matching.recompute_all")
def recompute_all() -> int:
    """Every lead matched against today's catalog (recency decays, services start and end), a page per
    transaction."""
    total = 0
    after: uuid.UUID | None = None
    while True:
        with transaction() as session:
            ids = service.lead_ids_to_match(session, after=after)
            if not ids:
                return total
            service.compute_matches(session, ids)
        total += len(ids)
        after = ids[-1]
