"""Source tasks: run one source, and the schedule that keeps every lead watched."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from upswing.core.db import transaction, utcnow
from upswing.core.logging import get_logger
from upswing.core.tasks import enqueue, scheduled, task
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.settings import get_settings
from upswing.source import service
from upswing.source.models import SourceState

log = get_logger(__name__)
MONITOR_EVERY = timedelta(minutes=15)
#: Enrichment before About pages: a domain found in this round is scraped in the same round's later run.
_ORDER = {"company-domain": 0, "firecrawl-about": 1}


@task("source.run", max_attempts=3, retry_delay=timedelta(minutes=2), lease=timedelta(hours=2))
def run_source(slug: str, lead_ids: list[str] | None = None, *, round_key: str | None = None,
               part: int = 0) -> dict[str, Any]:
    """Fetch what is due for one source (or exactly ``lead_ids``). Idempotent: a re-run fetches only what
    is still due, and content hashes keep a re-fetched item from being stored twice.

    Without ``lead_ids`` the run is one part of a round (``round_key``): it takes at most
    ``monitor_leads_per_run`` due leads and, when it found that many, queues the round's next part as soon as
    its own leads are leased, so the other workers share the round while this one fetches."""
    per_run = get_settings().monitor_leads_per_run if lead_ids is None else None
    round_key = round_key or f"run:{utcnow():%Y-%m-%dT%H:%M}"

    def next_part(planned: int) -> None:
        if per_run is not None and planned >= per_run:
            with transaction() as session:
                enqueue(session, "source.run", slug, key=f"source.run:{slug}@{round_key}:{part + 1}",
                        round_key=round_key, part=part + 1)

    try:
        report = MonitoringEngine().run(
            slug, lead_ids=[uuid.UUID(lead) for lead in lead_ids] if lead_ids else None, max_targets=per_run,
            continuing=part > 0, scheduled=lead_ids is None, actor="task:source.run", on_plan=next_part)
    except (service.SourceDisabledError, service.SourceNotConfiguredError) as exc:
        log.info("source.run_skipped", source=slug, reason=str(exc))  # retrying would not help
        return {"slug": slug, "skipped": str(exc)}
    return report.model_dump(mode="json") | ({"round": round_key, "part": part} if per_run is not None else {})


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
            if enqueue(session, "source.run", source.slug, key=f"source.run:{source.slug}@monitor:{period}",
                       round_key=f"monitor:{period}"):
                queued.append(source.slug)
    return queued
