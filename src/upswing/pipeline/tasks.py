"""Source tasks: run one source, and the schedule that keeps every lead watched."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from upswing.core.db import transaction, utcnow
from upswing.core.logging import get_logger
from upswing.core.tasks import enqueue, scheduled, task
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.source import service
from upswing.source.models import SourceState

log = get_logger(__name__)
MONITOR_EVERY = timedelta(minutes=15)
#: Enrichment before About pages: a domain found in this round is scraped in the same round's later run.
_ORDER = {"company-domain": 0, "firecrawl-about": 1}


@task("source.run", max_attempts=3, retry_delay=timedelta(minutes=2), lease=timedelta(hours=2))
def run_source(slug: str, lead_ids: list[str] | None = None) -> dict[str, Any]:
    """Fetch what is due for one source (or exactly ``lead_ids``). Idempotent: a re-run fetches only what
    is still due, and content hashes keep a re-fetched item from being stored twice."""
    try:
        report = MonitoringEngine().run(
            slug, lead_ids=[uuid.UUID(lead) for lead in lead_ids] if lead_ids else None,
            scheduled=lead_ids is None, actor="task:source.run")
    except (service.SourceDisabledError, service.SourceNotConfiguredError) as exc:
        log.info("source.run_skipped", source=slug, reason=str(exc))  # retrying would not help
        return {"slug": slug, "skipped": str(exc)}
    return report.model_dump(mode="json")


@scheduled(every=MONITOR_EVERY)
@task("source.monitor")
def monitor() -> list[str]:
    """Enqueue a run of every enabled source that is not blocked; each run takes only what is due."""
    period = int(utcnow().timestamp() // MONITOR_EVERY.total_seconds())
    queued: list[str] = []
    with transaction() as session:
        sources = sorted(service.ensure_sources(session), key=lambda s: (_ORDER.get(s.slug, 0), s.slug))
        for source in sources:
            if (not source.enabled or source.state == SourceState.BLOCKED.value
                    or service.connector_of(source) is None):  # e.g. the file-import source
                continue
            if enqueue(session, "source.run", source.slug, key=f"source.run:{source.slug}@monitor:{period}"):
                queued.append(source.slug)
    return queued
