"""The scoring model: bounds, monotonicity, the breakdown, priorities and configuration."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from upswing.settings import Settings
from upswing.signal.scoring import (
    DEFAULT_WEIGHTS,
    FACTORS,
    ScoreInput,
    ScoringConfig,
    combine_confidences,
    event_age_days,
    priority_for,
    score_signal,
)
from upswing.signal.service import scoring_config

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _input(**values: object) -> ScoreInput:
    base = ScoreInput(signal_type="new_employment", confidence=0.9, detected_at=NOW, now=NOW,
                      effective_date=NOW.date() - timedelta(days=10), sources=1, balance=Decimal("8000"),
                      days_delinquent=120)
    return replace(base, **values)  # type: ignore[arg-type]


def _score(**values: object) -> int:
    return score_signal(_input(**values)).score


def test_newer_scores_higher_than_older() -> None:
    scores = [_score(effective_date=NOW.date() - timedelta(days=days)) for days in (0, 10, 30, 60, 120, 365)]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


def test_recency_halves_the_event_points_every_half_life() -> None:
    fresh = score_signal(_input(effective_date=NOW.date(), balance=None, days_delinquent=None, confidence=1.0))
    month = score_signal(_input(effective_date=NOW.date() - timedelta(days=30), balance=None,
                                days_delinquent=None, confidence=1.0))
    assert fresh.score == 60 and month.score == 30
    assert month.breakdown["recency"] == pytest.approx(-30.0)


def test_more_corroboration_scores_higher_up_to_the_cap() -> None:
    scores = [_score(sources=n) for n in (1, 2, 3, 4)]
    assert scores[0] < scores[1] < scores[2] == scores[3]


def test_higher_balance_and_longer_delinquency_score_higher() -> None:
    balances = [_score(balance=Decimal(amount)) for amount in ("0", "500", "5000", "50000", "900000")]
    assert balances == sorted(balances) and balances[0] < balances[-1]
    assert balances[-1] == balances[-2]  # the balance share is full at 50,000
    assert _score(balance=None) == _score(balance=Decimal(0))
    days = [_score(days_delinquent=d) for d in (0, 30, 90, 180, 720)]
    assert days == sorted(days) and days[0] < days[-1]


def test_higher_confidence_and_stronger_type_score_higher() -> None:
    assert _score(confidence=0.95) > _score(confidence=0.6)
    ordered = [_score(signal_type=t) for t in ("new_employment", "promotion", "business_launch", "award")]
    assert ordered == sorted(ordered, reverse=True) and len(set(ordered)) == 4


def test_prior_outcomes_bump_or_penalize() -> None:
    neutral = _score()
    assert _score(prior_outcomes=("promise_to_pay",)) > neutral
    assert _score(prior_outcomes=("payment",)) > _score(prior_outcomes=("promise_to_pay",))
    assert _score(prior_outcomes=("dispute",)) < neutral
    assert _score(prior_outcomes=("wrong_person",)) < _score(prior_outcomes=("dispute",))
    # Each distinct outcome counts once.
    assert _score(prior_outcomes=("no_response",) * 5) == _score(prior_outcomes=("no_response",))


def test_bounds_hold_at_the_extremes() -> None:
    best = score_signal(_input(confidence=1.0, effective_date=NOW.date(), sources=9, balance=Decimal(10**7),
                               days_delinquent=10_000, prior_outcomes=("payment", "promise_to_pay")))
    worst = score_signal(_input(signal_type="award", confidence=0.0, effective_date=date(2000, 1, 1), balance=None,
                                days_delinquent=None, prior_outcomes=("wrong_person", "dispute")))
    assert (best.score, best.priority) == (100, "urgent")
    assert (worst.score, worst.priority) == (0, "low")
    for result in (best, worst):
        assert 0 <= result.score <= 100


@pytest.mark.parametrize("days", [0, 3, 17, 45, 200])
@pytest.mark.parametrize("kind", sorted(DEFAULT_WEIGHTS))
def test_breakdown_has_every_factor_and_adds_up_to_the_score(kind: str, days: int) -> None:
    result = score_signal(_input(signal_type=kind, effective_date=NOW.date() - timedelta(days=days), sources=2,
                                 prior_outcomes=("promise_to_pay",)))
    assert tuple(result.breakdown) == FACTORS
    assert abs(sum(result.breakdown.values()) - result.score) <= 0.5
    assert result.breakdown["confidence"] <= 0 and result.breakdown["recency"] <= 0


def test_job_loss_is_urgent_work_not_good_news() -> None:
    job_loss = _score(signal_type="job_loss")
    assert job_loss > _score(signal_type="business_launch")
    assert job_loss < _score(signal_type="new_employment")
    fresh = score_signal(_input(signal_type="job_loss", confidence=0.9, effective_date=NOW.date(),
                                balance=Decimal(20000), days_delinquent=150))
    assert fresh.priority == "high"


def test_unknown_type_gets_a_low_default_weight() -> None:
    assert 0 < _score(signal_type="something_new") < _score(signal_type="education")


def test_age_uses_the_effective_date_else_detection_and_never_goes_negative() -> None:
    assert event_age_days(NOW.date() - timedelta(days=12), NOW - timedelta(days=2), NOW) == 12
    assert event_age_days(None, NOW - timedelta(days=2), NOW) == pytest.approx(2)
    assert event_age_days(NOW.date() + timedelta(days=30), NOW, NOW) == 0


def test_an_undated_event_is_scored_as_old_not_as_new() -> None:
    assert event_age_days(None, NOW, NOW, undated_age_days=90) == 90
    assert event_age_days(None, NOW - timedelta(days=200), NOW, undated_age_days=90) == pytest.approx(200)
    undated = score_signal(_input(effective_date=None, detected_at=NOW))
    assert undated.breakdown["recency"] < 0  # detected today, but not known to be new
    # It never outranks a dated event of the same kind from within the look-back window.
    for days in (0, 30, 60, 90):
        dated = score_signal(_input(effective_date=NOW.date() - timedelta(days=days), detected_at=NOW))
        assert undated.score <= dated.score, days
    assert undated.score < _score(effective_date=NOW.date() - timedelta(days=60))
    assert scoring_config(Settings(lookback_days=30)).undated_age_days == 30


def test_priority_thresholds() -> None:
    config = ScoringConfig()
    assert [priority_for(s, config) for s in (100, 75, 74, 55, 54, 35, 34, 0)] == [
        "urgent", "urgent", "high", "high", "medium", "medium", "low", "low"]


def test_config_overrides_change_weights_half_life_and_thresholds() -> None:
    default = ScoringConfig()
    heavier = default.with_overrides(weights={"award": 1.0})
    assert heavier.weight("award") == 1.0 and heavier.weight("promotion") == default.weight("promotion")
    assert score_signal(_input(signal_type="award"), heavier).score > score_signal(_input(signal_type="award")).score
    slow = default.with_overrides(half_life_days=365)
    assert score_signal(_input(), slow).score > score_signal(_input(), default).score
    strict = default.with_overrides(thresholds={"urgent": 99})
    assert priority_for(90, strict) == "high" and priority_for(90, default) == "urgent"


def test_invalid_config_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        ScoringConfig().with_overrides(weights={"award": 2})
    with pytest.raises(ValueError, match="half_life"):
        ScoringConfig(half_life_days=0)
    with pytest.raises(ValueError, match="must not increase"):
        ScoringConfig().with_overrides(thresholds={"medium": 90})
    with pytest.raises(ValueError, match="unknown priorities"):
        ScoringConfig().with_overrides(thresholds={"critical": 90})


def test_config_from_settings_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSWING_SCORING_HALF_LIFE_DAYS", "14")
    monkeypatch.setenv("UPSWING_SCORING_WEIGHTS", '{"award": 0.9, "promotion": 0.6}')
    monkeypatch.setenv("UPSWING_SCORING_THRESHOLDS", '{"urgent": 80}')
    monkeypatch.setenv("UPSWING_CORROBORATION_WINDOW_DAYS", "30")
    settings = Settings()
    config = scoring_config(settings)
    assert config.half_life_days == 14 and settings.corroboration_window_days == 30
    assert config.weight("award") == 0.9 and config.weight("promotion") == 0.6
    assert config.weight("new_employment") == 1.0
    assert config.thresholds == {"urgent": 80, "high": 55, "medium": 35}


def test_noisy_or_raises_confidence_with_independent_sources_and_is_capped() -> None:
    assert combine_confidences([0.8]) == 0.8
    assert combine_confidences([0.8, 0.5]) == pytest.approx(0.9)
    assert combine_confidences([0.9, 0.9, 0.9]) == pytest.approx(0.99)
    assert combine_confidences([0.95, 0.95, 0.95, 0.95]) == 0.99
    assert combine_confidences([]) == 0.0
    assert combine_confidences([0.3, 0.6]) > 0.6


def test_settings_refuse_an_invalid_scoring_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("UPSWING_SCORING_WEIGHTS", '{"award": 3}')
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        Settings()
    monkeypatch.setenv("UPSWING_SCORING_WEIGHTS", "{}")
    monkeypatch.setenv("UPSWING_SCORING_THRESHOLDS", '{"urgent": 50, "high": 60}')
    with pytest.raises(ValidationError, match="must not increase"):
        Settings()
    monkeypatch.setenv("UPSWING_SCORING_THRESHOLDS", '{"critical": 90}')
    with pytest.raises(ValidationError, match="critical"):
        Settings()
    # Against the defaults (urgent 75): the app refuses to start, naming the problem.
    monkeypatch.setenv("UPSWING_SCORING_THRESHOLDS", '{"medium": 90}')
    from upswing.app import create_app

    with pytest.raises(ValueError, match="must not increase"):
        create_app(Settings(database_url="sqlite://"))
