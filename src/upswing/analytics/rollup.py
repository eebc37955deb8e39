"""The daily rollups (docs/analytics.md, "Rollups"): building a day, knowing which days are built and which changed
since, and keeping them current.

**Kinds.** ``signals`` (``analytics_daily`` per team, ``analytics_agent_daily`` per assignee and
``analytics_response_daily``, by the day signals were detected),
``recovery`` (``analytics_recovery_daily``, by the day outcomes occurred) and ``sources``
(``analytics_source_daily``, by the day observations were stored) are built per complete UTC day from
``facts.py``: one grouped query per day (two for recovery) over that day's index range, the day's rows replaced in
one transaction. ``coverage`` is a snapshot of the leads, taken at most hourly (the day's last one stays).

**Reading.** ``plan`` splits a report's range: the days whose rollup is built are read from it; every other day
(today, a day not built yet) is computed live. A built day that changed since it was built (dirty) is read from
its rollup until the next run rebuilds it; the reports say how many such days the range holds.

**Keeping current** (the ``analytics.rollup`` task, every ``RUN_EVERY``, and ``upswing analytics rollup``):

* a change to a signal marks its detection day dirty (the outbox consumer of ``signal.created``/``updated``/
  ``dismissed``, ``tasks.py``);
* outcomes and leads emit no event: each run reads those changed since its last run (their ``updated_at``
  indexes, with an overlap for transactions that committed late) and marks the days of the lead's outcomes (a
  payment changes which of the lead's other payments was its first), and for a changed lead also of its signals
  and observations (a reassignment moves them to another owner); more than ``SWEEP_CAP`` changed leads mark every
  built day;
* each run then builds the complete days not built yet (newest first, from the first day with data), the dirty
  days, and a few of the days built longest ago, so that every day is rebuilt at least daily: what changes without
  a trace (a deletion, the daily rescore moving a signal's priority) is in the rollups within a day.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from upswing.analytics.facts import (
    PAYMENT_MEASURES,
    PROMISE_MEASURES,
    Span,
    coverage_facts,
    in_days,
    owner,
    payment_facts,
    promise_facts,
    signal_facts,
    source_facts,
    spans_of,
    utc_day,
)
from upswing.analytics.histogram import AGE_HOURS, FIRST_PAYMENT_DAYS, RESPONSE_MINUTES
from upswing.analytics.models import (
    NO_OWNER,
    OUTCOME_COLUMNS,
    AgentSignalDaily,
    CoverageDaily,
    RecoveryDaily,
    ResponseDaily,
    RollupCursor,
    RollupDay,
    SignalDaily,
    SourceDaily,
)
from upswing.analytics.scope import Scope, Window, is_postgres
from upswing.core.db import utcnow
from upswing.core.logging import get_logger
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.outcome.models import Outcome, OutcomeKind
from upswing.signal.models import Signal

log = get_logger(__name__)

SIGNALS, RECOVERY, SOURCES = "signals", "recovery", "sources"
#: The rollups built per day (coverage is a snapshot).
DAILY_KINDS = (SIGNALS, RECOVERY, SOURCES)
TABLES: dict[str, tuple[Table, ...]] = {
    SIGNALS: (SignalDaily.__table__, AgentSignalDaily.__table__, ResponseDaily.__table__),
    RECOVERY: (RecoveryDaily.__table__,),
    SOURCES: (SourceDaily.__table__,),
}
DAILY: Table = SignalDaily.__table__
AGENT_DAILY: Table = AgentSignalDaily.__table__
RESPONSE: Table = ResponseDaily.__table__
RECOVERY_TABLE: Table = RecoveryDaily.__table__
SOURCE_TABLE: Table = SourceDaily.__table__
COVERAGE_TABLE: Table = CoverageDaily.__table__

#: How often the task runs, and how long one run may build before leaving the rest to the next.
RUN_EVERY = timedelta(minutes=5)
RUN_BUDGET = timedelta(minutes=2)
#: Every built day is rebuilt at least this often (the net under changes that leave no trace).
REFRESH_AFTER = timedelta(days=1)
#: Coverage snapshots are taken at most this often.
COVERAGE_EVERY = timedelta(hours=1)
#: Rows changed this long before the last sweep are read again (transactions that committed late).
SWEEP_OVERLAP = timedelta(minutes=10)
#: More changed leads than this in one sweep mark every built day instead of looking each one up.
SWEEP_CAP = 5000

DAILY_MEASURES = ("signals", "acknowledged", "actioned", "dismissed", *OUTCOME_COLUMNS)


# --------------------------------------------------------------------------------------------------
# Which days a report reads from the rollups
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """A report's range split: spans read from a rollup, spans computed live."""

    rolled: list[Span] = field(default_factory=list)
    live: list[Span] = field(default_factory=list)
    #: Rolled days that changed after they were built (read as built until the next run).
    dirty: int = 0
    #: When the rolled days were built: the oldest and the newest.
    built: tuple[datetime, datetime] | None = None


def plan(session: Session, kind: str, win: Window, *, today: date, rollups: bool = True) -> Plan:
    """Read a complete day from the ``kind`` rollup when it is built; compute the rest (today) live."""
    if not rollups:
        return Plan(live=[(win.start, win.end)])
    built = {row.day: row for row in session.execute(
        select(RollupDay.day, RollupDay.built_at, RollupDay.dirty_at)
        .where(RollupDay.kind == kind, RollupDay.day.between(win.start, min(win.end, today - timedelta(days=1))),
               RollupDay.built_at.is_not(None)))}
    days = win.days()
    rolled = [day for day in days if day in built]
    times = [built[day].built_at for day in rolled]
    return Plan(rolled=spans_of(rolled), live=spans_of(day for day in days if day not in built),
                dirty=sum(1 for day in rolled if built[day].dirty_at is not None),
                built=(min(times), max(times)) if times else None)


def daily_table(scope: Scope) -> Table:
    """The signal counts an agent's scope reads (per assignee), or the whole scope's and a team's (per team)."""
    return AGENT_DAILY if scope.read.kind == "agent" else DAILY


def rolled(session: Session, table: Table, spans: Sequence[Span], scope: Scope, dims: Sequence[str],
           measures: Sequence[str], *, limit: int | None = None) -> Sequence[Any]:
    """The sums of a rollup's ``measures`` over the spans' days in scope, grouped by ``dims``."""
    if not spans:
        return []
    keys = [table.c[name] for name in dims]
    condition = scope.on(table.c.get("team_id"), table.c.get("assignee_id"))
    statement = (select(*keys, *(func.coalesce(func.sum(table.c[name]), 0).label(name) for name in measures))
                 .where(*([condition] if condition is not None else []), in_days(table.c.day, spans)))
    if keys:
        statement = statement.group_by(*keys)
    return session.execute(statement.limit(limit) if limit is not None else statement).all()


def staleness_note(found: Plan, what: str) -> str | None:
    """What the notes say about the rolled days, or None when every day was computed live."""
    if found.built is None:
        return None
    note = (f"Days before today are read from the daily rollups of {what} (built "
            f"{found.built[0]:%Y-%m-%d %H:%M}–{found.built[1]:%Y-%m-%d %H:%M} UTC); today is counted live. A change "
            f"to an earlier day shows once the rollup task (every {int(RUN_EVERY.total_seconds() // 60)} minutes) "
            "has rebuilt it")
    if found.dirty:
        note += f": {found.dirty} day(s) of this range changed since and wait for it"
    return note + "."


# --------------------------------------------------------------------------------------------------
# Building one day
# --------------------------------------------------------------------------------------------------


def _zeros(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names, 0)


def _stored(value: Any) -> uuid.UUID:
    return owner(value) or NO_OWNER


def _signal_rows(session: Session, day: date) -> dict[Table, list[dict[str, Any]]]:
    daily: dict[tuple[Any, ...], dict[str, Any]] = {}
    agents: dict[tuple[Any, ...], dict[str, Any]] = {}
    response: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in signal_facts(session, [(day, day)], None, ("team_id", "assignee_id", "type", "source", "priority",
                                                           "rt")):
        team, assignee = _stored(row.team_id), _stored(row.assignee_id)
        for into, owner_key, owner_id in ((daily, "team_id", team), (agents, "assignee_id", assignee)):
            counts = into.setdefault((owner_id, row.type, row.source), {
                "day": day, owner_key: owner_id, "type": row.type, "source": row.source, **_zeros(*DAILY_MEASURES)})
            for name in DAILY_MEASURES:
                counts[name] += int(row._mapping[name])
        times = response.setdefault((team, assignee, row.priority), {
            "day": day, "team_id": team, "assignee_id": assignee, "priority": row.priority,
            **_zeros("signals", "responded", *RESPONSE_MINUTES.columns)})
        times["signals"] += int(row.signals)
        if row.rt is not None:
            times["responded"] += int(row.signals)
            times[RESPONSE_MINUTES.column(int(row.rt))] += int(row.signals)
    return {DAILY: list(daily.values()), AGENT_DAILY: list(agents.values()), RESPONSE: list(response.values())}


def _recovery_rows(session: Session, day: date) -> dict[Table, list[dict[str, Any]]]:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    def row_of(team_id: Any, assignee_id: Any) -> dict[str, Any]:
        team, assignee = _stored(team_id), _stored(assignee_id)
        return rows.setdefault((team, assignee), {
            "day": day, "team_id": team, "assignee_id": assignee,
            **_zeros(*PAYMENT_MEASURES, *PROMISE_MEASURES, *FIRST_PAYMENT_DAYS.columns), "recovered": Decimal(0)})

    for paid in payment_facts(session, [(day, day)], None, ("team_id", "assignee_id", "fp")):
        counts = row_of(paid.team_id, paid.assignee_id)
        for name in PAYMENT_MEASURES:
            counts[name] += Decimal(str(paid.recovered)) if name == "recovered" else int(paid._mapping[name])
        if paid.fp is not None:
            counts[FIRST_PAYMENT_DAYS.column(int(paid.fp))] += int(paid.first_payers)
    for promised in promise_facts(session, [(day, day)], None, ("team_id", "assignee_id")):
        counts = row_of(promised.team_id, promised.assignee_id)
        for name in PROMISE_MEASURES:
            counts[name] += int(promised._mapping[name])
    return {RECOVERY_TABLE: list(rows.values())}


def _source_rows(session: Session, day: date) -> dict[Table, list[dict[str, Any]]]:
    return {SOURCE_TABLE: [{"day": day, "source_id": row.source_id, "team_id": _stored(row.team_id),
                            "assignee_id": _stored(row.assignee_id), "observations": int(row.observations)}
                           for row in source_facts(session, [(day, day)], None,
                                                   ("source_id", "team_id", "assignee_id"))]}


BUILDERS: dict[str, Callable[[Session, date], dict[Table, list[dict[str, Any]]]]] = {
    SIGNALS: _signal_rows, RECOVERY: _recovery_rows, SOURCES: _source_rows}


def _upsert(session: Session) -> Any:
    return postgresql.insert if is_postgres(session) else sqlite.insert


def build_day(session: Session, kind: str, day: date, *, now: datetime | None = None) -> int:
    """Replace the ``kind`` rollup's rows of ``day`` (in the caller's transaction); returns the rows written. The
    day is marked built and clean first: on PostgreSQL that locks its row, so a change marked meanwhile waits and
    marks it dirty again after this commits."""
    now = now or utcnow()
    statement = _upsert(session)(RollupDay).values(kind=kind, day=day, built_at=now, dirty_at=None)
    session.execute(statement.on_conflict_do_update(index_elements=[RollupDay.kind, RollupDay.day],
                                                    set_={"built_at": now, "dirty_at": None}))
    written = 0
    for table, values in BUILDERS[kind](session, day).items():
        session.execute(delete(table).where(table.c.day == day))
        if values:
            session.execute(insert(table), values)
            written += len(values)
    return written


def mark_dirty(session: Session, kind: str, days: Iterable[date], *, now: datetime | None = None) -> int:
    """Mark complete days of ``kind`` changed (a day not built yet is then built by the next run); today and later
    are counted live and left alone."""
    now = now or utcnow()
    chosen = sorted({day for day in days if day < now.date()})  # in order: two markers lock rows alike
    if not chosen:
        return 0
    for start in range(0, len(chosen), 500):
        statement = _upsert(session)(RollupDay).values(
            [{"kind": kind, "day": day, "built_at": None, "dirty_at": now} for day in chosen[start:start + 500]])
        session.execute(statement.on_conflict_do_update(index_elements=[RollupDay.kind, RollupDay.day],
                                                        set_={"dirty_at": now}))
    return len(chosen)


def mark_all_dirty(session: Session, kinds: Iterable[str], *, now: datetime | None = None) -> int:
    now = now or utcnow()
    result = session.execute(update(RollupDay).where(RollupDay.kind.in_(list(kinds)), RollupDay.built_at.is_not(None))
                             .values(dirty_at=now).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------------------------------
# Coverage snapshots
# --------------------------------------------------------------------------------------------------


def fold_coverage(rows: Iterable[Any]) -> dict[tuple[Any, Any], dict[str, int]]:
    """Coverage facts per owner: leads, monitored, never and the age histogram."""
    folded: dict[tuple[Any, Any], dict[str, int]] = {}
    for row in rows:
        counts = folded.setdefault((owner(row.team_id), owner(row.assignee_id)),
                                   _zeros("leads", "monitored", "never", *AGE_HOURS.columns))
        n = int(row.leads)
        counts["leads"] += n
        counts["monitored"] += n if row.monitored else 0
        if row.age is None:
            counts["never"] += n
        else:
            counts[AGE_HOURS.column(int(row.age))] += n
    return folded


def snapshot_coverage(session: Session, *, now: datetime | None = None) -> int:
    """Take the coverage snapshot of now, replacing today's; returns its rows."""
    now = now or utcnow()
    rows = [{"day": now.date(), "team_id": team or NO_OWNER, "assignee_id": assignee or NO_OWNER, "taken_at": now,
             **counts} for (team, assignee), counts in fold_coverage(coverage_facts(session, now, None)).items()]
    session.execute(delete(COVERAGE_TABLE).where(COVERAGE_TABLE.c.day == now.date()))
    if rows:
        session.execute(insert(COVERAGE_TABLE), rows)
    return len(rows)


def latest_coverage(session: Session) -> datetime | None:
    taken: datetime | None = session.scalar(select(func.max(COVERAGE_TABLE.c.taken_at)))
    return taken


# --------------------------------------------------------------------------------------------------
# What changed without an event
# --------------------------------------------------------------------------------------------------


def first_day(session: Session, kind: str) -> date | None:
    """The first day with anything to roll up (the indexes' first entries)."""
    if kind == SIGNALS:
        first: Any = session.scalar(select(func.min(Signal.detected_at)))
    elif kind == RECOVERY:
        days = [session.scalar(select(func.min(Outcome.occurred_on)).where(Outcome.kind == k.value))
                for k in (OutcomeKind.PAYMENT, OutcomeKind.PROMISE)]
        first = min((d for d in days if d is not None), default=None)
    else:
        first = session.scalar(select(func.min(Observation.created_at)))
    if first is None:
        return None
    return first.date() if isinstance(first, datetime) else first if isinstance(first, date) else \
        date.fromisoformat(str(first)[:10])


def _days(session: Session, column: Any, *where: Any) -> set[date]:
    found: set[date] = set()
    for value in session.scalars(select(column).where(*where).distinct()):
        found.add(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))
    return found


def _cursor(session: Session, name: str, now: datetime) -> datetime | None:
    """The cursor's time, moved to ``now`` (None: first run, nothing to catch up on)."""
    cursor = session.get(RollupCursor, name)
    if cursor is None:
        session.add(RollupCursor(name=name, at=now))
        session.flush()
        return None
    previous = cursor.at
    cursor.at = now
    return previous


def sweep(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Mark the days that outcomes and leads changed since the last sweep touched (module docstring)."""
    now = now or utcnow()
    marked = dict.fromkeys(DAILY_KINDS, 0)
    outcomes_since, leads_since = _cursor(session, "outcomes", now), _cursor(session, "leads", now)
    changed_outcomes: set[uuid.UUID] = set()
    changed_leads: set[uuid.UUID] = set()
    if outcomes_since is not None:
        changed_outcomes = set(session.scalars(select(Outcome.lead_id).where(
            Outcome.updated_at >= outcomes_since - SWEEP_OVERLAP).distinct()))
    if leads_since is not None:
        changed_leads = set(session.scalars(select(Lead.id).where(Lead.updated_at >= leads_since - SWEEP_OVERLAP)))
    if len(changed_leads) > SWEEP_CAP:  # a big import: every built day, rather than look each lead up
        for kind in DAILY_KINDS:
            marked[kind] += mark_all_dirty(session, [kind], now=now)
        return marked
    every_recovery_day = len(changed_outcomes) > SWEEP_CAP
    if every_recovery_day:
        marked[RECOVERY] += mark_all_dirty(session, [RECOVERY], now=now)
    recovery_leads = [] if every_recovery_day else sorted(changed_outcomes | changed_leads)
    changed = sorted(changed_leads)
    for start in range(0, len(recovery_leads), 1000):
        chunk = recovery_leads[start:start + 1000]
        marked[RECOVERY] += mark_dirty(session, RECOVERY, _days(
            session, Outcome.occurred_on, Outcome.lead_id.in_(chunk),
            Outcome.kind.in_([OutcomeKind.PAYMENT.value, OutcomeKind.PROMISE.value])), now=now)
    for start in range(0, len(changed), 1000):
        chunk = changed[start:start + 1000]
        marked[SIGNALS] += mark_dirty(session, SIGNALS, _days(
            session, utc_day(session, Signal.detected_at), Signal.lead_id.in_(chunk)), now=now)
        marked[SOURCES] += mark_dirty(session, SOURCES, _days(
            session, utc_day(session, Observation.created_at), Observation.lead_id.in_(chunk)), now=now)
    return marked


# --------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    marked: dict[str, int] = field(default_factory=dict)
    built: dict[str, int] = field(default_factory=dict)
    #: Days left for the next run (the run's time budget was spent).
    left: int = 0
    coverage: bool = False


def due_days(session: Session, kind: str, *, now: datetime, refresh: int) -> list[date]:
    """The days of ``kind`` to build now: dirty ones first (oldest change first), then the complete days with data
    not built yet (newest first), then the ``refresh`` days built longest ago (more than ``REFRESH_AFTER``)."""
    yesterday = now.date() - timedelta(days=1)
    rows = session.execute(select(RollupDay.day, RollupDay.built_at, RollupDay.dirty_at)
                           .where(RollupDay.kind == kind)).all()
    dirty = [row.day for row in sorted((r for r in rows if r.dirty_at is not None and r.day <= yesterday),
                                       key=lambda r: (r.dirty_at, r.day))]
    built = {row.day for row in rows if row.built_at is not None}
    first = first_day(session, kind)
    missing: list[date] = []
    if first is not None:
        day = yesterday
        while day >= first:
            if day not in built and day not in dirty:
                missing.append(day)
            day -= timedelta(days=1)
    stale = [row.day for row in sorted((r for r in rows if r.built_at is not None and r.dirty_at is None
                                        and r.built_at < now - REFRESH_AFTER), key=lambda r: (r.built_at, r.day))]
    return [*dirty, *missing, *stale[:refresh]]


def refresh(factory: sessionmaker[Session], *, now: datetime | None = None,
            budget: timedelta = RUN_BUDGET) -> RefreshReport:
    """One run of the rollup task: sweep, build what is due (each day its own transaction) until the budget is
    spent, and take the coverage snapshot when the last is older than ``COVERAGE_EVERY``."""
    now = now or utcnow()
    report = RefreshReport()
    with factory() as session, session.begin():
        report.marked = sweep(session, now=now)
    deadline = time.monotonic() + budget.total_seconds()
    runs_a_day = max(1, math.floor(REFRESH_AFTER / RUN_EVERY))
    for kind in DAILY_KINDS:
        with factory() as session:
            built_count = session.scalar(select(func.count()).select_from(RollupDay).where(
                RollupDay.kind == kind, RollupDay.built_at.is_not(None))) or 0
            days = due_days(session, kind, now=now, refresh=math.ceil(built_count / runs_a_day) + 1)
        report.built[kind] = 0
        for index, day in enumerate(days):
            if time.monotonic() > deadline:
                report.left += len(days) - index
                break
            with factory() as session, session.begin():
                build_day(session, kind, day)
            report.built[kind] += 1
    with factory() as session, session.begin():
        taken = latest_coverage(session)
        if taken is None or taken < now - COVERAGE_EVERY or taken.date() != now.date():
            snapshot_coverage(session, now=now)
            report.coverage = True
    log.info("analytics.rollup", marked=report.marked, built=report.built, left=report.left,
             coverage=report.coverage)
    return report


def rebuild(factory: sessionmaker[Session], kind: str, first: date | None = None, last: date | None = None, *,
            progress: Callable[[int], None] | None = None) -> int:
    """Build every day of ``kind`` from ``first`` (default: the first with data) to ``last`` (default: yesterday),
    newest first, one transaction a day; returns the days built."""
    yesterday = utcnow().date() - timedelta(days=1)
    last = min(last or yesterday, yesterday)
    if first is None:
        with factory() as session:
            first = first_day(session, kind)
        if first is None:
            return 0
    done = 0
    day = last
    while day >= first:
        with factory() as session, session.begin():
            build_day(session, kind, day)
        done += 1
        if progress is not None:
            progress(done)
        day -= timedelta(days=1)
    return done


@dataclass(frozen=True)
class KindStatus:
    kind: str
    built: int
    first: date | None
    last: date | None
    dirty: int
    oldest_build: datetime | None


def status(session: Session) -> list[KindStatus]:
    """Per rollup: the days built (and their first and last), the dirty ones, the oldest build."""
    found = []
    for kind in DAILY_KINDS:
        row = session.execute(select(func.count(RollupDay.built_at), func.min(RollupDay.day), func.max(RollupDay.day),
                                     func.count(RollupDay.dirty_at), func.min(RollupDay.built_at))
                              .where(RollupDay.kind == kind)).one()
        found.append(KindStatus(kind, int(row[0]), row[1], row[2], int(row[3]), row[4]))
    return found
