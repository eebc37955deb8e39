"""The signal reports (docs/analytics.md): what became of the signals detected in a date range, in a role's scope —
per day or week by type and source, the funnel per type, response times, outcomes — and model quality from
feedback; the CSV of any report.

* Every signal report reads a *cohort*: the signals detected in the range (whatever became of them since), held-out
  signals (an experiment's control group, never worked) left out. Days before today come from the daily rollups
  (``rollup.py``) where they are built; the others (today) are counted live through the ``detected_at`` indexes.
  Both go through ``facts.py``, so a report says the same either way (``rollups=False`` counts everything live).
* Response times' median and p90 are read from a fixed histogram of minutes (``histogram.RESPONSE_MINUTES``), the
  only form in which they add up across days.
* Every grouped query carries a LIMIT (``MAX_GROUPS``) and the report says when it was reached.
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from upswing.account.models import Team, User
from upswing.analytics import histogram
from upswing.analytics.facts import (
    UNKNOWN_SOURCE,
    as_date,
    in_days,
    owner,
    signal_facts,
    signal_statement,
    week_bounds,
)
from upswing.analytics.histogram import RESPONSE_MINUTES
from upswing.analytics.models import OUTCOME_COLUMNS
from upswing.analytics.rollup import RESPONSE, SIGNALS, Plan, daily_table, plan, rolled, staleness_note
from upswing.analytics.schemas import (
    MAX_GROUPS,
    AnalyticsBucket,
    AnalyticsColumn,
    AnalyticsQuery,
    AnalyticsReport,
    BucketQuery,
    FunnelReport,
    FunnelRow,
    ModelQualityReport,
    ModelQualityRow,
    OutcomeCountRow,
    OutcomesReport,
    ResponseTimeRow,
    ResponseTimesReport,
    SignalsReport,
    SignalsRow,
)
from upswing.analytics.scope import ALL_TEAMS, Scope, Window, base, capped, rate, resolve_scope, window
from upswing.core.csvsafe import SafeWriter
from upswing.core.db import utcnow
from upswing.detection.text import NO_SIGNAL
from upswing.signal.models import ExampleKind, LabelledExample, Priority, Signal, SignalOutcome

_PRIORITY_ORDER = {p.value: i for i, p in enumerate(Priority)}
#: Rows one query may return before the report says it is truncated.
_LIMIT = MAX_GROUPS + 1
HOLDOUT_NOTE = ("Signals held out by an experiment (its control group: stored but never shown or worked) are left "
                "out.")


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The continuous percentile of sorted values (linear interpolation between the closest ranks), as
    PostgreSQL's ``percentile_cont``."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _cohort(session: Session, user: User, query: AnalyticsQuery, today: date | None,
            rollups: bool) -> tuple[Window, Scope, Plan]:
    today = today or utcnow().date()
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    return win, scope, plan(session, SIGNALS, win, today=today, rollups=rollups)


def _notes(found: Plan, *notes: str) -> list[str]:
    stale = staleness_note(found, "signals")
    return [*notes, HOLDOUT_NOTE, *([stale] if stale else [])]


def _tally(rows: Iterable[Any], dims: Sequence[str], measures: Sequence[str],
           into: dict[tuple[Any, ...], dict[str, int]]) -> dict[tuple[Any, ...], dict[str, int]]:
    """Add rows' measures up per key (``dims``; rollups' "no owner" read as None)."""
    for row in rows:
        values = row._mapping
        key = tuple(owner(values[d]) if d in ("team_id", "assignee_id") else values[d] for d in dims)
        counts = into.setdefault(key, dict.fromkeys(measures, 0))
        for name in measures:
            counts[name] += int(values[name] or 0)
    return into


def _cohort_tally(session: Session, found: Plan, scope: Scope, dims: Sequence[str],
                  measures: Sequence[str]) -> tuple[dict[tuple[Any, ...], dict[str, int]], bool]:
    """The measures of the signals detected in the range, per ``dims``: rollups for the rolled days, live for the
    others."""
    from_rollups = rolled(session, daily_table(scope), found.rolled, scope, dims, measures, limit=_LIMIT)
    live = signal_facts(session, found.live, scope, dims, measures, limit=_LIMIT) if found.live else []
    tally = _tally(live, dims, measures, _tally(from_rollups, dims, measures, {}))
    return tally, len(from_rollups) >= _LIMIT or len(live) >= _LIMIT


# --------------------------------------------------------------------------------------------------
# Signals per day or week, by type and source
# --------------------------------------------------------------------------------------------------

_SIGNALS_ROWS = TypeAdapter(list[SignalsRow])
SIGNALS_COLUMNS = [
    AnalyticsColumn(name="bucket", label="Day", kind="date"),
    AnalyticsColumn(name="type", label="Signal type", kind="text"),
    AnalyticsColumn(name="source", label="Source", kind="text"),
    AnalyticsColumn(name="signals", label="Signals", kind="count"),
]


def signals_report(session: Session, user: User, query: BucketQuery, *, today: date | None = None,
                   rollups: bool = True) -> SignalsReport:
    """Signals detected per bucket, by type and by the source of their earliest evidence: the rolled days' counts
    and the live days' added up, bucketed and ordered in one query (a year is ~10,000 rows)."""
    win, scope, found = _cohort(session, user, query, today, rollups)
    parts = []
    if found.rolled:
        table = daily_table(scope)
        condition = scope.on(table.c.get("team_id"), table.c.get("assignee_id"))
        parts.append(select(table.c.day, table.c.type, table.c.source, table.c.signals)
                     .where(*([condition] if condition is not None else []), in_days(table.c.day, found.rolled)))
    if found.live:
        parts.append(signal_statement(session, found.live, scope, ("day", "type", "source"), ("signals",)))
    weekly = query.bucket is AnalyticsBucket.WEEK
    found_rows: Sequence[Any] = []
    if parts:
        counted = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("counted")
        bucket = week_bounds(session, counted.c.day)[0] if weekly else counted.c.day
        found_rows = session.connection().execute(  # Core: no ORM loading for ~10,000 plain rows
            select(bucket.label("bucket"), counted.c.type, counted.c.source, func.sum(counted.c.signals))
            .group_by(bucket, counted.c.type, counted.c.source)
            .order_by(bucket, counted.c.type, counted.c.source).limit(_LIMIT)).all()
    rows, truncated = capped(found_rows)
    columns = [c.model_copy(update={"label": "Week of"}) if c.name == "bucket" and weekly else c
               for c in SIGNALS_COLUMNS]
    notes = _notes(found, "Weeks start on Monday (UTC); the first and last may be partly outside the range." if weekly
                   else "Days are UTC days.", "A signal counts once, under the source of its earliest evidence.")
    return SignalsReport(**base(win, scope, columns, notes, truncated), bucket=query.bucket,
                         rows=_SIGNALS_ROWS.validate_python([  # all rows in one validation: a year is ~10,000
                             {"bucket": as_date(bucket), "type": type_, "source": source or UNKNOWN_SOURCE,
                              "signals": n} for bucket, type_, source, n in rows]))


# --------------------------------------------------------------------------------------------------
# Funnel per signal type
# --------------------------------------------------------------------------------------------------

FUNNEL_COLUMNS = [
    AnalyticsColumn(name="type", label="Signal type", kind="text"),
    AnalyticsColumn(name="signals", label="Signals", kind="count"),
    AnalyticsColumn(name="acknowledged", label="Acknowledged", kind="count"),
    AnalyticsColumn(name="actioned", label="Actioned (contacted)", kind="count"),
    AnalyticsColumn(name="promised", label="Promise to pay", kind="count"),
    AnalyticsColumn(name="paid", label="Payment", kind="count"),
    AnalyticsColumn(name="dismissed", label="Dismissed", kind="count"),
    AnalyticsColumn(name="acknowledged_rate", label="Acknowledged rate", kind="rate"),
    AnalyticsColumn(name="actioned_rate", label="Actioned rate", kind="rate"),
    AnalyticsColumn(name="promised_rate", label="Promise rate", kind="rate"),
    AnalyticsColumn(name="paid_rate", label="Payment rate", kind="rate"),
]
_PROMISE, _PAYMENT = f"outcome_{SignalOutcome.PROMISE_TO_PAY.value}", f"outcome_{SignalOutcome.PAYMENT.value}"
_FUNNEL_MEASURES = ("signals", "acknowledged", "actioned", "dismissed", _PROMISE, _PAYMENT)


def funnel_report(session: Session, user: User, query: AnalyticsQuery, *, today: date | None = None,
                  rollups: bool = True) -> FunnelReport:
    """How far the signals of each type detected in the range got: each stage counts the signals that reached it
    or went past it, so the stages never grow down the funnel."""
    win, scope, found = _cohort(session, user, query, today, rollups)
    tally, truncated = _cohort_tally(session, found, scope, ("type",), _FUNNEL_MEASURES)
    rows, cut = capped(sorted(tally.items(), key=lambda item: (-item[1]["signals"], item[0][0])))
    notes = _notes(found, "Of the signals detected in the range, whenever they were worked; rates are shares of the "
                          "signals.", "Promise to pay counts payments too (a payment passed that stage).")
    report_rows = []
    for (type_,), c in rows:
        promised, paid = c[_PROMISE] + c[_PAYMENT], c[_PAYMENT]
        report_rows.append(FunnelRow(
            type=type_, signals=c["signals"], acknowledged=c["acknowledged"], actioned=c["actioned"],
            promised=promised, paid=paid, dismissed=c["dismissed"],
            acknowledged_rate=rate(c["acknowledged"], c["signals"]), actioned_rate=rate(c["actioned"], c["signals"]),
            promised_rate=rate(promised, c["signals"]), paid_rate=rate(paid, c["signals"])))
    return FunnelReport(**base(win, scope, FUNNEL_COLUMNS, notes, truncated or cut), rows=report_rows)


# --------------------------------------------------------------------------------------------------
# Response times
# --------------------------------------------------------------------------------------------------

RESPONSE_TIME_COLUMNS = [
    AnalyticsColumn(name="group", label="Group", kind="text"),
    AnalyticsColumn(name="name", label="Name", kind="text"),
    AnalyticsColumn(name="priority", label="Priority", kind="text"),
    AnalyticsColumn(name="signals", label="Signals", kind="count"),
    AnalyticsColumn(name="responded", label="Responded", kind="count"),
    AnalyticsColumn(name="median_minutes", label="Median (minutes)", kind="minutes"),
    AnalyticsColumn(name="p90_minutes", label="p90 (minutes)", kind="minutes"),
]
ALL: Literal["all"] = "all"
Group = Literal["all", "team", "agent"]
_Key = tuple[Group, uuid.UUID | None, str]


class _Times:
    """Signals, responded and the histogram of minutes, of one group and priority."""

    __slots__ = ("histogram", "responded", "signals")

    def __init__(self) -> None:
        self.signals = self.responded = 0
        self.histogram: dict[int, int] = {}

    def add(self, signals: int, responded: int, counts: dict[int, int]) -> None:
        self.signals += signals
        self.responded += responded
        histogram.add(self.histogram, counts)


def _response_times(session: Session, found: Plan, scope: Scope) -> dict[_Key, _Times]:
    """Per owner and priority (rolled and live), then added up per group: the whole scope, team, agent; each by
    priority and over all."""
    owners: dict[tuple[Any, Any, str], _Times] = defaultdict(_Times)
    measures = ("signals", "responded", *RESPONSE_MINUTES.columns)
    for row in rolled(session, RESPONSE, found.rolled, scope, ("team_id", "assignee_id", "priority"), measures,
                      limit=_LIMIT):
        values = row._mapping
        owners[(owner(row.team_id), owner(row.assignee_id), row.priority)].add(
            int(row.signals), int(row.responded),
            {bound: int(values[RESPONSE_MINUTES.column(bound)]) for bound in RESPONSE_MINUTES.bounds})
    if found.live:
        for row in signal_facts(session, found.live, scope, ("team_id", "assignee_id", "priority", "rt"), ("signals",),
                                limit=_LIMIT):
            answered = row.rt is not None
            owners[(row.team_id, row.assignee_id, row.priority)].add(
                int(row.signals), int(row.signals) if answered else 0,
                {int(row.rt): int(row.signals)} if answered else {})
    groups: dict[_Key, _Times] = defaultdict(_Times)
    for (team_id, assignee_id, priority), times in owners.items():
        holders: tuple[tuple[Group, uuid.UUID | None], ...] = ((ALL, None), ("team", team_id), ("agent", assignee_id))
        for group, key in holders:
            for chosen in (priority, ALL):
                groups[(group, key, chosen)].add(times.signals, times.responded, times.histogram)
    return groups


def response_times_report(session: Session, user: User, query: AnalyticsQuery, *, today: date | None = None,
                          rollups: bool = True) -> ResponseTimesReport:
    """Median and p90 from detection to the first action (acknowledge, action or dismissal), for the whole scope,
    per team and per agent (the signal's assignee), each by priority and over all priorities."""
    win, scope, found = _cohort(session, user, query, today, rollups)
    stats = _response_times(session, found, scope)
    if scope.read.kind == "agent":  # an agent's team and agent rows would repeat the scope's: leave them out
        stats = {k: v for k, v in stats.items() if k[0] == ALL}
    team_ids = {k[1] for k in stats if k[0] == "team" and k[1] is not None}
    user_ids = {k[1] for k in stats if k[0] == "agent" and k[1] is not None}
    teams = {team_id: team_name for team_id, team_name in session.execute(
        select(Team.id, Team.name).where(Team.id.in_(team_ids)))} if team_ids else {}
    people = {uid: full_name or username for uid, full_name, username in session.execute(
        select(User.id, User.full_name, User.username).where(User.id.in_(user_ids)))} if user_ids else {}

    def name(group: Group, key: uuid.UUID | None) -> str:
        if group == ALL:
            return scope.read.label
        if group == "team":
            return teams.get(key, "Unknown team") if key is not None else "No team"
        return people.get(key, "Unknown user") if key is not None else "Unassigned"

    group_order = {ALL: 0, "team": 1, "agent": 2}
    ordered, cut = capped(sorted(stats.items(), key=lambda item: (  # per group: by name, none last
        group_order[item[0][0]], item[0][0] != ALL and item[0][1] is None, name(item[0][0], item[0][1]).lower(),
        str(item[0][1]), -1 if item[0][2] == ALL else _PRIORITY_ORDER.get(item[0][2], 99))))
    rows = [ResponseTimeRow(group=group, id=key, name=name(group, key), priority=priority, signals=times.signals,
                            responded=times.responded, median_minutes=_minutes(times.histogram, 0.5),
                            p90_minutes=_minutes(times.histogram, 0.9))
            for (group, key, priority), times in ordered]
    notes = _notes(found, "Of the signals detected in the range: from detection to the first acknowledgement, action "
                          "or dismissal by anyone; per agent means per the signal's assignee.",
                   "Signals nobody has responded to yet count in signals, not in the times.",
                   "Median and p90 are read from response times rounded down to fixed buckets (the form the daily "
                   f"rollups keep): {RESPONSE_MINUTES.resolution}.")
    return ResponseTimesReport(**base(win, scope, RESPONSE_TIME_COLUMNS, notes, cut), rows=rows)


def _minutes(counts: dict[int, int], fraction: float) -> float | None:
    found = histogram.percentile(counts, fraction)
    return None if found is None else round(found, 1)


# --------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------

OUTCOME_REPORT_COLUMNS = [
    AnalyticsColumn(name="outcome", label="Outcome", kind="text"),
    AnalyticsColumn(name="signals", label="Signals", kind="count"),
    AnalyticsColumn(name="share", label="Share of outcomes", kind="rate"),
]
DOLLARS_NOTE = ("Dollars recovered are in the recovery report, from the lenders' payments (outcomes of the leads); "
                "an outcome here is what the specialist recorded on the signal.")


def outcomes_report(session: Session, user: User, query: AnalyticsQuery, *, today: date | None = None,
                    rollups: bool = True) -> OutcomesReport:
    """Every outcome type, with how many of the signals detected in the range ended with it."""
    win, scope, found = _cohort(session, user, query, today, rollups)
    tally, _ = _cohort_tally(session, found, scope, (), ("signals", *OUTCOME_COLUMNS))
    counts = tally.get((), dict.fromkeys(("signals", *OUTCOME_COLUMNS), 0))
    with_outcome = sum(counts[name] for name in OUTCOME_COLUMNS)
    rows = [OutcomeCountRow(outcome=o.value, signals=counts[f"outcome_{o.value}"],
                            share=rate(counts[f"outcome_{o.value}"], with_outcome)) for o in SignalOutcome]
    notes = _notes(found, "The latest outcome recorded on each signal detected in the range, whenever it was "
                          "recorded.", DOLLARS_NOTE)
    return OutcomesReport(**base(win, scope, OUTCOME_REPORT_COLUMNS, notes, False), signals=counts["signals"],
                          with_outcome=with_outcome, rows=rows)


# --------------------------------------------------------------------------------------------------
# Model quality from feedback
# --------------------------------------------------------------------------------------------------

MODEL_QUALITY_COLUMNS = [
    AnalyticsColumn(name="type", label="Signal type", kind="text"),
    AnalyticsColumn(name="kind", label="Classifier", kind="text"),
    AnalyticsColumn(name="confirmed", label="Confirmed", kind="count"),
    AnalyticsColumn(name="corrected", label="Corrected", kind="count"),
    AnalyticsColumn(name="not_an_event", label="Not an event", kind="count"),
    AnalyticsColumn(name="confirmed_share", label="Confirmed share", kind="rate"),
    AnalyticsColumn(name="examples", label="Examples stored", kind="count"),
]


def _signal_type(kind: str, label: str) -> str:
    return f"intent_{label}" if kind == ExampleKind.COMPANY.value and not label.startswith("intent_") else label


def model_quality_report(session: Session, user: User, query: AnalyticsQuery, *,
                         today: date | None = None) -> ModelQualityReport:
    """Feedback given in the range (the labelled examples of ``signal.feedback``), per detected type: how many
    signals people confirmed and corrected. Read by the examples' (kind, created_at) index."""
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    example = LabelledExample
    # A feedback stores one example per text behind the signal: count signals, not texts (an example whose signal
    # was deleted since counts on its own).
    feedback = func.count(func.distinct(func.coalesce(example.signal_id, example.id)))
    statement = (select(example.kind, example.previous_label, example.correct, example.label,
                        feedback.label("signals"), func.count().label("examples"))
                 .where(example.kind.in_([k.value for k in ExampleKind]), example.created_at >= win.since,
                        example.created_at < win.until)
                 .group_by(example.kind, example.previous_label, example.correct, example.label)
                 .limit(_LIMIT))
    scoped = scope.on(Signal.team_id, Signal.assignee_id)
    if scoped is not None:
        statement = statement.join(Signal, Signal.id == example.signal_id).where(scoped)
    rows, truncated = capped(session.execute(statement).all())
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        entry = totals[(r.kind, _signal_type(r.kind, r.previous_label))]
        entry["confirmed" if r.correct else "corrected"] += r.signals
        if not r.correct and r.label == NO_SIGNAL:
            entry["not_an_event"] += r.signals
        entry["examples"] += r.examples
    report_rows = [ModelQualityRow(type=type_, kind="company" if kind == ExampleKind.COMPANY.value else "person",
                                   confirmed=e["confirmed"],
                                   corrected=e["corrected"], not_an_event=e["not_an_event"],
                                   confirmed_share=rate(e["confirmed"], e["confirmed"] + e["corrected"]),
                                   examples=e["examples"])
                   for (kind, type_), e in sorted(totals.items(), key=lambda item: (
                       -(item[1]["confirmed"] + item[1]["corrected"]), item[0][1]))]
    notes = ["Feedback given in the range, per the type the signal had then; a signal counts once per answer.",
             "Feedback on a signal with no text behind it (a profile change only) stores no example and is not "
             "counted here (it is in the audit log)."]
    return ModelQualityReport(**base(win, scope, MODEL_QUALITY_COLUMNS, notes, truncated), rows=report_rows)


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def report_rows(report: AnalyticsReport) -> Iterable[list[Any]]:
    """The report's rows as lists, in the order of its columns."""
    names = [column.name for column in report.columns]
    for row in getattr(report, "rows", []):
        yield [_cell(getattr(row, name)) for name in names]


def to_csv(report: AnalyticsReport) -> str:
    """The report's table as CSV (header: the column names), every cell neutralised against formula injection."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in report.columns])
    writer.writerows(report_rows(report))
    return buffer.getvalue()


def csv_filename(name: str, report: AnalyticsReport) -> str:
    return f"upswing-{name}-{report.from_.isoformat()}-to-{report.to.isoformat()}.csv"


__all__ = ["ALL_TEAMS", "csv_filename", "funnel_report", "model_quality_report", "outcomes_report", "percentile",
           "resolve_scope", "response_times_report", "signals_report", "to_csv", "window"]
