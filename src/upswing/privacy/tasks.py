"""Scheduled privacy work: the daily retention purge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from upswing.core.db import transaction
from upswing.core.tasks import scheduled, task
from upswing.privacy import service


@scheduled(every=timedelta(days=1))
@task("privacy.purge")
def purge() -> dict[str, Any]:
    """Apply the privacy mode's retention periods (idempotent: a second run finds nothing left to purge)."""
    with transaction() as session:
        return service.purge(session).as_json()
