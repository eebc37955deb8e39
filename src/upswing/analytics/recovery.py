"""The recovery report (docs/analytics.md): what the leads in scope paid and promised, per day or week, and how
long their first payment took — from the outcomes of the leads (``outcome`` domain), by the day each occurred,
owned by the lead's team and assignee.

Days before today come from the ``recovery`` rollup where built, the others are counted live (``facts.py``); a
week's leads paying are added up from its days' ``week_first_payers`` (or ``week_last_payers`` when the range cuts
the week's start), so that a lead paying twice in a week counts once either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.analytics import histogram
from upswing.analytics.facts import (
    PAYMENT_MEASURES,
    PROMISE_MEASURES,
    as_date,
    payers_between,
    payment_facts,
    promise_facts,
)
from upswing.analytics.histogram import FIRST_PAYMENT_DAYS
from upswing.analytics.rollup import RECOVERY, RECOVERY_TABLE, plan, rolled, staleness_note
from upswing.analytics.schemas import (
    MAX_GROUPS,
    AnalyticsBucket,
    AnalyticsColumn,
    BucketQuery,
    RecoveryReport,
    RecoveryRow,
)
from upswing.analytics.scope import Scope, base, rate, resolve_scope, window
from upswing.core.db import utcnow

RECOVERY_COLUMNS = [
    AnalyticsColumn(name="bucket", label="Day", kind="date"),
    AnalyticsColumn(name="payments", label="Payments", kind="count"),
    AnalyticsColumn(name="recovered", label="Recovered ($)", kind="dollars"),
    AnalyticsColumn(name="leads_paying", label="Leads paying", kind="count"),
    AnalyticsColumn(name="promises", label="Promises made", kind="count"),
    AnalyticsColumn(name="promises_kept", label="Kept", kind="count"),
    AnalyticsColumn(name="promises_broken", label="Broken", kind="count"),
    AnalyticsColumn(name="kept_rate", label="Kept rate", kind="rate"),
]
_MEASURES = (*PAYMENT_MEASURES, *PROMISE_MEASURES)
#: Rows one query may return (a day per row: the range's at most 366 days, or a bucket per day and first-payment
#: bucket).
_LIMIT = MAX_GROUPS + 1


def _add(days: dict[date, dict[str, Any]], rows: Iterable[Any], measures: Iterable[str],
         first: dict[int, int] | None = None) -> None:
    names = tuple(measures)
    for row in rows:
        values = row._mapping
        counts = days.setdefault(as_date(values["day"]), {**dict.fromkeys(_MEASURES, 0), "recovered": Decimal(0)})
        for name in names:
            counts[name] += Decimal(str(values[name] or 0)) if name == "recovered" else int(values[name] or 0)
        if first is not None and "fp" in values and values["fp"] is not None:
            histogram.add(first, {int(values["fp"]): int(values["first_payers"])})


def _week_payers(session: Session, days: dict[date, dict[str, Any]], monday: date, first: date, last: date,
                 scope: Scope) -> int:
    """Leads paying on the week's days in the range (``first``..``last``): each lead counted on its first (or,
    when the range cuts the week's start, last) paying day of the week; both ends cut: asked directly."""
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if first == monday:
        return sum(days.get(day, {}).get("week_first_payers", 0) for day in span)
    if last == monday + timedelta(days=6):
        return sum(days.get(day, {}).get("week_last_payers", 0) for day in span)
    return payers_between(session, first, last, scope)


def recovery_report(session: Session, user: User, query: BucketQuery, *, today: date | None = None,
                    rollups: bool = True) -> RecoveryReport:
    """Per day or week of the range: payments, dollars recovered, leads paying, promises made and how many were
    kept or broken; and days from placement to first payment of the leads whose first payment was in the range."""
    today = today or utcnow().date()
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    found = plan(session, RECOVERY, win, today=today, rollups=rollups)
    days: dict[date, dict[str, Any]] = {}
    first: dict[int, int] = {}
    for row in rolled(session, RECOVERY_TABLE, found.rolled, scope, ("day",),
                      (*_MEASURES, *FIRST_PAYMENT_DAYS.columns), limit=_LIMIT):
        _add(days, [row], _MEASURES)
        histogram.add(first, {bound: int(row._mapping[FIRST_PAYMENT_DAYS.column(bound)])
                              for bound in FIRST_PAYMENT_DAYS.bounds})
    if found.live:
        _add(days, payment_facts(session, found.live, scope, ("day", "fp"), limit=_LIMIT), PAYMENT_MEASURES, first)
        _add(days, promise_facts(session, found.live, scope, ("day",), limit=_LIMIT), PROMISE_MEASURES)

    weekly = query.bucket is AnalyticsBucket.WEEK
    buckets: dict[date, tuple[date, date]] = {}  # bucket → its first and last day in the range
    for day in win.days():
        key = day - timedelta(days=day.weekday()) if weekly else day
        buckets[key] = (buckets[key][0], day) if key in buckets else (day, day)
    rows = []
    for key, (start, end) in buckets.items():
        span = [start + timedelta(days=n) for n in range((end - start).days + 1)]

        def total(name: str, span: list[date] = span) -> Any:
            return sum((days[day][name] for day in span if day in days), Decimal(0) if name == "recovered" else 0)

        kept, broken = total("promises_kept"), total("promises_broken")
        rows.append(RecoveryRow(
            bucket=key, payments=total("payments"), recovered=float(round(total("recovered"), 2)),
            leads_paying=_week_payers(session, days, key, start, end, scope) if weekly else total("payers"),
            promises=total("promises"), promises_kept=kept, promises_broken=broken,
            kept_rate=rate(kept, kept + broken)))
    median, p90 = histogram.percentile(first, 0.5), histogram.percentile(first, 0.9)
    columns = [c.model_copy(update={"label": "Week of"}) if c.name == "bucket" and weekly else c
               for c in RECOVERY_COLUMNS]
    notes = [
        "Outcomes of the leads in scope (the lead's team and assignee now), on the day each occurred"
        + (" (weeks start on Monday, UTC)." if weekly else "."),
        "Recovered: the payments' amounts; a payment recorded on a signal has no amount until the lender's file or "
        "the CRM gives one (it counts in payments, not in dollars).",
        "Promises by the day they were made; kept and broken as settled since (pending ones count in neither).",
        "Days to first payment: the leads whose first payment ever was in the range, from the day the lead was "
        f"placed; read from days rounded down to fixed buckets ({FIRST_PAYMENT_DAYS.resolution}).",
        "Leads in an experiment's control group count too: their signals are not worked, but they are the book's "
        "(the experiment report measures the lift).",
    ]
    stale = staleness_note(found, "outcomes")
    if stale:
        notes.append(stale)
    return RecoveryReport(**base(win, scope, columns, notes, False), bucket=query.bucket,
                          first_payments=histogram.total(first),
                          days_to_first_payment_median=None if median is None else round(median, 1),
                          days_to_first_payment_p90=None if p90 is None else round(p90, 1), rows=rows)
