"""Business time (pure): weekends, holidays (listed and the country's), DST changes, starts outside hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from upswing.escalation.calendar import Calendar, parse_clock, parse_weekdays, weekday_names

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def ny(*args: int) -> datetime:
    """A New York wall time as an aware datetime (compared in UTC)."""
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def office(holidays: frozenset[date] = frozenset(), country: str | None = None, **fields: object) -> Calendar:
    values: dict[str, object] = {"timezone": "America/New_York", "start": time(9), "end": time(17),
                                 "weekdays": WEEKDAYS, "holidays": holidays, "holiday_country": country}
    values.update(fields)
    return Calendar(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "minutes", "expected"), [
    # Friday 16:30 + 2 business hours: 30 minutes on Friday, 90 on Monday.
    (ny(2026, 12, 4, 16, 30), 120, ny(2026, 12, 7, 10, 30)),
    # Inside one day.
    (ny(2026, 12, 8, 10, 0), 120, ny(2026, 12, 8, 12, 0)),
    # A deadline that uses up the day exactly falls at its close.
    (ny(2026, 12, 8, 15, 0), 120, ny(2026, 12, 8, 17, 0)),
    # Before opening: the clock starts at 09:00.
    (ny(2026, 12, 8, 6, 15), 120, ny(2026, 12, 8, 11, 0)),
    # After closing: the clock starts the next morning.
    (ny(2026, 12, 8, 19, 45), 120, ny(2026, 12, 9, 11, 0)),
    # On a Saturday: Monday morning.
    (ny(2026, 12, 5, 11, 0), 120, ny(2026, 12, 7, 11, 0)),
    # Zero minutes: the next business moment.
    (ny(2026, 12, 5, 11, 0), 0, ny(2026, 12, 7, 9, 0)),
    # One business day (480 minutes) from Friday 16:30: Monday 16:30.
    (ny(2026, 12, 4, 16, 30), 480, ny(2026, 12, 7, 16, 30)),
    # Three business days from Wednesday noon: the next Monday noon.
    (ny(2026, 12, 9, 12, 0), 3 * 480, ny(2026, 12, 14, 12, 0)),
])
def test_business_minutes_skip_nights_and_weekends(start: datetime, minutes: int, expected: datetime) -> None:
    assert office().add_business_minutes(start.astimezone(UTC), minutes) == expected.astimezone(UTC)


def test_a_listed_holiday_is_skipped() -> None:
    monday = frozenset({date(2026, 12, 7)})
    friday_half_past_four = ny(2026, 12, 4, 16, 30).astimezone(UTC)
    assert office(monday).add_business_minutes(friday_half_past_four, 120) == ny(2026, 12, 8, 10, 30)
    assert office(monday).is_business_day(date(2026, 12, 7)) is False
    assert office(monday).is_holiday(date(2026, 12, 8)) is False


def test_the_countrys_public_holidays_are_skipped() -> None:
    us = office(country="US")
    # Thanksgiving (Thursday 26 November 2026): Wednesday 16:00 + 2 h → Friday 10:00.
    assert us.add_business_minutes(ny(2026, 11, 25, 16, 0).astimezone(UTC), 120) == ny(2026, 11, 27, 10, 0)
    # Friday before Martin Luther King Jr. Day (19 January 2026): a long weekend.
    assert us.add_business_minutes(ny(2026, 1, 16, 16, 30).astimezone(UTC), 120) == ny(2026, 1, 20, 10, 30)
    # Independence Day 2026 is a Saturday: observed on Friday 3 July.
    assert not us.is_business_day(date(2026, 7, 3))
    # Without the country those are ordinary days.
    assert office().add_business_minutes(ny(2026, 11, 25, 16, 0).astimezone(UTC), 120) == ny(2026, 11, 26, 10, 0)


def test_business_hours_are_local_on_both_sides_of_a_dst_change() -> None:
    # Autumn (1 November 2026): Friday 16:00 EDT (20:00 UTC) + 2 h → Monday 10:00 EST (15:00 UTC).
    autumn = office().add_business_minutes(datetime(2026, 10, 30, 20, 0, tzinfo=UTC), 120)
    assert autumn == datetime(2026, 11, 2, 15, 0, tzinfo=UTC) == ny(2026, 11, 2, 10, 0)
    # Spring (8 March 2026): Friday 16:00 EST (21:00 UTC) + 2 h → Monday 10:00 EDT (14:00 UTC).
    spring = office().add_business_minutes(datetime(2026, 3, 6, 21, 0, tzinfo=UTC), 120)
    assert spring == datetime(2026, 3, 9, 14, 0, tzinfo=UTC) == ny(2026, 3, 9, 10, 0)


def test_hours_spanning_the_jump_count_real_time() -> None:
    """Open 01:00–04:00 every day: on the spring-forward Sunday that is two real hours, not three."""
    night = office(start=time(1), end=time(4), weekdays=frozenset(range(7)))
    start = ny(2026, 3, 7, 4, 0).astimezone(UTC)  # Saturday, just closed
    # Sunday 01:00 EST (06:00 UTC) … 04:00 EDT (08:00 UTC): 120 minutes; the third hour on Monday 01:00–02:00 EDT.
    assert night.add_business_minutes(start, 180) == datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    assert night.business_minutes_between(start, datetime(2026, 3, 9, 6, 0, tzinfo=UTC)) == 180


def test_business_minutes_between_is_the_inverse() -> None:
    calendar = office(frozenset({date(2026, 12, 7)}), country="US")
    start = ny(2026, 12, 4, 16, 30).astimezone(UTC)
    for minutes in (0, 1, 30, 31, 120, 479, 480, 481, 2000):
        end = calendar.add_business_minutes(start, minutes)
        assert calendar.business_minutes_between(start, end) == pytest.approx(minutes)


def test_a_team_in_another_zone_counts_in_its_own() -> None:
    pacific = office(timezone="America/Los_Angeles")
    # Friday 16:30 in New York is 13:30 in Los Angeles: two business hours end there at 15:30 the same day.
    assert pacific.add_business_minutes(ny(2026, 12, 4, 16, 30).astimezone(UTC), 120) == \
        datetime(2026, 12, 4, 15, 30, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_delays_in_business_days_use_the_calendars_day_length() -> None:
    assert office().day_minutes == 480
    assert office(start=time(8, 30), end=time(18)).delay_minutes(2, "business_days") == 2 * 570
    assert office().delay_minutes(2, "business_hours") == 120
    with pytest.raises(ValueError, match="unit"):
        office().delay_minutes(1, "fortnights")


def test_bad_calendars_and_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="after"):
        office(start=time(17), end=time(9))
    with pytest.raises(ValueError, match="weekday"):
        office(weekdays=frozenset())
    with pytest.raises(ValueError, match="aware"):
        office().add_business_minutes(datetime(2026, 12, 4, 12, 0), 10)
    with pytest.raises(ValueError, match="negative"):
        office().add_business_minutes(datetime(2026, 12, 4, 12, 0, tzinfo=UTC), -1)
    every_day_off = office(weekdays=frozenset({0}), holidays=frozenset(
        date.fromordinal(day) for day in range(date(2026, 1, 1).toordinal(), date(2030, 1, 1).toordinal())))
    with pytest.raises(ValueError, match="no business day"):
        every_day_off.add_business_minutes(datetime(2026, 1, 1, tzinfo=UTC), 10)


@pytest.mark.parametrize(("given", "expected"), [
    ("mon-fri", [0, 1, 2, 3, 4]), (["sat", "Sunday"], [5, 6]), ([0, "2", "wed"], [0, 2]),
    ("fri-mon", [0, 4, 5, 6]), ("mon,wed , fri", [0, 2, 4]),
])
def test_weekdays_by_name_number_or_range(given: object, expected: list[int]) -> None:
    assert parse_weekdays(given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["funday", [7], ["8"], "", []])
def test_unknown_weekdays_are_named(given: object) -> None:
    with pytest.raises(ValueError, match="weekday"):
        parse_weekdays(given)  # type: ignore[arg-type]


def test_clock_and_names() -> None:
    assert parse_clock("09:05") == time(9, 5)
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock("9am")
    assert weekday_names([4, 0]) == ["mon", "fri"]
