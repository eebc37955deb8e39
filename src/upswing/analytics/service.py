"""The analytics reports (docs/analytics.md): read-only aggregates over the signals detected in a date range, in a
role's scope, answered straight from the signals' indexes.

* The range is days (UTC), inclusive, at most ``MAX_RANGE_DAYS``: every report but model quality reads the signals
  *detected* in the range (a cohort: what became of them since, whenever it happened), through the ``detected_at``
  indexes (``ix_signals_feed``, and its assignee and team variants for a scoped report), never the whole table.
* Scope: an agent sees their own signals (assigned to them); a manager their team's by default, or a team they
  name, or ``all``; admins and viewers every team, or one they name.
* Every grouped query carries a LIMIT (``MAX_GROUPS``) and the report says when it was reached.

Issue 18 extends these with outcomes imported from the lender (dollars recovered), coverage, source health and
pre-aggregated daily rollups; the report names and shapes here are the ones it uses.
"""

from __future__ import annotations

import io
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, case, cast, func, select, tuple_
from sqlalchemy.orm import Session

from upswing.account.models import Role, Team, User
from upswing.analytics.schemas import (
    DEFAULT_RANGE_DAYS,
    MAX_GROUPS,
    MAX_RANGE_DAYS,
    AnalyticsBucket,
    AnalyticsColumn,
    AnalyticsQuery,
    AnalyticsReport,
    AnalyticsScope,
    FunnelReport,
    FunnelRow,
    ModelQualityReport,
    ModelQualityRow,
    OutcomeCountRow,
    OutcomesReport,
    ResponseTimeRow,
    ResponseTimesReport,
    SignalsQuery,
    SignalsReport,
    SignalsRow,
)
from upswing.core.csvsafe import SafeWriter
from upswing.core.db import utcnow
from upswing.core.errors import PermissionDeniedError, ValidationFailedError
from upswing.detection.text import NO_SIGNAL
from upswing.signal.models import (
    Evidence,
    ExampleKind,
    LabelledExample,
    Priority,
    Signal,
    SignalOutcome,
    SignalStatus,
)

#: Shown when a signal's evidence names no source.
UNKNOWN_SOURCE = "unknown"
#: The ``team`` value that asks for every team.
ALL_TEAMS = "all"
_PRIORITY_ORDER = {p.value: i for i, p in enumerate(Priority)}


# --------------------------------------------------------------------------------------------------
# Range and scope
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """The range's days (inclusive) and the instants bounding them: ``since <= t < until``."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)


def window(query: AnalyticsQuery, *, today: date | None = None) -> Window:
    """The range asked for, with the defaults filled in; refuses an inverted or too long one, naming ``from``."""
    end = query.to or today or utcnow().date()
    start = query.from_ or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ValidationFailedError("from is after to", [{"row": None, "field": "from",
                                                          "message": f"must be on or before {end.isoformat()}"}])
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailedError(f"the range is longer than {MAX_RANGE_DAYS} days", [
            {"row": None, "field": "from", "message": f"at most {MAX_RANGE_DAYS} days before to"}])
    return Window(start, end)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose signals a report counts: the public description, and the condition on ``signals``."""

    read: AnalyticsScope

    def condition(self) -> ColumnElement[bool] | None:
        if self.read.kind == "agent":
            return Signal.assignee_id == self.read.user_id
        if self.read.kind == "team":
            return Signal.team_id == self.read.team_id
        return None


def _team(session: Session, value: str) -> Team:
    team: Team | None = None
    try:
        team = session.get(Team, uuid.UUID(value))
    except ValueError:
        team = session.scalar(select(Team).where(Team.name == value))
    if team is None:
        raise ValidationFailedError(f"team: no team {value!r}",
                                    [{"row": None, "field": "team", "message": "unknown team"}])
    return team


def resolve_scope(session: Session, user: User, team: str | None) -> Scope:
    """The scope of ``user``'s report (module docstring); ``team`` is a name, an id or ``all``."""
    value = team.strip() if team is not None else None
    if user.role == Role.AGENT.value:
        if value:
            raise PermissionDeniedError("team: agents see the analytics of their own signals only")
        return Scope(AnalyticsScope(kind="agent", user_id=user.id, label=user.full_name or user.username))
    if user.role not in (Role.ADMIN.value, Role.MANAGER.value, Role.VIEWER.value):
        raise PermissionDeniedError("this role sees no analytics")
    if not value:
        if user.role == Role.MANAGER.value and user.team_id is not None:
            chosen = session.get(Team, user.team_id)
            if chosen is not None:
                return Scope(AnalyticsScope(kind="team", team_id=chosen.id, label=chosen.name))
        return Scope(AnalyticsScope(kind="all", label="All teams"))
    if value.lower() == ALL_TEAMS:
        return Scope(AnalyticsScope(kind="all", label="All teams"))
    chosen = _team(session, value)
    return Scope(AnalyticsScope(kind="team", team_id=chosen.id, label=chosen.name))


def _in_range(win: Window, scope: Scope) -> list[ColumnElement[bool]]:
    """The signals detected in the range, in scope: a range scan of one ``detected_at`` index."""
    conditions = [Signal.detected_at >= win.since, Signal.detected_at < win.until]
    scoped = scope.condition()
    if scoped is not None:
        conditions.insert(0, scoped)
    return conditions


def _base(win: Window, scope: Scope, columns: list[AnalyticsColumn], notes: list[str],
          truncated: bool) -> dict[str, Any]:
    return {"from_": win.start, "to": win.end, "scope": scope.read, "columns": columns, "notes": notes,
            "truncated": truncated}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _capped(rows: Sequence[Any]) -> tuple[Sequence[Any], bool]:
    return (rows[:MAX_GROUPS], True) if len(rows) > MAX_GROUPS else (rows, False)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --------------------------------------------------------------------------------------------------
# Signals per day or week, by type and source
# --------------------------------------------------------------------------------------------------


def _bucket(session: Session, bucket: AnalyticsBucket) -> ColumnElement[Any]:
    """The UTC day (or the Monday of its week) a signal was detected on."""
    if _postgres(session):
        return cast(func.date_trunc(bucket.value, func.timezone("UTC", Signal.detected_at)), Date)
    if bucket is AnalyticsBucket.WEEK:  # SQLite stores UTC as naive text; 'weekday 0': the next Sunday, or the day
        return func.date(Signal.detected_at, "weekday 0", "-6 days")
    return func.date(Signal.detected_at)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


SIGNALS_COLUMNS = [
    AnalyticsColumn(name="bucket", label="Day", kind="date"),
    AnalyticsColumn(name="type", label="Signal type", kind="text"),
    AnalyticsColumn(name="source", label="Source", kind="text"),
    AnalyticsColumn(name="signals", label="Signals", kind="count"),
]


def signals_report(session: Session, user: User, query: SignalsQuery, *, today: date | None = None) -> SignalsReport:
    """Signals detected per bucket, by type and by the source of their earliest evidence."""
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    # The source that saw the event first: one look-up per signal on the evidence's (signal_id, …) index.
    first_source = (select(Evidence.source).where(Evidence.signal_id == Signal.id)
                    .order_by(Evidence.observed_at, Evidence.source).limit(1).correlate(Signal).scalar_subquery())
    detected = (select(_bucket(session, query.bucket).label("bucket"), Signal.type.label("type"),
                       func.coalesce(first_source, UNKNOWN_SOURCE).label("source"))
                .where(*_in_range(win, scope)).subquery())
    rows, truncated = _capped(session.execute(
        select(detected.c.bucket, detected.c.type, detected.c.source, func.count().label("signals"))
        .group_by(detected.c.bucket, detected.c.type, detected.c.source)
        .order_by(detected.c.bucket, detected.c.type, detected.c.source).limit(MAX_GROUPS + 1)
    ).all())
    weekly = query.bucket is AnalyticsBucket.WEEK
    columns = [c.model_copy(update={"label": "Week of"}) if c.name == "bucket" and weekly else c
               for c in SIGNALS_COLUMNS]
    notes = ["Days are UTC days." if query.bucket is AnalyticsBucket.DAY else
             "Weeks start on Monday (UTC); the first and last may be partly outside the range.",
             "A signal counts once, under the source of its earliest evidence."]
    return SignalsReport(**_base(win, scope, columns, notes, truncated), bucket=query.bucket,
                         rows=[SignalsRow(bucket=_as_date(r.bucket), type=r.type, source=r.source or UNKNOWN_SOURCE,
                                          signals=r.signals) for r in rows])


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

_WORKED = (SignalStatus.ACKNOWLEDGED.value, SignalStatus.ACTIONED.value, SignalStatus.RESOLVED.value)
_PROMISED = (SignalOutcome.PROMISE_TO_PAY.value, SignalOutcome.PAYMENT.value)


def _count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def funnel_report(session: Session, user: User, query: AnalyticsQuery, *, today: date | None = None) -> FunnelReport:
    """How far the signals of each type detected in the range got: each stage counts the signals that reached it
    or went past it, so the stages never grow down the funnel."""
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    rows, truncated = _capped(session.execute(
        select(Signal.type, func.count().label("signals"),
               _count_when(Signal.status.in_(_WORKED)).label("acknowledged"),
               _count_when(Signal.action.is_not(None)).label("actioned"),
               _count_when(Signal.outcome.in_(_PROMISED)).label("promised"),
               _count_when(Signal.outcome == SignalOutcome.PAYMENT.value).label("paid"),
               _count_when(Signal.status == SignalStatus.DISMISSED.value).label("dismissed"))
        .where(*_in_range(win, scope)).group_by(Signal.type).order_by(func.count().desc(), Signal.type)
        .limit(MAX_GROUPS + 1)
    ).all())
    notes = ["Of the signals detected in the range, whenever they were worked; rates are shares of the signals.",
             "Promise to pay counts payments too (a payment passed that stage)."]
    return FunnelReport(**_base(win, scope, FUNNEL_COLUMNS, notes, truncated), rows=[
        FunnelRow(type=r.type, signals=r.signals, acknowledged=int(r.acknowledged), actioned=int(r.actioned),
                  promised=int(r.promised), paid=int(r.paid), dismissed=int(r.dismissed),
                  acknowledged_rate=_rate(int(r.acknowledged), r.signals),
                  actioned_rate=_rate(int(r.actioned), r.signals), promised_rate=_rate(int(r.promised), r.signals),
                  paid_rate=_rate(int(r.paid), r.signals))
        for r in rows])


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


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The continuous percentile of sorted values (linear interpolation between the closest ranks), as
    PostgreSQL's ``percentile_cont``: the same answer on both databases."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


#: (group, team_id or assignee_id, priority) → (signals, responded, median seconds, p90 seconds)
_Stats = dict[tuple[Group, uuid.UUID | None, str], tuple[int, int, float | None, float | None]]


def _response_stats_postgres(session: Session, conditions: list[ColumnElement[bool]]) -> tuple[_Stats, bool]:
    """One pass with GROUPING SETS: the whole scope, per team and per assignee, each with and without priority."""
    seconds = func.extract("epoch", Signal.first_action_at - Signal.detected_at)
    grouping = func.grouping(Signal.team_id, Signal.assignee_id, Signal.priority)
    sets = func.grouping_sets(tuple_(Signal.priority), tuple_(), tuple_(Signal.team_id, Signal.priority),
                              tuple_(Signal.team_id), tuple_(Signal.assignee_id, Signal.priority),
                              tuple_(Signal.assignee_id))
    rows, truncated = _capped(session.execute(
        select(grouping.label("grouping"), Signal.team_id, Signal.assignee_id, Signal.priority,
               func.count().label("signals"), func.count(Signal.first_action_at).label("responded"),
               func.percentile_cont(0.5).within_group(seconds).label("median"),
               func.percentile_cont(0.9).within_group(seconds).label("p90"))
        .where(*conditions).group_by(sets).limit(MAX_GROUPS + 1)
    ).all())
    # GROUPING(team_id, assignee_id, priority): a bit is set for each column the row is not grouped by.
    groups: dict[int, Group] = {6: ALL, 7: ALL, 2: "team", 3: "team", 4: "agent", 5: "agent"}
    stats: _Stats = {}
    for r in rows:
        group = groups[r.grouping]
        key = r.team_id if group == "team" else r.assignee_id if group == "agent" else None
        priority = r.priority if r.grouping % 2 == 0 else ALL
        stats[(group, key, priority)] = (r.signals, r.responded, r.median, r.p90)
    return stats, truncated


def _response_stats_python(session: Session, conditions: list[ColumnElement[bool]]) -> tuple[_Stats, bool]:
    """SQLite has no percentile aggregate: the same figures from the signals' times (the range bounds them)."""
    durations: dict[tuple[Group, uuid.UUID | None, str], list[float]] = defaultdict(list)
    counts: dict[tuple[Group, uuid.UUID | None, str], int] = defaultdict(int)
    for team_id, assignee_id, priority, detected_at, first_action_at in session.execute(
        select(Signal.team_id, Signal.assignee_id, Signal.priority, Signal.detected_at, Signal.first_action_at)
        .where(*conditions)
    ):
        owners: tuple[tuple[Group, uuid.UUID | None], ...] = ((ALL, None), ("team", team_id), ("agent", assignee_id))
        keys = [(group, key, p) for group, key in owners for p in (priority, ALL)]
        for k in keys:
            counts[k] += 1
            if first_action_at is not None:
                durations[k].append((first_action_at - detected_at).total_seconds())
    stats: _Stats = {}
    for k, n in counts.items():
        ordered = sorted(durations[k])
        stats[k] = (n, len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9))
    return stats, len(stats) > MAX_GROUPS


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 60, 1)


def response_times_report(session: Session, user: User, query: AnalyticsQuery, *,
                          today: date | None = None) -> ResponseTimesReport:
    """Median and p90 from detection to the first action (acknowledge, action or dismissal), for the whole scope,
    per team and per agent (the signal's assignee), each by priority and over all priorities."""
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    conditions = _in_range(win, scope)
    stats, truncated = (_response_stats_postgres if _postgres(session) else _response_stats_python)(
        session, conditions)
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
    ordered = sorted(stats.items(), key=lambda item: (  # per group: by name, "No team" and "Unassigned" last
        group_order[item[0][0]], item[0][0] != ALL and item[0][1] is None, name(item[0][0], item[0][1]).lower(),
        str(item[0][1]),
        -1 if item[0][2] == ALL else _PRIORITY_ORDER.get(item[0][2], 99)))
    rows = [ResponseTimeRow(group=group, id=key, name=name(group, key), priority=priority, signals=n,
                            responded=responded, median_minutes=_minutes(median), p90_minutes=_minutes(p90))
            for (group, key, priority), (n, responded, median, p90) in ordered]
    notes = ["Of the signals detected in the range: from detection to the first acknowledgement, action or "
             "dismissal by anyone; per agent means per the signal's assignee.",
             "Signals nobody has responded to yet count in signals, not in the times."]
    return ResponseTimesReport(**_base(win, scope, RESPONSE_TIME_COLUMNS, notes, truncated), rows=rows)


# --------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------

OUTCOME_COLUMNS = [
    AnalyticsColumn(name="outcome", label="Outcome", kind="text"),
    AnalyticsColumn(name="signals", label="Signals", kind="count"),
    AnalyticsColumn(name="share", label="Share of outcomes", kind="rate"),
]
DOLLARS_NOTE = ("Dollars recovered are not measured yet: they need the lender's payments, which the outcomes "
                "import (issue 18) brings; nothing here estimates them.")


def outcomes_report(session: Session, user: User, query: AnalyticsQuery, *,
                    today: date | None = None) -> OutcomesReport:
    """Every outcome type, with how many of the signals detected in the range ended with it."""
    win, scope = window(query, today=today), resolve_scope(session, user, query.team)
    counts: dict[str | None, int] = {outcome: n for outcome, n in session.execute(
        select(Signal.outcome, func.count()).where(*_in_range(win, scope)).group_by(Signal.outcome)
        .limit(MAX_GROUPS + 1))}
    total = sum(counts.values())
    with_outcome = total - counts.get(None, 0)
    rows = [OutcomeCountRow(outcome=o.value, signals=counts.get(o.value, 0), share=_rate(counts.get(o.value, 0),
                                                                                    with_outcome))
            for o in SignalOutcome]
    notes = ["The latest outcome recorded on each signal detected in the range, whenever it was recorded.",
             DOLLARS_NOTE]
    return OutcomesReport(**_base(win, scope, OUTCOME_COLUMNS, notes, False), signals=total,
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
                 .limit(MAX_GROUPS + 1))
    scoped = scope.condition()
    if scoped is not None:
        statement = statement.join(Signal, Signal.id == example.signal_id).where(scoped)
    rows, truncated = _capped(session.execute(statement).all())
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
                                   confirmed_share=_rate(e["confirmed"], e["confirmed"] + e["corrected"]),
                                   examples=e["examples"])
                   for (kind, type_), e in sorted(totals.items(), key=lambda item: (
                       -(item[1]["confirmed"] + item[1]["corrected"]), item[0][1]))]
    notes = ["Feedback given in the range, per the type the signal had then; a signal counts once per answer.",
             "Feedback on a signal with no text behind it (a profile change only) stores no example and is not "
             "counted here (it is in the audit log)."]
    return ModelQualityReport(**_base(win, scope, MODEL_QUALITY_COLUMNS, notes, truncated), rows=report_rows)


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


__all__ = ["csv_filename", "funnel_report", "model_quality_report", "outcomes_report", "percentile",
           "resolve_scope", "response_times_report", "signals_report", "to_csv", "window"]
