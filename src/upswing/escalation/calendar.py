"""Business time: a team's working hours, weekdays and holidays, and adding business minutes to a moment.

The calendar itself is pure (plain data in, a UTC moment out, no database and no clock): ``Calendar`` and its
``add_business_minutes``. ``calendar_for``/``calendars_for`` gather the facts for it: the team's
``BusinessCalendar`` row (else the settings' ``UPSWING_BUSINESS_*``), the team's and every team's ``Holiday``
rows, and the public holidays of ``holiday_country`` (the ``holidays`` package).

Business hours are local wall-clock times in the calendar's IANA zone, so a 09:00–17:00 day is 09:00–17:00 on
both sides of a DST change (zoneinfo converts each day's opening and closing separately). One business day is
the length of that calendar's business day (8 hours for 09:00–17:00).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as public_holidays
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from upswing.escalation.models import BusinessCalendar, DelayUnit, Holiday
from upswing.settings import Settings

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: How far ``add_business_minutes`` looks for business days before it gives up (a calendar of holidays only).
_SEARCH_DAYS = 3 * 366
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_clock(value: str) -> time:
    """``"09:00"`` → ``time(9, 0)``; anything but HH:MM (24 h) is a ValueError."""
    found = _CLOCK.match(value.strip())
    if found is None:
        raise ValueError(f"expected a time as HH:MM (24 h), e.g. 09:00, not {value!r}")
    return time(int(found.group(1)), int(found.group(2)))


def _weekday(token: str) -> int:
    value = token.strip().lower()
    if value.isdigit() and int(value) < 7:
        return int(value)
    for names in (WEEKDAY_NAMES, _LONG_NAMES):
        if value in names:
            return names.index(value)
    raise ValueError(f"unknown weekday {token!r}: use mon…sun (or 0 = Monday … 6 = Sunday)")


def parse_weekdays(values: str | Iterable[str | int]) -> list[int]:
    """Weekdays as sorted numbers (0 = Monday) from names (``mon``, ``Monday``), numbers (0–6) or ranges
    (``mon-fri``), in a list or one comma-separated string; ValueError naming the bad one."""
    tokens: list[str | int] = [values] if isinstance(values, str) else list(values)
    days: set[int] = set()
    for token in tokens:
        if isinstance(token, bool):
            raise ValueError(f"unknown weekday {token!r}")
        if isinstance(token, int):
            if not 0 <= token <= 6:
                raise ValueError(f"weekday {token} out of range: 0 = Monday … 6 = Sunday")
            days.add(token)
            continue
        for part in token.split(","):
            if not part.strip():
                continue
            if "-" in part:
                first, _, last = part.partition("-")
                low, high = _weekday(first), _weekday(last)
                days.update(range(low, high + 1) if low <= high else [*range(low, 7), *range(0, high + 1)])
            else:
                days.add(_weekday(part))
    if not days:
        raise ValueError("at least one weekday is needed")
    return sorted(days)


def weekday_names(days: Iterable[int]) -> list[str]:
    return [WEEKDAY_NAMES[day] for day in sorted(days)]


def check_country(code: str) -> str:
    """An ISO country code the holidays package knows (upper-cased), else ValueError."""
    value = code.strip().upper()
    if value not in public_holidays.list_supported_countries():
        raise ValueError(f"no public holidays known for country {code!r}: give an ISO 3166 code such as US")
    return value


@lru_cache(maxsize=512)
def country_holidays(country: str, year: int) -> dict[date, str]:
    """The public holidays (observed days included) of ``country`` in ``year``: day → name."""
    return dict(public_holidays.country_holidays(country, years=year).items())


def _local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``clock`` on ``day`` in ``zone`` as UTC. A wall time the spring-forward jump skips is read with the offset
    before the jump (02:30 → 03:30); a repeated one (fall back) is its first occurrence."""
    return datetime.combine(day, clock).replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Calendar:
    """Business hours ``start``–``end`` (local, ``end`` after ``start``) on ``weekdays`` (0 = Monday) in
    ``timezone``, except ``holidays`` and the public holidays of ``holiday_country``."""

    timezone: str
    start: time
    end: time
    weekdays: frozenset[int]
    holidays: frozenset[date] = field(default_factory=frozenset)
    holiday_country: str | None = None

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # an unknown zone fails here, not in the middle of a run
        if self.end <= self.start:
            raise ValueError(f"business hours end ({self.end:%H:%M}) must be after they start ({self.start:%H:%M})")
        if not self.weekdays:
            raise ValueError("a business calendar needs at least one weekday")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_minutes(self) -> int:
        """The length of one business day."""
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (
            self.holiday_country is not None and day in country_holidays(self.holiday_country, day.year))

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not self.is_holiday(day)

    def delay_minutes(self, value: int, unit: str) -> int:
        """A policy's delay in business minutes (a business day is this calendar's day length)."""
        if unit == DelayUnit.BUSINESS_DAYS.value:
            return value * self.day_minutes
        if unit == DelayUnit.BUSINESS_HOURS.value:
            return value * 60
        raise ValueError(f"unknown delay unit {unit!r}")

    def add_business_minutes(self, start_utc: datetime, minutes: float) -> datetime:
        """The UTC moment ``minutes`` of business time after ``start_utc``: the clock starts at the next business
        moment (``start_utc`` itself when it is inside business hours) and runs only inside business hours.
        Zero minutes gives that next business moment; a deadline that uses up a day exactly falls at its close."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        if start_utc.tzinfo is None:
            raise ValueError("start_utc must be time-zone aware")
        zone = self.zone
        remaining = timedelta(minutes=minutes)
        day = start_utc.astimezone(zone).date()
        for _ in range(_SEARCH_DAYS):
            if self.is_business_day(day):
                opens, closes = _local_moment(day, self.start, zone), _local_moment(day, self.end, zone)
                begin = max(opens, start_utc)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError(f"no business day within {_SEARCH_DAYS} days of {start_utc.isoformat()}")

    def business_minutes_between(self, start_utc: datetime, end_utc: datetime) -> float:
        """Business minutes elapsed from ``start_utc`` to ``end_utc`` (0 when the end is not later)."""
        if end_utc <= start_utc:
            return 0.0
        zone = self.zone
        total = timedelta()
        day, last = start_utc.astimezone(zone).date(), end_utc.astimezone(zone).date()
        while day <= last:
            if self.is_business_day(day):
                begin = max(_local_moment(day, self.start, zone), start_utc)
                finish = min(_local_moment(day, self.end, zone), end_utc)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total.total_seconds() / 60


def default_calendar(settings: Settings, holidays: Iterable[date] = ()) -> Calendar:
    """The calendar of teams without their own (``UPSWING_BUSINESS_*``, ``UPSWING_HOLIDAY_COUNTRY``)."""
    return Calendar(timezone=settings.business_timezone, start=parse_clock(settings.business_hours_start),
                    end=parse_clock(settings.business_hours_end),
                    weekdays=frozenset(parse_weekdays(settings.business_days)), holidays=frozenset(holidays),
                    holiday_country=settings.holiday_country.upper() if settings.holiday_country else None)


def _from_row(row: BusinessCalendar, holidays: Iterable[date]) -> Calendar:
    return Calendar(timezone=row.timezone, start=parse_clock(row.start), end=parse_clock(row.end),
                    weekdays=frozenset(row.weekdays), holidays=frozenset(holidays),
                    holiday_country=row.holiday_country)


def calendars_for(session: Session, team_ids: Sequence[uuid.UUID | None],
                  settings: Settings) -> dict[uuid.UUID | None, Calendar]:
    """The calendar of each team (``None``: no team, the default), in three queries whatever their number."""
    wanted = {team_id for team_id in team_ids if team_id is not None}
    rows = {row.team_id: row for row in session.scalars(
        select(BusinessCalendar).where(BusinessCalendar.team_id.in_(wanted)))} if wanted else {}
    everyone: set[date] = set()
    own: dict[uuid.UUID, set[date]] = {team_id: set() for team_id in wanted}
    query = select(Holiday.team_id, Holiday.day)
    query = query.where(or_(Holiday.team_id.is_(None), Holiday.team_id.in_(wanted))) if wanted else \
        query.where(Holiday.team_id.is_(None))
    for team_id, day in session.execute(query):
        (everyone if team_id is None else own[team_id]).add(day)
    out: dict[uuid.UUID | None, Calendar] = {}
    for team_id in dict.fromkeys(team_ids):
        days = everyone | own.get(team_id, set()) if team_id is not None else everyone
        row = rows.get(team_id) if team_id is not None else None
        out[team_id] = _from_row(row, days) if row is not None else default_calendar(settings, days)
    return out


def calendar_for(session: Session, team_id: uuid.UUID | None, settings: Settings) -> Calendar:
    """The business calendar of ``team_id`` (``None``, or a team without its own: the settings')."""
    return calendars_for(session, [team_id], settings)[team_id]
