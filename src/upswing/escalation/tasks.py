"""Scheduled tasks."""

from __future__ import annotations

from datetime import timedelta

from upswing.core import tasks
from upswing.core.db import transaction, utcnow
from upswing.escalation import service


@tasks.scheduled(every=timedelta(minutes=1))
@tasks.task("escalation.run", max_attempts=1, lease=timedelta(minutes=10))
def run() -> int:
    """Escalate the signals whose business deadline passed while nobody acknowledged them (every minute; a missed
    minute is caught up by the next run: deadlines are compared, not waited for)."""
    with transaction() as session:
        return service.run(session, utcnow())
