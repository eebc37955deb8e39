"""Deadlines of data-subject requests: CCPA 10 business days / 45 days, GDPR one month, one extension."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from upswing.privacy.policy import Regime
from upswing.privacy.service import add_business_days, add_months, deadlines


@pytest.mark.parametrize(("start", "days", "expected"), [
    (datetime(2026, 11, 2, 9, tzinfo=UTC), 10, datetime(2026, 11, 16, 9, tzinfo=UTC)),  # Monday → Monday
    (datetime(2026, 11, 6, 9, tzinfo=UTC), 1, datetime(2026, 11, 9, 9, tzinfo=UTC)),  # Friday → Monday
    (datetime(2026, 11, 7, 9, tzinfo=UTC), 1, datetime(2026, 11, 9, 9, tzinfo=UTC)),  # Saturday → Monday
    (datetime(2026, 11, 7, 9, tzinfo=UTC), 10, datetime(2026, 11, 20, 9, tzinfo=UTC)),
])
def test_business_days_skip_weekends(start: datetime, days: int, expected: datetime) -> None:
    assert add_business_days(start, days) == expected


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
    (datetime(2026, 12, 15, tzinfo=UTC), 1, datetime(2027, 1, 15, tzinfo=UTC)),
    (datetime(2026, 11, 30, tzinfo=UTC), 2, datetime(2027, 1, 30, tzinfo=UTC)),
])
def test_calendar_months_clamp_to_the_month_end(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def test_ccpa_and_gdpr_deadlines() -> None:
    received = datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert deadlines(Regime.CCPA, received) == (datetime(2026, 11, 16, 9, tzinfo=UTC),
                                               datetime(2026, 12, 17, 9, tzinfo=UTC))
    assert deadlines(Regime.GDPR, received) == (None, datetime(2026, 12, 2, 9, tzinfo=UTC))
