"""The daily rollups the reports read for complete days (docs/analytics.md, "Rollups"), and their bookkeeping.

One row per UTC day and owner (the team and assignee the rows belong to, as the signals' and leads' own columns
say; the signal counts per team and per agent apart, so that the whole scope adds up teams, not agents) and the
report's other dimensions, holding counts that add up across days and owners; medians and p90s come
from fixed histograms (``histogram.py``), one count column per bucket. "No team" and "unassigned" are stored as
the nil UUID (``NO_OWNER``) so that the dimensions make the primary key on both databases.

``analytics_rollup_days`` says which days of which rollup (``kind``) are built, and which changed since (dirty):
rebuilt by the ``analytics.rollup`` task (``rollup.py``). ``analytics_rollup_cursors`` holds how far the task has
read the tables whose changes emit no event (outcomes, leads).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Numeric, String, Table, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.analytics.histogram import AGE_HOURS, FIRST_PAYMENT_DAYS, RESPONSE_MINUTES, Buckets
from upswing.core.db import Base, UTCDateTime
from upswing.observation.models import Observation
from upswing.signal.models import SignalOutcome

#: Stands for "no team" / "unassigned" in the rollups' keys.
NO_OWNER = uuid.UUID(int=0)
#: The signal outcomes counted per signal (``outcome_<value>`` columns).
OUTCOME_COLUMNS = [f"outcome_{o.value}" for o in SignalOutcome]


def _counts(*names: str) -> list[Column[Any]]:
    return [Column(name, Integer, nullable=False, default=0) for name in names]


def _histogram(buckets: Buckets) -> list[Column[Any]]:
    return _counts(*buckets.columns)


def _keys(*extra: Column[Any]) -> list[Column[Any]]:
    return [Column("day", Date, primary_key=True), Column("team_id", Uuid, primary_key=True),
            Column("assignee_id", Uuid, primary_key=True), *extra]


def _owner_indexes(table: str) -> list[Index]:
    """A team's or an agent's days: the scoped reports' range scans."""
    return [Index(f"ix_{table}_team_day", "team_id", "day"), Index(f"ix_{table}_assignee_day", "assignee_id", "day")]


def _signal_keys() -> list[Column[Any]]:
    return [Column("type", String(40), primary_key=True), Column("source", String(120), primary_key=True)]


_SIGNAL_COUNTS = ("signals", "acknowledged", "actioned", "dismissed", *OUTCOME_COLUMNS)


class SignalDaily(Base):
    """Signals detected per day, team, type and source (of the earliest evidence): how far they got. The whole
    scope and a team's read it (no per-agent rows to add up)."""

    __table__ = Table(
        "analytics_daily", Base.metadata,
        Column("day", Date, primary_key=True), Column("team_id", Uuid, primary_key=True),
        *_signal_keys(), *_counts(*_SIGNAL_COUNTS),
        Index("ix_analytics_daily_team_day", "team_id", "day"),
    )


class AgentSignalDaily(Base):
    """The same per assignee instead of team: an agent's own signals."""

    __table__ = Table(
        "analytics_agent_daily", Base.metadata,
        Column("day", Date, primary_key=True), Column("assignee_id", Uuid, primary_key=True),
        *_signal_keys(), *_counts(*_SIGNAL_COUNTS),
        Index("ix_analytics_agent_daily_assignee_day", "assignee_id", "day"),
    )


class ResponseDaily(Base):
    """Signals detected per day, owner and priority: how many were responded to, and in how many minutes
    (``rt_<minutes>``: the histogram of minutes to the first action)."""

    __table__ = Table(
        "analytics_response_daily", Base.metadata,
        *_keys(Column("priority", String(10), primary_key=True)),
        *_counts("signals", "responded"), *_histogram(RESPONSE_MINUTES),
        *_owner_indexes("analytics_response_daily"),
    )


class RecoveryDaily(Base):
    """Payments and promises per day (``occurred_on``) and owner of the lead. ``payers``: leads paying that day;
    ``week_first_payers`` / ``week_last_payers``: leads whose first / last payment of that (Monday-based) week was
    that day, so that the leads paying in a week add up from days; ``first_payers``: leads whose first payment ever
    was that day, with the histogram of days from their placement (``fp_<days>``)."""

    __table__ = Table(
        "analytics_recovery_daily", Base.metadata,
        *_keys(),
        *_counts("payments"), Column("recovered", Numeric(16, 2), nullable=False, default=0),
        *_counts("payers", "week_first_payers", "week_last_payers", "promises", "promises_kept", "promises_broken",
                 "first_payers"),
        *_histogram(FIRST_PAYMENT_DAYS),
        *_owner_indexes("analytics_recovery_daily"),
    )


class SourceDaily(Base):
    """Observations stored per day (``created_at``), source and owner of the lead (``NO_OWNER`` when unlinked)."""

    __table__ = Table(
        "analytics_source_daily", Base.metadata,
        *_keys(Column("source_id", Uuid, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)),
        *_counts("observations"),
        *_owner_indexes("analytics_source_daily"),
    )


class CoverageDaily(Base):
    """A snapshot of the leads per owner, taken by the rollup task (the day's last one stays): how many are
    monitored, and how long since each was last looked at (``age_<hours>``; ``never``: not yet)."""

    __table__ = Table(
        "analytics_coverage_daily", Base.metadata,
        *_keys(Column("taken_at", UTCDateTime, nullable=False)),
        *_counts("leads", "monitored", "never"), *_histogram(AGE_HOURS),
        *_owner_indexes("analytics_coverage_daily"),
    )


class RollupDay(Base):
    """One day of one rollup: built when, and changed since (``dirty_at``) — the task rebuilds dirty days."""

    __tablename__ = "analytics_rollup_days"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dirty_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RollupCursor(Base):
    """How far the rollup task has read a table by its ``updated_at`` index (outcomes and leads emit no event)."""

    __tablename__ = "analytics_rollup_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# Observations stored per day, by source: the source-health rollup's (and today's live) range scan. Declared here
# because only analytics reads observations by the time they were stored.
Index("ix_observations_created_at_source", Observation.created_at, Observation.source_id)
