"""Scheduled signal work: the daily rescore (a signal's recency decays, so yesterday's urgent may be high)."""

from __future__ import annotations

from datetime import timedelta

from upswing.core.db import transaction, utcnow
from upswing.core.logging import get_logger
from upswing.core.tasks import scheduled, task
from upswing.signal import service

log = get_logger(__name__)
#: Leads rescored per transaction: short write transactions keep the embedded database responsive.
LEADS_PER_TRANSACTION = 2000


@scheduled(every=timedelta(days=1))
@task("signal.rescore", lease=timedelta(hours=2))
def rescore_open_signals() -> int:
    """Recompute the scores of every lead that has an open signal; returns how many signals changed."""
    now = utcnow()
    with transaction() as session:
        lead_ids = service.leads_with_open_signals(session)
    changed = scored = 0
    for start in range(0, len(lead_ids), LEADS_PER_TRANSACTION):
        with transaction() as session:
            result = service.rescore(session, lead_ids=lead_ids[start:start + LEADS_PER_TRANSACTION], now=now,
                                     open_only=True)
        changed += result.changed
        scored += result.signals
    log.info("signal.rescored", leads=len(lead_ids), signals=scored, changed=changed)
    return changed
