"""The audit sealer: chains the entries appended since its last run (see ``audit/service.py``)."""

from __future__ import annotations

from datetime import timedelta

from upswing.audit import service
from upswing.core.db import transaction
from upswing.core.tasks import scheduled, task


@scheduled(every=timedelta(minutes=1))
@task("audit.seal", max_attempts=1, lease=timedelta(minutes=10))
def seal() -> int:
    """Seal everything appended so far, a batch per transaction (short write transactions)."""
    total = 0
    while True:
        with transaction() as session:
            sealed = service.seal(session)
        total += sealed
        if not sealed:
            return total
