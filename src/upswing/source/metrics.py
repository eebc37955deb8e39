"""Source health and budgets as gauges, read when ``/metrics`` is scraped (``core/metrics.py``: cached, under a
short statement timeout). Labels are source slugs and budget names, set by admins: no personal data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.core.metrics import Sample, declare_gauge
from upswing.source.models import BudgetUsage, Source, SourceState
from upswing.source.service import effective_budgets, today

declare_gauge("upswing_source_state", "1 for each source's current state (ok, degraded, blocked, disabled), "
              "0 for the others")
declare_gauge("upswing_source_consecutive_failures", "Runs of the source that failed in a row")
declare_gauge("upswing_source_budget_used", "Units of a daily budget the source spent today (UTC)")
declare_gauge("upswing_source_budget_limit", "The source's daily limit of that budget (budgets without a "
              "limit are not reported)")


def source_gauges(session: Session) -> list[Sample]:
    sources = list(session.scalars(select(Source).order_by(Source.slug)))
    used: dict[tuple[object, str], int] = {
        (row.source_id, row.name): row.used
        for row in session.execute(select(BudgetUsage.source_id, BudgetUsage.name, BudgetUsage.used)
                                   .where(BudgetUsage.day == today()))}
    samples: list[Sample] = []
    for source in sources:
        state = source.state if source.enabled else SourceState.DISABLED.value
        samples += [Sample("upswing_source_state", 1.0 if state == value.value else 0.0,
                           {"source": source.slug, "state": value.value}) for value in SourceState]
        samples.append(Sample("upswing_source_consecutive_failures", float(source.consecutive_failures or 0),
                              {"source": source.slug}))
        limits = effective_budgets(source)
        names = sorted(set(limits) | {name for (source_id, name) in used if source_id == source.id})
        for name in names:
            labels = {"source": source.slug, "budget": name}
            samples.append(Sample("upswing_source_budget_used", float(used.get((source.id, name), 0)), labels))
            if name in limits:
                samples.append(Sample("upswing_source_budget_limit", float(limits[name]), labels))
    return samples
