"""Scheduled privacy work: the daily retention purge, and sealing identifiers in observations stored before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from upswing.core.db import in_short_transactions, transaction
from upswing.core.tasks import scheduled, task
from upswing.privacy import service


@scheduled(every=timedelta(days=1))
@task("privacy.purge")
def purge() -> dict[str, Any]:
    """Apply the privacy mode's retention periods (idempotent: a second run finds nothing left to purge)."""
    with transaction() as session:
        return service.purge(session).as_json()


@scheduled(every=timedelta(hours=1))
@task("privacy.seal", lease=timedelta(hours=1))
def seal_observations() -> int:
    """Seal identifiers in observations stored before sealing existed, a short transaction per batch."""
    return in_short_transactions(service.seal_stored_observations)
