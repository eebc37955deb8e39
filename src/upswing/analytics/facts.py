"""What the reports count, as SQL over the tables that hold it, for some spans of days and a scope, grouped by the
dimensions asked for. The rollup builder (``rollup.py``) runs these one day at a time with every dimension and
stores the result; a report runs them live for the days no rollup holds (today), grouped by what it shows, and
reads the same measures from the rollup tables for the other days. One definition serves both, so a report says the
same whether a day was rolled up or not.

* Signals (``signal_facts``): the signals *detected* on the days (the ``detected_at`` indexes), not held out.
* Recovery (``payment_facts``, ``promise_facts``): the outcomes that *occurred* on the days
  (``ix_outcomes_kind_occurred_on``), owned by their lead's team and assignee.
* Sources (``source_facts``): the observations *stored* on the days (``ix_observations_created_at_source``).
* Coverage (``coverage_facts``): the leads (not merged away) at one instant: monitored or not, and how long since a
  source last looked at each.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Row,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from upswing.analytics.histogram import AGE_HOURS, FIRST_PAYMENT_DAYS, RESPONSE_MINUTES, Buckets
from upswing.analytics.models import NO_OWNER, OUTCOME_COLUMNS
from upswing.analytics.scope import Scope, instant, is_postgres
from upswing.core.db import UTCDateTime
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.outcome.models import Outcome, OutcomeKind, PromiseStatus
from upswing.signal.models import Evidence, Signal, SignalOutcome, SignalStatus
from upswing.source.models import LeadSchedule, Source

#: An inclusive span of UTC days.
Span = tuple[date, date]
#: Shown when a signal's evidence names no source.
UNKNOWN_SOURCE = "unknown"
WORKED = (SignalStatus.ACKNOWLEDGED.value, SignalStatus.ACTIONED.value, SignalStatus.RESOLVED.value)


# --------------------------------------------------------------------------------------------------
# Portable pieces
# --------------------------------------------------------------------------------------------------


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a stored instant."""
    if is_postgres(session):
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite stores UTC as naive text


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Seconds from ``earlier`` to ``later`` (to the millisecond on SQLite: a whole minute stays whole)."""
    if is_postgres(session):
        return func.extract("epoch", later - earlier)
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)


def days_between(session: Session, day: Any, placed_at: Any) -> ColumnElement[Any]:
    """Whole days from the UTC day of ``placed_at`` to ``day``."""
    if is_postgres(session):
        difference: ColumnElement[Any] = day - utc_day(session, placed_at)
        return difference
    return cast(func.julianday(day) - func.julianday(func.date(placed_at)), Integer)


def week_bounds(session: Session, day: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The Monday and the Sunday of a day's week."""
    if is_postgres(session):
        monday = day - (cast(func.extract("isodow", day), Integer) - 1)
        return monday, monday + 6
    return func.date(day, "weekday 0", "-6 days"), func.date(day, "weekday 0")


def bucket(value: Any, buckets: Buckets, per_unit: float) -> ColumnElement[Any]:
    """The lower bound of the histogram bucket of ``value`` (in the buckets' unit × ``per_unit``)."""
    bounds = buckets.bounds
    return case(*((value < high * per_unit, low) for low, high in itertools.pairwise(bounds)),
                else_=bounds[-1])


def count_when(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def in_instants(column: Any, spans: Sequence[Span]) -> ColumnElement[bool]:
    """The instant falls on one of the spans' days."""
    parts = [and_(column >= instant(first), column < instant(last + timedelta(days=1))) for first, last in spans]
    return or_(*parts) if len(parts) > 1 else parts[0] if parts else false()


def in_days(column: Any, spans: Sequence[Span]) -> ColumnElement[bool]:
    parts = [column.between(first, last) for first, last in spans]
    return or_(*parts) if len(parts) > 1 else parts[0] if parts else false()


def spans_of(days: Iterable[date]) -> list[Span]:
    """Consecutive days as spans."""
    spans: list[Span] = []
    for day in sorted(set(days)):
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def owner(value: Any) -> uuid.UUID | None:
    """A team or assignee id as read (from a rollup, ``NO_OWNER`` is none)."""
    if value is None or value == NO_OWNER:
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _scoped(scope: Scope | None, team: Any, assignee: Any) -> list[ColumnElement[bool]]:
    condition = scope.on(team, assignee) if scope is not None else None
    return [condition] if condition is not None else []


def _grouped(inner: Any, dims: Sequence[str], measures: dict[str, ColumnElement[Any]], limit: int | None) -> Any:
    columns = [inner.c[name] for name in dims]
    statement = select(*columns, *(expression.label(name) for name, expression in measures.items()))
    if columns:
        statement = statement.group_by(*columns)
    return statement.limit(limit) if limit is not None else statement


# --------------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------------

SIGNAL_DIMENSIONS = ("day", "team_id", "assignee_id", "type", "source", "priority", "rt")
#: ``rt``: the lower bound (minutes) of the response-time bucket; null when nobody responded yet.
SIGNAL_MEASURES = ("signals", "acknowledged", "actioned", "dismissed", *OUTCOME_COLUMNS, "responded")


def _signal_dimension(session: Session, name: str) -> ColumnElement[Any]:
    if name == "day":
        return utc_day(session, Signal.detected_at)
    if name == "source":  # the source that saw the event first: one look-up per signal on evidence's index
        first = (select(Evidence.source).where(Evidence.signal_id == Signal.id)
                 .order_by(Evidence.observed_at, Evidence.source).limit(1).correlate(Signal).scalar_subquery())
        return func.coalesce(first, UNKNOWN_SOURCE)
    if name == "rt":
        seconds = seconds_between(session, Signal.first_action_at, Signal.detected_at)
        return case((Signal.first_action_at.is_(None), None), else_=bucket(seconds, RESPONSE_MINUTES, 60))
    column: ColumnElement[Any] = getattr(Signal, name)
    return column


def _signal_measure(inner: Any, name: str) -> ColumnElement[Any]:
    if name == "signals":
        return func.count()
    if name == "acknowledged":
        return count_when(inner.c.f_status.in_(WORKED))
    if name == "actioned":
        return count_when(inner.c.f_action.is_not(None))
    if name == "dismissed":
        return count_when(inner.c.f_status == SignalStatus.DISMISSED.value)
    if name == "responded":
        return func.count(inner.c.f_first_action_at)
    outcome = SignalOutcome(name.removeprefix("outcome_"))
    return count_when(inner.c.f_outcome == outcome.value)


def signal_statement(session: Session, spans: Sequence[Span], scope: Scope | None, dims: Sequence[str],
                     measures: Sequence[str] = SIGNAL_MEASURES, *, limit: int | None = None) -> Any:
    """The signals detected on the spans' days in scope (held-out ones left out), grouped by ``dims``."""
    inner = (select(*(_signal_dimension(session, name).label(name) for name in dims),
                    Signal.status.label("f_status"), Signal.action.label("f_action"),
                    Signal.outcome.label("f_outcome"), Signal.first_action_at.label("f_first_action_at"))
             .where(*_scoped(scope, Signal.team_id, Signal.assignee_id), in_instants(Signal.detected_at, spans),
                    Signal.holdout.is_(False))
             .subquery("facts"))
    return _grouped(inner, dims, {m: _signal_measure(inner, m) for m in measures}, limit)


def signal_facts(session: Session, spans: Sequence[Span], scope: Scope | None, dims: Sequence[str],
                 measures: Sequence[str] = SIGNAL_MEASURES, *, limit: int | None = None) -> Sequence[Row[Any]]:
    return session.execute(signal_statement(session, spans, scope, dims, measures, limit=limit)).all()


# --------------------------------------------------------------------------------------------------
# Recovery: payments and promises, by the day they occurred and their lead's owner
# --------------------------------------------------------------------------------------------------

PAYMENT_DIMENSIONS = ("day", "team_id", "assignee_id", "fp")
#: ``fp``: for a lead's first payment ever, the lower bound (days) of the days-from-placement bucket; else null.
PAYMENT_MEASURES = ("payments", "recovered", "payers", "week_first_payers", "week_last_payers", "first_payers")
PROMISE_MEASURES = ("promises", "promises_kept", "promises_broken")


def payment_facts(session: Session, spans: Sequence[Span], scope: Scope | None, dims: Sequence[str], *,
                  limit: int | None = None) -> Sequence[Row[Any]]:
    """Per lead and day with a payment: counted once in ``payers``; in ``week_first_payers`` (``…last…``) when no
    other payment of the lead came earlier (later) that Monday-to-Sunday week; in ``first_payers`` when it is the
    lead's first payment ever."""
    payment = OutcomeKind.PAYMENT.value
    paid = (select(Outcome.lead_id, Outcome.occurred_on.label("day"), func.count().label("n"),
                   func.coalesce(func.sum(Outcome.amount), 0).label("amount"))
            .where(Outcome.kind == payment, in_days(Outcome.occurred_on, spans))
            .group_by(Outcome.lead_id, Outcome.occurred_on).subquery("paid"))
    other = aliased(Outcome)
    monday, sunday = week_bounds(session, paid.c.day)

    def none_paid(*when: ColumnElement[bool]) -> ColumnElement[bool]:
        return ~exists().where(other.lead_id == paid.c.lead_id, other.kind == payment, *when)

    per_lead = (select(paid.c.day, paid.c.n, paid.c.amount, Lead.team_id, Lead.assignee_id, Lead.created_at,
                       none_paid(other.occurred_on >= monday, other.occurred_on < paid.c.day).label("week_first"),
                       none_paid(other.occurred_on > paid.c.day, other.occurred_on <= sunday).label("week_last"),
                       none_paid(other.occurred_on < paid.c.day).label("first_ever"))
                .join(Lead, Lead.id == paid.c.lead_id).where(*_scoped(scope, Lead.team_id, Lead.assignee_id))
                .subquery("per_lead"))
    fp = case((per_lead.c.first_ever, bucket(days_between(session, per_lead.c.day, per_lead.c.created_at),
                                             FIRST_PAYMENT_DAYS, 1)), else_=None)
    keyed = select(*(per_lead.c[name] for name in dims if name != "fp"), *([fp.label("fp")] if "fp" in dims else []),
                   per_lead.c.n, per_lead.c.amount, per_lead.c.week_first, per_lead.c.week_last,
                   per_lead.c.first_ever).subquery("keyed")
    return session.execute(_grouped(keyed, dims, {
        "payments": func.coalesce(func.sum(keyed.c.n), 0), "recovered": func.coalesce(func.sum(keyed.c.amount), 0),
        "payers": func.count(), "week_first_payers": count_when(keyed.c.week_first),
        "week_last_payers": count_when(keyed.c.week_last), "first_payers": count_when(keyed.c.first_ever)},
        limit)).all()


def payers_between(session: Session, first: date, last: date, scope: Scope) -> int:
    """Leads with a payment on these days (for a week bucket cut at both ends by the range)."""
    return int(session.scalar(
        select(func.count(func.distinct(Outcome.lead_id))).join(Lead, Lead.id == Outcome.lead_id)
        .where(Outcome.kind == OutcomeKind.PAYMENT.value, Outcome.occurred_on.between(first, last),
               *_scoped(scope, Lead.team_id, Lead.assignee_id)).limit(1)) or 0)


def promise_facts(session: Session, spans: Sequence[Span], scope: Scope | None, dims: Sequence[str], *,
                  limit: int | None = None) -> Sequence[Row[Any]]:
    """Promises made on the days, and how many of them were kept or broken since."""
    inner = (select(Outcome.occurred_on.label("day"), Lead.team_id, Lead.assignee_id,
                    Outcome.promise_status.label("status"))
             .join(Lead, Lead.id == Outcome.lead_id)
             .where(Outcome.kind == OutcomeKind.PROMISE.value, in_days(Outcome.occurred_on, spans),
                    *_scoped(scope, Lead.team_id, Lead.assignee_id))
             .subquery("promised"))
    return session.execute(_grouped(inner, dims, {
        "promises": func.count(), "promises_kept": count_when(inner.c.status == PromiseStatus.KEPT.value),
        "promises_broken": count_when(inner.c.status == PromiseStatus.BROKEN.value)}, limit)).all()


# --------------------------------------------------------------------------------------------------
# Sources: observations stored per day
# --------------------------------------------------------------------------------------------------

SOURCE_DIMENSIONS = ("day", "source_id", "team_id", "assignee_id")


def source_facts(session: Session, spans: Sequence[Span], scope: Scope | None, dims: Sequence[str], *,
                 limit: int | None = None) -> Sequence[Row[Any]]:
    """Observations stored on the days, per source, owned by their lead (none when unlinked)."""
    inner = (select(utc_day(session, Observation.created_at).label("day"), Observation.source_id,
                    Lead.team_id, Lead.assignee_id)
             .select_from(Observation).outerjoin(Lead, Lead.id == Observation.lead_id)
             .where(in_instants(Observation.created_at, spans), *_scoped(scope, Lead.team_id, Lead.assignee_id))
             .subquery("stored"))
    return session.execute(_grouped(inner, dims, {"observations": func.count()}, limit)).all()


# --------------------------------------------------------------------------------------------------
# Coverage: the leads at one instant
# --------------------------------------------------------------------------------------------------

COVERAGE_DIMENSIONS = ("team_id", "assignee_id", "monitored", "age")
#: ``monitored``: 1 when an enabled source has the lead on its schedule (a next due time); ``age``: the lower
#: bound (hours) of the time since a source last looked at the lead; null: never.


def coverage_facts(session: Session, now: datetime, scope: Scope | None, *,
                   limit: int | None = None) -> Sequence[Row[Any]]:
    """The leads (not merged away) in scope, by owner, monitored or not and the age of their freshest look."""
    checks = (select(LeadSchedule.lead_id, func.max(LeadSchedule.last_checked_at).label("checked"),
                     func.max(case((and_(LeadSchedule.next_due_at.is_not(None), Source.enabled.is_(True)), 1),
                                   else_=0)).label("monitored"))
              .join(Source, Source.id == LeadSchedule.source_id).group_by(LeadSchedule.lead_id).subquery("checks"))
    seen = (select(Observation.lead_id, func.max(Observation.observed_at).label("seen"))
            .where(Observation.lead_id.is_not(None)).group_by(Observation.lead_id).subquery("seen"))
    latest = case((checks.c.checked.is_(None), seen.c.seen), (seen.c.seen.is_(None), checks.c.checked),
                  (checks.c.checked > seen.c.seen, checks.c.checked), else_=seen.c.seen)
    inner = (select(Lead.team_id, Lead.assignee_id, func.coalesce(checks.c.monitored, 0).label("monitored"),
                    latest.label("latest"))
             .outerjoin(checks, checks.c.lead_id == Lead.id).outerjoin(seen, seen.c.lead_id == Lead.id)
             .where(Lead.merged_into_id.is_(None), *_scoped(scope, Lead.team_id, Lead.assignee_id))
             .subquery("leads_seen"))
    age = case((inner.c.latest.is_(None), None), else_=bucket(
        seconds_between(session, literal(now, UTCDateTime()), inner.c.latest), AGE_HOURS, 3600))
    keyed = select(inner.c.team_id, inner.c.assignee_id, inner.c.monitored, age.label("age")).subquery("keyed")
    return session.execute(_grouped(keyed, COVERAGE_DIMENSIONS, {"leads": func.count()}, limit)).all()
