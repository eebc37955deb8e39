"""The audit sealer: chains the entries appended since its last run (see ``audit/service.py``)."""

from __future__ import annotations

from datetime import timedelta

from upswing.audit import service
from upswing.core.db import in_short_transactions
from upswing.core.tasks import scheduled, task


@scheduled(every=timedelta(minutes=1))
@task("audit.seal", max_attempts=1, lease=timedelta(minutes=10))
def seal() -> int:
    """Seal everything appended so far, a batch per transaction (short write transactions)."""
    return in_short_transactions(service.seal)
