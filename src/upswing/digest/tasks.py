"""The digest scheduler."""

from __future__ import annotations

from datetime import timedelta

from upswing.core import tasks
from upswing.digest import service


@tasks.scheduled(every=timedelta(minutes=1))
@tasks.task("digest.run", max_attempts=1, lease=timedelta(minutes=10))
def run() -> int:
    """Record the digests whose local send time has passed (each user's own transaction); the ``alerts.send``
    task sends them."""
    report = service.run()
    return report.queued + report.empty + report.suppressed
