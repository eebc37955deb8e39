"""What the escalation API reads and writes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from upswing.core.pagination import MAX_LIMIT, offset_field
from upswing.core.timeparse import LooseDatetime
from upswing.escalation.calendar import check_country, parse_clock, parse_weekdays
from upswing.escalation.models import DelayUnit, EscalationTarget
from upswing.signal.models import Priority

_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
#: The highest escalation level a policy may have.
MAX_LEVEL = 9


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r} (for example America/New_York)") from None
    return value


def _country(value: str | None) -> str | None:
    return None if value is None or not value.strip() else check_country(value)


Zone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_zone)]


# --------------------------------------------------------------------------------------------------
# Policies


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    priority: str
    level: int
    delay_value: int
    delay_unit: DelayUnit
    target: EscalationTarget
    enabled: bool
    updated_at: datetime
    updated_by: str | None


class PolicySet(BaseModel):
    """A policy, created or replaced by its priority and level: a signal of ``priority`` still unacknowledged
    ``delay_value`` ``delay_unit`` after detection goes to ``target`` as escalation ``level``."""

    model_config = ConfigDict(extra="forbid")
    priority: Priority
    level: int = Field(ge=1, le=MAX_LEVEL, description="1: the first escalation, 2: the next…")
    delay_value: int = Field(ge=1, le=1000, description="How much business time after detection")
    delay_unit: DelayUnit = Field(description="business_hours, or business_days (a business day is the length of "
                                              "the team's business day)")
    target: EscalationTarget = Field(description="manager: the team's manager(s) (none: the admins); admin: every "
                                                 "admin")
    enabled: bool = True


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delay_value: int | None = Field(default=None, ge=1, le=1000)
    delay_unit: DelayUnit | None = None
    target: EscalationTarget | None = None
    enabled: bool | None = None


# --------------------------------------------------------------------------------------------------
# Business calendars and holidays


class HolidayInfo(BaseModel):
    day: date
    name: str
    source: str = Field(description="team, all_teams (configured holidays) or country (public holidays)")


class CalendarRead(BaseModel):
    team_id: uuid.UUID | None = Field(description="None: the default calendar (settings), for leads without a team")
    own: bool = Field(description="true: the team's own calendar; false: the default from the settings")
    timezone: str
    start: str
    end: str
    weekdays: list[str]
    holiday_country: str | None
    day_minutes: int = Field(description="Length of one business day (what a business day of delay counts)")
    upcoming_holidays: list[HolidayInfo] = Field(description="Days off in the next twelve months")
    updated_at: datetime | None


class CalendarSet(BaseModel):
    """A team's business hours. ``weekdays`` as names (``mon``), numbers (0 = Monday) or ranges (``mon-fri``)."""

    model_config = ConfigDict(extra="forbid")
    timezone: Zone = Field(description="IANA time zone, e.g. America/New_York")
    start: str = Field(pattern=_CLOCK, description="HH:MM local, e.g. 09:00")
    end: str = Field(pattern=_CLOCK, description="HH:MM local, after start, e.g. 17:00")
    weekdays: list[str | int] | str = Field(default="mon-fri", description='e.g. ["mon", "tue"], [0, 1] or "mon-fri"')
    holiday_country: str | None = Field(default=None, max_length=10, description=(
        "ISO 3166 code whose public holidays are days off (the holidays package), e.g. US; null: only the listed "
        "holidays"))

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and parse_clock(value) <= parse_clock(start):
            raise ValueError(f"the business day must end after it starts ({start})")
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[str | int] | str) -> list[int]:
        return parse_weekdays(value)

    _check_country = field_validator("holiday_country")(_country)

    def weekday_numbers(self) -> list[int]:
        return parse_weekdays(self.weekdays)


class HolidayCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    name: str = Field(min_length=1, max_length=120)
    team_id: uuid.UUID | None = Field(default=None, description="Only this team's day off; null: every team's")


class HolidayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    team_id: uuid.UUID | None
    day: date
    name: str
    created_at: datetime


# --------------------------------------------------------------------------------------------------
# Escalations


class EscalationFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int | None = Field(default=None, ge=1, le=MAX_LEVEL)
    priority: Priority | None = None
    since: LooseDatetime | None = Field(default=None, description="Escalated on or after")
    user: str | None = Field(default=None, max_length=120, description=(
        "me: escalations to you; or a user's id or username: escalations to them"))
    open: bool | None = Field(default=None, description="true: only those whose signal nobody has acknowledged yet")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = offset_field()


class EscalationRead(BaseModel):
    id: uuid.UUID
    signal_id: uuid.UUID
    lead_id: uuid.UUID
    lead_external_id: str
    lead_name: str
    team_id: uuid.UUID | None
    signal_type: str
    signal_title: str | None
    organization: str | None
    signal_status: str
    still_open: bool = Field(description="Nobody has acknowledged, actioned or dismissed the signal yet")
    level: int
    priority: str
    user_id: uuid.UUID = Field(description="Who it was escalated to")
    username: str
    assignee_username: str | None
    alert_id: uuid.UUID | None
    policy_id: uuid.UUID | None
    detected_at: datetime
    due_at: datetime = Field(description="The business deadline that passed")
    created_at: datetime
