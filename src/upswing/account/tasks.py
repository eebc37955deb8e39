"""Scheduled account work: the daily purge of expired tokens, sessions and forgotten login failures."""

from __future__ import annotations

from datetime import timedelta

from upswing.account import service
from upswing.core.db import transaction
from upswing.core.tasks import scheduled, task
from upswing.settings import get_settings


@scheduled(every=timedelta(days=1))
@task("account.purge")
def purge() -> dict[str, int]:
    """Delete expired refresh tokens and sessions and stale throttle rows (idempotent)."""
    with transaction() as session:
        return service.purge_expired(session, get_settings())
