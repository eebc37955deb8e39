"""The source-health report (docs/analytics.md): every configured source with what the source domain keeps about it
— enabled, state, last run, last success, last error and failures in a row, today's budget spent against its limit —
and the observations it stored in the range for the leads in scope (the ``sources`` rollup for built days, live for
the others).

Sources serve every team, so their state is the same in every scope; the observation counts follow the scope (the
whole scope includes observations linked to no lead). The last error's message may name what was fetched: only
admins see it, as only they see it in the sources API.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.analytics.facts import source_facts
from upswing.analytics.rollup import SOURCE_TABLE, SOURCES, plan, rolled, staleness_note
from upswing.analytics.schemas import (
    MAX_GROUPS,
    AnalyticsColumn,
    AnalyticsQuery,
    SourceHealthReport,
    SourceHealthRow,
)
from upswing.analytics.scope import base, resolve_scope, window
from upswing.core.db import utcnow
from upswing.source.models import BudgetUsage, Source
from upswing.source.service import effective_budgets

#: Sources one query may return.
_LIMIT = MAX_GROUPS + 1
SOURCE_HEALTH_COLUMNS = [
    AnalyticsColumn(name="source", label="Source", kind="text"),
    AnalyticsColumn(name="name", label="Name", kind="text"),
    AnalyticsColumn(name="enabled", label="Enabled", kind="boolean"),
    AnalyticsColumn(name="state", label="State", kind="text"),
    AnalyticsColumn(name="last_run_at", label="Last run", kind="datetime"),
    AnalyticsColumn(name="last_success_at", label="Last success", kind="datetime"),
    AnalyticsColumn(name="last_error_at", label="Last error", kind="datetime"),
    AnalyticsColumn(name="consecutive_failures", label="Failures in a row", kind="count"),
    AnalyticsColumn(name="last_error", label="Last error message", kind="text"),
    AnalyticsColumn(name="budget_used", label="Budget used today", kind="count"),
    AnalyticsColumn(name="budget_limit", label="Budget today", kind="count"),
    AnalyticsColumn(name="budget_used_share", label="Budget used share", kind="rate"),
    AnalyticsColumn(name="observations", label="Observations stored", kind="count"),
]


def _limit(source: Source, used: dict[str, int]) -> int | None:
    """Today's limit of the budgets the source has or spent; None when one of them is unlimited (or none has a
    limit)."""
    limits = effective_budgets(source)  # the connector's defaults (from its settings), the admin's limits over them
    names = set(limits) | set(used)
    if not names or any(limits.get(name) is None for name in names):
        return None
    return sum(limits[name] for name in names)


def source_health_report(session: Session, user: User, query: AnalyticsQuery, *, today: date | None = None,
                         rollups: bool = True) -> SourceHealthReport:
    """One row per source, by slug."""
    today = today or utcnow().date()
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    found = plan(session, SOURCES, win, today=today, rollups=rollups)
    observations: dict[uuid.UUID, int] = defaultdict(int)
    for row in rolled(session, SOURCE_TABLE, found.rolled, scope, ("source_id",), ("observations",), limit=_LIMIT):
        observations[row.source_id] += int(row.observations)
    if found.live:
        for row in source_facts(session, found.live, scope, ("source_id",), limit=_LIMIT):
            observations[row.source_id] += int(row.observations)
    spent: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for source_id, name, used in session.execute(
            select(BudgetUsage.source_id, BudgetUsage.name, func.sum(BudgetUsage.used))
            .where(BudgetUsage.day == today).group_by(BudgetUsage.source_id, BudgetUsage.name)):
        spent[source_id][name] = int(used or 0)
    admin = user.role == Role.ADMIN.value
    rows = []
    for source in session.scalars(select(Source).order_by(Source.slug)):
        used = sum(spent[source.id].values())
        limit = _limit(source, spent[source.id])
        rows.append(SourceHealthRow(
            source=source.slug, name=source.name, connector=source.connector, enabled=source.enabled,
            state=source.state, last_run_at=source.last_run_at, last_success_at=source.last_success_at,
            last_error_at=source.last_error_at, consecutive_failures=source.consecutive_failures or 0,
            last_error=source.last_error if admin else None, budget_used=used, budget_limit=limit,
            budget_used_share=round(used / limit, 4) if limit else None,
            observations=observations.get(source.id, 0)))
    notes = ["State, runs, errors and today's budget (UTC day) are as the source domain holds them now; observations "
             "are those each source stored in the range, for the leads in scope (all teams: unlinked ones too).",
             "Only admins see the last error's message (it may name what was fetched)."]
    stale = staleness_note(found, "observations")
    if stale:
        notes.append(stale)
    return SourceHealthReport(**base(win, scope, SOURCE_HEALTH_COLUMNS, notes, False), rows=rows)
