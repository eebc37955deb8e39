"""Quiet hours in a user's own time zone (pure): when does the current quiet period end, if we are in one?"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _local_moment(day: datetime, clock: time, zone: ZoneInfo) -> datetime:
    """``clock`` on ``day`` in ``zone`` as UTC; a time skipped by a DST jump counts as the first instant after."""
    naive = datetime.combine(day.date(), clock)
    moment = naive.replace(tzinfo=zone).astimezone(UTC)
    # A wall time in the spring-forward gap does not round-trip; the quiet period then ends at the jump.
    if moment.astimezone(zone).replace(tzinfo=None) != naive:
        moment = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return moment


def quiet_until(now: datetime, zone_name: str | None, start: str | None, end: str | None) -> datetime | None:
    """The UTC moment the quiet period that contains ``now`` ends, or None when ``now`` is not quiet.

    ``start``/``end`` are local "HH:MM"; an end before the start spans midnight (21:00–07:00). Equal times mean no
    quiet hours."""
    if not start or not end or start == end:
        return None
    zone = ZoneInfo(zone_name or "UTC")
    local = now.astimezone(zone)
    start_clock, end_clock = _clock(start), _clock(end)
    clock = local.time().replace(tzinfo=None)
    spans_midnight = end_clock < start_clock
    if spans_midnight:
        if clock >= start_clock:
            return _local_moment(local + timedelta(days=1), end_clock, zone)
        if clock < end_clock:
            return _local_moment(local, end_clock, zone)
        return None
    if start_clock <= clock < end_clock:
        return _local_moment(local, end_clock, zone)
    return None
