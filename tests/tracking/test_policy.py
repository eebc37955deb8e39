"""The tracking rules as plain data (no database): path groups, the property allow-list, engagement, consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from upswing.settings import Settings
from upswing.tracking.policy import policy_for
from upswing.tracking.service import clean_path

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
POLICY = policy_for(Settings())


@pytest.mark.parametrize(("path", "group"), [
    ("/pay", "repayment"), ("/payment/plans", "repayment"), ("/paycheck", "other"), ("/help/hardship/form", "hardship"),
    ("/help", "other"), ("/CALCULATOR", "calculator"), (None, "other"), ("/", "other"), ("/account/balance", "account"),
])
def test_path_groups_match_whole_segments(path: str | None, group: str) -> None:
    assert POLICY.path_group(path) == group


def test_configured_groups_override_the_defaults() -> None:
    policy = policy_for(Settings(tracking_path_groups={"repayment": ["/pagar"]}))
    assert (policy.path_group("/pagar/plan"), policy.path_group("/pay")) == ("repayment", "other")


@pytest.mark.parametrize(("raw", "cleaned"), [
    ("https://portal.example/repay?token=abc#top", "/repay"),
    ("/users/kit@example.org/plan", "/users/:id/plan"),
    ("/accounts/123456789", "/accounts/:id"),
    ("/a/0123456789abcdef0123", "/a/:id"),
    ("repay", "/repay"),
])
def test_paths_lose_query_fragment_and_identifying_segments(raw: str, cleaned: str) -> None:
    assert clean_path(raw) == cleaned


def test_only_allow_listed_short_scalars_are_kept() -> None:
    kept, dropped = POLICY.filter_properties({"plan": "12-month", "term_months": 12, "email": "x@example.org",
                                              "step": "x" * 101, "option": ["a"], "result": True})
    assert kept == {"plan": "12-month", "term_months": 12, "result": True}
    assert dropped == ["email", "option", "step"]


def test_engagement_adds_capped_weighted_counts_within_the_window() -> None:
    events = [("page", "repayment", "repayment", NOW - timedelta(days=d)) for d in (0, 0, 0, 0, 0)]
    only_reloads = POLICY.engagement(events, NOW)
    assert only_reloads.counts["repayment_view"] == 5 and only_reloads.strength == pytest.approx(0.6)  # capped at 3
    old = POLICY.engagement([("page", "hardship", "hardship", NOW - timedelta(days=15))], NOW)
    assert old.events == 0 and old.strength == 0
    spread = POLICY.engagement([("page", "other", "other", NOW - timedelta(days=d)) for d in (13, 9, 1)], NOW)
    assert spread.counts["return_visit"] == 1  # 13 → 9 is 4 days (a return), 9 → 1 is 8 days (not)
    assert spread.strength == pytest.approx(0.15)
    calculator = POLICY.engagement([("track", "calculator_used", "other", NOW)], NOW)
    assert calculator.counts["calculator_use"] == 1


def test_gdpr_strict_accepts_only_explicit_consent_and_keeps_less() -> None:
    strict = policy_for(Settings(privacy_mode="gdpr_strict"))
    assert (strict.consented("granted"), strict.consented("implied"), strict.consented("none")) == (True, False, False)
    assert (POLICY.consented("implied"), POLICY.consented("none")) == (True, False)
    assert strict.retention_days == 90 and POLICY.retention_days == 365
    assert policy_for(Settings(tracking_retention_days=30)).retention_days == 30
    assert strict.describe()["explicit_consent_only"] is True
