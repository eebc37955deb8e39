"""The alert domain's outbox consumer and tasks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from upswing.alert import sending, service
from upswing.core import tasks
from upswing.core.db import transaction, utcnow
from upswing.core.outbox import Event, batch_consumer
from upswing.notify.stream import StreamEvent
from upswing.settings import get_settings
from upswing.signal.service import SIGNAL_CREATED, SIGNAL_UPDATED


@batch_consumer("alert.evaluate", SIGNAL_CREATED, SIGNAL_UPDATED, batch_size=100, retry_delay=timedelta(seconds=5))
def evaluate(session: Session, events: Sequence[Event]) -> None:
    """Alerts for new signals, or ones that new evidence changed (the score may now meet a rule); a working
    specialist's changes are not news."""
    ids = [uuid.UUID(e.entity_id) for e in events
           if e.type == SIGNAL_CREATED or e.payload.get("change") == "evidence"]
    service.on_signals(session, list(dict.fromkeys(ids)))


@tasks.scheduled(every=timedelta(seconds=30))
@tasks.task(service.SEND_TASK, max_attempts=1, lease=timedelta(minutes=10), realtime=True)
def send() -> int:
    """Send due e-mail and webhook deliveries (enqueued after each commit that made some, and every 30 s for
    retries and the end of quiet hours)."""
    return sending.send_due().processed


@tasks.scheduled(every=timedelta(days=1))
@tasks.task("alerts.purge_stream")
def purge_stream() -> int:
    """Forget live-stream events older than the retention (the alerts themselves stay)."""
    cutoff = utcnow() - timedelta(days=get_settings().stream_retention_days)
    with transaction() as session:
        return int(session.execute(delete(StreamEvent).where(StreamEvent.created_at < cutoff))
                   .rowcount)  # type: ignore[attr-defined]
