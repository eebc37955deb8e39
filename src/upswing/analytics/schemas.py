"""What the analytics API reads and answers: every report is a table (``columns`` in order, typed ``rows``) over
a date range and a scope, with the same rows downloadable as CSV (docs/analytics.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: The longest range one report covers (inclusive days): the reports read the signals detected in the range
#: through the detected_at indexes, so the range bounds the rows read.
MAX_RANGE_DAYS = 366
#: The range when none is given: the last 30 days, today included.
DEFAULT_RANGE_DAYS = 30
#: Groups (rows) one query may return; beyond it the report says ``truncated``.
MAX_GROUPS = 20_000


class AnalyticsBucket(StrEnum):
    DAY = "day"
    WEEK = "week"


_TEAM = Field(default=None, min_length=1, max_length=120, description=(
    "A team's name or id, or all. Default: a manager's own team (all teams when they have none); every team for "
    "admins and viewers. Agents see their own signals only and may not choose a team."))


class AnalyticsQuery(BaseModel):
    """The range and scope every report takes."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date | None = Field(default=None, alias="from", description=(
        f"First day (UTC), inclusive. Default: {DEFAULT_RANGE_DAYS - 1} days before to"))
    to: date | None = Field(default=None, description=(
        f"Last day (UTC), inclusive; default today. At most {MAX_RANGE_DAYS} days in all"))
    team: str | None = _TEAM


class BucketQuery(AnalyticsQuery):
    """The range and scope, and the rows' bucket (the reports over time: signals, recovery, coverage)."""

    bucket: AnalyticsBucket = Field(default=AnalyticsBucket.DAY, description="day, or week (weeks start on Monday)")


SignalsQuery = BucketQuery


class AnalyticsColumn(BaseModel):
    """One column of a report's table, in order: ``name`` is the row's field (and the CSV header)."""

    name: str
    label: str = Field(description="Heading for people")
    kind: Literal["date", "datetime", "text", "boolean", "count", "rate", "minutes", "hours", "days", "dollars"] = \
        Field(description="count: an integer; rate: a share from 0 to 1; minutes, hours, days: a duration; dollars: "
                          "an amount of money; datetime: an instant (UTC)")


class AnalyticsScope(BaseModel):
    """Whose signals (or leads) the report counts."""

    kind: Literal["all", "team", "agent"]
    team_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    label: str = Field(description="All teams, the team's name, or the agent's name")


class AnalyticsReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First day (UTC), inclusive")
    to: date = Field(description="Last day (UTC), inclusive")
    scope: AnalyticsScope
    columns: list[AnalyticsColumn]
    truncated: bool = Field(default=False, description=f"More than {MAX_GROUPS:,} groups: the rows are cut there")
    notes: list[str] = Field(default_factory=list, description="What the figures mean, and what they leave out")


# --------------------------------------------------------------------------------------------------
# The reports
# --------------------------------------------------------------------------------------------------


class SignalsRow(BaseModel):
    bucket: date = Field(description="The day, or the Monday starting the week (UTC)")
    type: str
    source: str = Field(description="Slug of the source of the signal's earliest evidence; unknown when none")
    signals: int


class SignalsReport(AnalyticsReport):
    """Signals detected per day or week, by type and by source."""

    bucket: AnalyticsBucket
    rows: list[SignalsRow]


class FunnelRow(BaseModel):
    type: str
    signals: int
    acknowledged: int = Field(description="Acknowledged, actioned or resolved (not dismissed)")
    actioned: int = Field(description="Somebody acted: a contact (call, sms, email, letter) or a CRM task")
    promised: int = Field(description="Outcome promise_to_pay, or payment (which passed the promise stage)")
    paid: int = Field(description="Outcome payment")
    dismissed: int
    acknowledged_rate: float = Field(description="acknowledged / signals")
    actioned_rate: float = Field(description="actioned / signals")
    promised_rate: float = Field(description="promised / signals")
    paid_rate: float = Field(description="paid / signals")


class FunnelReport(AnalyticsReport):
    """Per signal type, of the signals detected in the range: how far each got."""

    rows: list[FunnelRow]


class ResponseTimeRow(BaseModel):
    group: Literal["all", "team", "agent"] = Field(description="all: the whole scope; team: per team (the "
                                                               "signal's); agent: per assignee")
    id: uuid.UUID | None = Field(description="The team's or agent's id; null for all, no team or unassigned")
    name: str
    priority: str = Field(description="urgent, high, medium, low, or all")
    signals: int
    responded: int = Field(description="Signals somebody acknowledged, actioned or dismissed")
    median_minutes: float | None = Field(description="Median from detection to first action; null: none yet")
    p90_minutes: float | None = Field(description="90th percentile (continuous) from detection to first action")


class ResponseTimesReport(AnalyticsReport):
    """From detection to the first acknowledgement, action or dismissal, per agent and team, by priority."""

    rows: list[ResponseTimeRow]


class OutcomeCountRow(BaseModel):
    outcome: str
    signals: int
    share: float = Field(description="Of the signals with an outcome")


class OutcomesReport(AnalyticsReport):
    """The outcomes recorded on the signals detected in the range."""

    signals: int = Field(description="Signals detected in the range")
    with_outcome: int = Field(description="Of them, with an outcome recorded")
    rows: list[OutcomeCountRow]


class ModelQualityRow(BaseModel):
    type: str = Field(description="The signal type people gave feedback on")
    kind: Literal["person", "company"] = Field(description="The classifier: person events or company intents")
    confirmed: int = Field(description="Signals whose type people confirmed")
    corrected: int = Field(description="Signals whose type people corrected (to another type or to none)")
    not_an_event: int = Field(description="Of the corrected, those people said report no event at all")
    confirmed_share: float = Field(description="confirmed / (confirmed + corrected)")
    examples: int = Field(description="Texts stored as labelled examples for retraining")


class ModelQualityReport(AnalyticsReport):
    """Feedback given in the range, per detected type: confirmed against corrected."""

    rows: list[ModelQualityRow]


class RecoveryRow(BaseModel):
    bucket: date = Field(description="The day, or the Monday starting the week (UTC)")
    payments: int = Field(description="Payments received in the bucket")
    recovered: float = Field(description="Dollars: the sum of the payments' amounts")
    leads_paying: int = Field(description="Leads with at least one payment in the bucket")
    promises: int = Field(description="Promises to pay made in the bucket")
    promises_kept: int = Field(description="Of those, kept (settled since)")
    promises_broken: int = Field(description="Of those, broken")
    kept_rate: float = Field(description="kept / (kept + broken); 0 when none settled")


class RecoveryReport(AnalyticsReport):
    """What the leads in scope paid and promised, per day or week; days to their first payment."""

    bucket: AnalyticsBucket
    first_payments: int = Field(description="Leads whose first payment ever was in the range")
    days_to_first_payment_median: float | None = Field(
        description="Median days from the lead's placement (created) to its first payment, of those leads")
    days_to_first_payment_p90: float | None = Field(description="90th percentile of the same")
    rows: list[RecoveryRow]


class CoverageRow(BaseModel):
    bucket: date = Field(description="The day (or the Monday of the week) of the snapshot the row shows")
    leads: int = Field(description="Leads in scope (not merged into another)")
    monitored: int = Field(description="Of them, on an enabled source's schedule (a next check is due)")
    monitored_share: float = Field(description="monitored / leads")
    under_1_day: int = Field(description="Last looked at less than a day before the snapshot")
    days_1_to_7: int = Field(description="1 to 7 days before")
    days_7_to_30: int = Field(description="7 to 30 days before")
    older: int = Field(description="30 days or more before")
    never: int = Field(description="Never looked at (no check, no observation)")
    median_hours: float | None = Field(description="Median hours since the last look, of the leads looked at")
    p90_hours: float | None = Field(description="90th percentile of the same")


class CoverageReport(AnalyticsReport):
    """How much of the book is monitored, and how fresh the look at each lead is, per day or week."""

    bucket: AnalyticsBucket
    as_of: datetime | None = Field(description="When the newest row's snapshot was taken (null: no row)")
    rows: list[CoverageRow]


class SourceHealthRow(BaseModel):
    source: str = Field(description="The source's slug")
    name: str
    connector: str
    enabled: bool
    state: str = Field(description="ok | degraded | blocked | disabled")
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    consecutive_failures: int = Field(description="Failed runs in a row (0 after a success)")
    last_error: str | None = Field(description="The last error's message (admins only; null for other roles)")
    budget_used: int = Field(description="Units spent today (UTC), all of the source's budgets")
    budget_limit: int | None = Field(description="Today's limit of those budgets; null: unlimited")
    budget_used_share: float | None = Field(description="budget_used / budget_limit")
    observations: int = Field(description="Observations the source stored in the range (for the leads in scope)")


class SourceHealthReport(AnalyticsReport):
    """Every source: its state, runs, errors, today's budget, and what it collected in the range."""

    rows: list[SourceHealthRow]
