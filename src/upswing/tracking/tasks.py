"""The tracking domain's tasks: the daily retention purge."""

from __future__ import annotations

from datetime import timedelta

from upswing.core import tasks
from upswing.core.db import transaction
from upswing.tracking import service


@tasks.scheduled(every=timedelta(days=1))
@tasks.task("tracking.purge")
def purge() -> list[int]:
    """Consented events and visitors past the privacy mode's retention; old anonymous daily counts."""
    with transaction() as session:
        result = service.purge(session)
    return [result.events, result.visitors, result.daily_counts]
