"""Signal scoring: how urgently a specialist should act on a signal, 0–100, with the reason per factor.

Pure: plain data in, plain data out (no database, no clock: ``now`` is passed in).

The score measures *priority of contact*, not how good the news is. It adds up points:

* **event** (at most ``event_points``, 60 by default) = ``event_points × strength × confidence × recency``,
  reported as three parts that add up to it:

  - ``strength``: ``event_points × weight(type)``, the most the event could be worth;
  - ``confidence``: the points lost because the event is not certain (≤ 0);
  - ``recency``: the points lost because the event is not fresh (≤ 0); recency halves every
    ``half_life_days`` after the event's effective date. An event without a date is scored as
    ``undated_age_days`` old (the look-back, by default), or older when detected longer ago than that: it
    may be that old (a credential listed years after the fact), so it never outranks a dated event.

* **corroboration**: ``corroboration_points`` per independent source beyond the first, up to
  ``corroboration_max``, scaled by recency like the event.
* **balance**: up to ``balance_points`` on a logarithmic curve (``balance_full`` and above gets all of it).
* **delinquency**: up to ``delinquency_points``, linear in days delinquent up to ``delinquency_full_days``.
* **outcomes**: the lead's earlier outcomes (``outcome_adjustments``, each distinct outcome once):
  a promise or a payment shows an engaged borrower (a bump), a dispute or a wrong person a penalty;
  the sum is clamped to ``[outcomes_min, outcomes_max]``.

The total is clamped to 0–100 and rounded (``score``); the breakdown holds the unrounded parts, which
add up to the unclamped total. ``job_loss`` weighs 0.75, between a business launch and a promotion (a fresh one
on a valuable lead is ``high``): it is not good news, but the window to agree a hardship arrangement,
before other creditors do, is short. Its type tells the specialist which conversation to have.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "new_employment": 1.0,
    "promotion": 0.8,
    "job_loss": 0.75,
    "business_launch": 0.7,
    "certification": 0.5,
    "license_renewal": 0.5,
    "education": 0.5,
    "award": 0.4,
    # Intents read from texts about the lead's employer: a company in distress puts the lead's income at risk.
    "intent_financial_distress": 0.5,
    "intent_growth": 0.3,
    "intent_expansion": 0.3,
    "intent_loan_need": 0.3,
    "intent_consulting_need": 0.2,
    # Consented engagement on the lender's own portal (repayment/hardship pages, the calculator, return visits):
    # the borrower is looking for a way to pay, a good moment to call, but weaker than a new income.
    "portal_engagement": 0.45,
})

DEFAULT_OUTCOME_ADJUSTMENTS: Mapping[str, float] = MappingProxyType({
    "payment": 6.0,
    "promise_to_pay": 4.0,
    "no_response": -2.0,
    "dispute": -6.0,
    "wrong_person": -20.0,
})

#: Lowest score of each priority, highest first; below the last one the priority is ``low``.
DEFAULT_THRESHOLDS: Mapping[str, int] = MappingProxyType({"urgent": 75, "high": 55, "medium": 35})

PRIORITIES = ("urgent", "high", "medium", "low")
#: A weight for a type missing from the configuration.
UNKNOWN_TYPE_WEIGHT = 0.3
#: The breakdown's keys, in the order they are added up.
FACTORS = ("strength", "confidence", "recency", "corroboration", "balance", "delinquency", "outcomes")


@dataclass(frozen=True)
class ScoringConfig:
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    half_life_days: float = 30.0
    #: The age an event without a date is scored at (the oldest a dated event can be and still be reported).
    undated_age_days: float = 90.0
    event_points: float = 60.0
    corroboration_points: float = 5.0
    corroboration_max: float = 10.0
    balance_points: float = 15.0
    balance_full: float = 50_000.0
    delinquency_points: float = 10.0
    delinquency_full_days: int = 180
    outcome_adjustments: Mapping[str, float] = field(default_factory=lambda: DEFAULT_OUTCOME_ADJUSTMENTS)
    outcomes_min: float = -20.0
    outcomes_max: float = 10.0
    thresholds: Mapping[str, int] = field(default_factory=lambda: DEFAULT_THRESHOLDS)

    def __post_init__(self) -> None:
        if self.half_life_days <= 0:
            raise ValueError("half_life_days must be positive")
        if self.undated_age_days < 0:
            raise ValueError("undated_age_days must not be negative")
        if self.balance_full <= 0 or self.delinquency_full_days <= 0:
            raise ValueError("balance_full and delinquency_full_days must be positive")
        for kind, weight in self.weights.items():
            if not 0.0 <= weight <= 1.0:
                raise ValueError(f"weight of {kind!r} must be between 0 and 1, not {weight}")
        unknown = set(self.thresholds) - set(PRIORITIES[:-1])
        if unknown:
            raise ValueError(f"unknown priorities in thresholds: {sorted(unknown)}")
        levels = [self.thresholds.get(p, 0) for p in PRIORITIES[:-1]]
        if levels != sorted(levels, reverse=True):
            raise ValueError("thresholds must not increase from urgent to medium")

    def with_overrides(self, *, weights: Mapping[str, float] | None = None,
                       thresholds: Mapping[str, int] | None = None, **values: Any) -> ScoringConfig:
        """A copy with some weights/thresholds replaced (the rest kept) and other fields set."""
        merged_weights = {**self.weights, **(weights or {})}
        merged_thresholds = {**self.thresholds, **(thresholds or {})}
        return replace(self, weights=merged_weights, thresholds=merged_thresholds, **values)

    def weight(self, signal_type: str) -> float:
        return self.weights.get(signal_type, UNKNOWN_TYPE_WEIGHT)


@dataclass(frozen=True, slots=True)
class ScoreInput:
    signal_type: str
    confidence: float
    detected_at: datetime
    now: datetime
    effective_date: date | None = None
    #: Independent sources in the evidence (1: a single witness, such as the profile itself).
    sources: int = 1
    balance: Decimal | float | None = None
    days_delinquent: int | None = None
    #: Outcomes (and wrong-person dismissals) of the lead's other signals.
    prior_outcomes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: int
    priority: str
    breakdown: dict[str, float]


def event_age_days(effective_date: date | None, detected_at: datetime, now: datetime, *,
                   undated_age_days: float = 0.0) -> float:
    """Days since the event (its effective date); a future date counts as today. Without a date: days since
    its detection, but at least ``undated_age_days`` (an undated event is not known to be new)."""
    if effective_date is not None:
        days = float((now.date() - effective_date).days)
    else:
        days = max(undated_age_days, (now - detected_at).total_seconds() / 86_400)
    return max(0.0, days)


def recency(age_days: float, half_life_days: float) -> float:
    return float(0.5 ** (age_days / half_life_days))


def balance_value(balance: Decimal | float | None, full: float) -> float:
    """0..1 on a log curve: $0 → 0, ``full`` and above → 1 (so $5,000 is worth most of $50,000's share)."""
    if balance is None:
        return 0.0
    amount = max(0.0, float(balance))
    return min(1.0, math.log1p(amount) / math.log1p(full))


def delinquency_value(days: int | None, full_days: int) -> float:
    if days is None:
        return 0.0
    return min(1.0, max(0, days) / full_days)


def outcome_adjustment(outcomes: Iterable[str], config: ScoringConfig) -> float:
    total = sum(config.outcome_adjustments.get(outcome, 0.0) for outcome in set(outcomes))
    return float(min(config.outcomes_max, max(config.outcomes_min, total)))


def priority_for(score: int, config: ScoringConfig) -> str:
    for priority in PRIORITIES[:-1]:
        threshold = config.thresholds.get(priority)
        if threshold is not None and score >= threshold:
            return priority
    return PRIORITIES[-1]


def score_signal(data: ScoreInput, config: ScoringConfig | None = None) -> ScoreResult:
    config = config or ScoringConfig()
    strength = config.weight(data.signal_type)
    confidence = min(1.0, max(0.0, data.confidence))
    age = event_age_days(data.effective_date, data.detected_at, data.now, undated_age_days=config.undated_age_days)
    fresh = recency(age, config.half_life_days)

    best = config.event_points * strength
    certain = best * confidence
    event = certain * fresh
    extra_sources = max(0, data.sources - 1)
    corroboration = min(config.corroboration_max, config.corroboration_points * extra_sources) * fresh
    breakdown = {
        "strength": best,
        "confidence": certain - best,
        "recency": event - certain,
        "corroboration": corroboration,
        "balance": config.balance_points * balance_value(data.balance, config.balance_full),
        "delinquency": config.delinquency_points * delinquency_value(data.days_delinquent,
                                                                     config.delinquency_full_days),
        "outcomes": outcome_adjustment(data.prior_outcomes, config),
    }
    breakdown = {name: round(value, 4) for name, value in breakdown.items()}
    total = sum(breakdown.values())
    score = int(min(100.0, max(0.0, round(total))))
    return ScoreResult(score=score, priority=priority_for(score, config), breakdown=breakdown)


def combine_confidences(confidences: Iterable[float], cap: float = 0.99) -> float:
    """Noisy-OR over independent sources: ``1 - Π(1 - c)``, capped below certainty.

    One source gives its own confidence back (never raised by the cap when already above it).
    """
    values = [min(1.0, max(0.0, c)) for c in confidences]
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    miss = 1.0
    for value in values:
        miss *= 1.0 - value
    return max(max(values), min(cap, 1.0 - miss))
