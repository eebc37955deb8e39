"""The coverage report (docs/analytics.md): of the leads in scope, how many are monitored and how long since a source
last looked at each, per day or week of the range — from the coverage snapshots the rollup task takes (hourly; the
day's last one stays), and for today, when no snapshot was taken in the last hour, counted live.

* **Monitored**: an enabled source has the lead on its schedule (``source_lead_schedule`` with a next due time) —
  a source will look again. Leads merged into another are left out; leads of an experiment's control group count
  (monitoring does not change with the arm).
* **Last looked at**: the latest of the schedule's last check (any source) and the newest observation of the lead
  (``observed_at``); "never" when there is neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.analytics import histogram
from upswing.analytics.facts import as_date, coverage_facts, in_days
from upswing.analytics.histogram import AGE_HOURS
from upswing.analytics.rollup import COVERAGE_EVERY, COVERAGE_TABLE, fold_coverage, latest_coverage
from upswing.analytics.schemas import (
    MAX_GROUPS,
    AnalyticsBucket,
    AnalyticsColumn,
    BucketQuery,
    CoverageReport,
    CoverageRow,
)
from upswing.analytics.scope import base, rate, resolve_scope, window
from upswing.core.db import utcnow

COVERAGE_COLUMNS = [
    AnalyticsColumn(name="bucket", label="Day", kind="date"),
    AnalyticsColumn(name="leads", label="Leads", kind="count"),
    AnalyticsColumn(name="monitored", label="Monitored", kind="count"),
    AnalyticsColumn(name="monitored_share", label="Monitored share", kind="rate"),
    AnalyticsColumn(name="under_1_day", label="Under a day", kind="count"),
    AnalyticsColumn(name="days_1_to_7", label="1–7 days", kind="count"),
    AnalyticsColumn(name="days_7_to_30", label="7–30 days", kind="count"),
    AnalyticsColumn(name="older", label="Older", kind="count"),
    AnalyticsColumn(name="never", label="Never", kind="count"),
    AnalyticsColumn(name="median_hours", label="Median age (hours)", kind="hours"),
    AnalyticsColumn(name="p90_hours", label="p90 age (hours)", kind="hours"),
]
#: Age bands (hours): under a day, 1–7 days, 7–30 days, older.
BANDS = (("under_1_day", 0, 24), ("days_1_to_7", 24, 168), ("days_7_to_30", 168, 720), ("older", 720, None))
_MEASURES = ("leads", "monitored", "never", *AGE_HOURS.columns)


def _row(day: date, counts: dict[str, int]) -> CoverageRow:
    ages = {bound: counts[AGE_HOURS.column(bound)] for bound in AGE_HOURS.bounds}
    bands = {name: sum(n for bound, n in ages.items() if bound >= low and (high is None or bound < high))
             for name, low, high in BANDS}
    median, p90 = histogram.percentile(ages, 0.5), histogram.percentile(ages, 0.9)
    return CoverageRow(bucket=day, leads=counts["leads"], monitored=counts["monitored"],
                       monitored_share=rate(counts["monitored"], counts["leads"]), never=counts["never"], **bands,
                       median_hours=None if median is None else round(median, 1),
                       p90_hours=None if p90 is None else round(p90, 1))


def _summed(rows: Iterable[dict[str, int]]) -> dict[str, int]:
    counts = dict.fromkeys(_MEASURES, 0)
    for row in rows:
        for name in _MEASURES:
            counts[name] += row[name]
    return counts


def coverage_report(session: Session, user: User, query: BucketQuery, *, today: date | None = None,
                    now: datetime | None = None, rollups: bool = True) -> CoverageReport:
    """One row per day (or week: its last day) of the range that has a snapshot, today's counted live when no
    snapshot was taken today."""
    now = now or utcnow()
    today = today or now.date()
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    per_day: dict[date, dict[str, int]] = {}
    taken: dict[date, datetime] = {}
    if rollups:
        table = COVERAGE_TABLE
        condition = scope.on(table.c.team_id, table.c.assignee_id)
        for row in session.execute(
                select(table.c.day, func.max(table.c.taken_at).label("taken_at"),
                       *(func.coalesce(func.sum(table.c[name]), 0).label(name) for name in _MEASURES))
                .where(*([condition] if condition is not None else []), in_days(table.c.day, [(win.start, win.end)]))
                .group_by(table.c.day).limit(MAX_GROUPS + 1)):
            day = as_date(row.day)
            per_day[day] = {name: int(row._mapping[name]) for name in _MEASURES}
            taken[day] = row.taken_at
    # Today without a snapshot yet: counted live — unless the last snapshot is recent (just after midnight, before
    # the task's first run of the day), as counting a large book live takes seconds.
    live = win.start <= today <= win.end and today not in per_day and (
        not rollups or (latest := latest_coverage(session)) is None or latest < now - COVERAGE_EVERY)
    if live:
        per_day[today] = _summed(fold_coverage(coverage_facts(session, now, scope, limit=MAX_GROUPS + 1)).values())
        taken[today] = now
    chosen: dict[date, date] = {}  # bucket → the day whose snapshot it shows (a week: its last)
    for day in sorted(per_day):
        chosen[day - timedelta(days=day.weekday()) if query.bucket is AnalyticsBucket.WEEK else day] = day
    rows = [_row(key, per_day[day]) for key, day in sorted(chosen.items())]
    weekly = query.bucket is AnalyticsBucket.WEEK
    columns = [c.model_copy(update={"label": "Week of"}) if c.name == "bucket" and weekly else c
               for c in COVERAGE_COLUMNS]
    notes = [
        "Monitored: an enabled source has the lead on its schedule (a next check is due). Leads merged into another "
        "are left out; leads of an experiment's control group count (they are monitored alike).",
        "Age: since a source last looked at the lead — its last scheduled check or its newest observation, the later "
        f"— at the time of the snapshot; median and p90 read from fixed buckets ({AGE_HOURS.resolution}).",
        f"Each day shows the last coverage snapshot taken that day (the rollup task takes one at most every "
        f"{int(COVERAGE_EVERY.total_seconds() // 3600)} hour)" + ("; a week shows its last day's" if weekly else "")
        + (". Today was counted live." if live else "."),
    ]
    as_of = taken[max(chosen.values())] if chosen else None
    return CoverageReport(**base(win, scope, columns, notes, False), bucket=query.bucket, as_of=as_of, rows=rows)
