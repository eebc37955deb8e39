"""Alert rule conditions and recipients: their schema, and the pure test of a signal against them.

Conditions are JSON. Every key is checked against ``RuleConditions`` (an unknown key or a bad value is an error
naming it), and every key given must hold for a rule to match (an empty object matches every signal). The second
spec's rule shape is accepted as it is: ``{"min_intent_score": 80}`` is ``min_score``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from upswing.core.errors import ValidationFailedError
from upswing.detection.events import SignalType
from upswing.lead.models import LeadStatus
from upswing.signal.models import Priority

_Model = TypeVar("_Model", bound=BaseModel)

#: Lowest first: ``min_priority: high`` admits high and urgent.
PRIORITY_RANK = {Priority.LOW.value: 0, Priority.MEDIUM.value: 1, Priority.HIGH.value: 2, Priority.URGENT.value: 3}


class RuleConditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signal_types: list[SignalType] | None = Field(default=None, description="Only these signal types")
    min_score: int | None = Field(default=None, ge=0, le=100, description="Score at least this")
    min_priority: Priority | None = Field(default=None, description="Priority at least this")
    min_confidence: float | None = Field(default=None, ge=0, le=1, description="Confidence at least this")
    portfolios: list[str] | None = Field(default=None, description="Lead in one of these portfolios (names)")
    teams: list[str] | None = Field(default=None, description="Lead's team is one of these (names)")
    assignees: list[str] | None = Field(default=None, description="Lead assigned to one of these (usernames)")
    lead_statuses: list[LeadStatus] | None = Field(default=None, description="Lead in one of these states")
    balance_min: Decimal | None = Field(default=None, ge=0, description="Balance at least this")
    balance_max: Decimal | None = Field(default=None, ge=0, description="Balance at most this")
    days_delinquent_min: int | None = Field(default=None, ge=0)
    days_delinquent_max: int | None = Field(default=None, ge=0)
    sources: list[str] | None = Field(default=None, description="Evidence from one of these sources (slugs)")
    max_event_age_days: int | None = Field(default=None, ge=0,
                                           description="The event (its date, else detection) at most this old")

    @model_validator(mode="before")
    @classmethod
    def _second_spec_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and "min_intent_score" in data:
            data = dict(data)
            score = data.pop("min_intent_score")
            if "min_score" in data and data["min_score"] != score:
                raise ValueError("min_intent_score and min_score disagree")
            data["min_score"] = score
        return data

    @model_validator(mode="after")
    def _ranges(self) -> RuleConditions:
        if self.balance_min is not None and self.balance_max is not None and self.balance_max < self.balance_min:
            raise ValueError("balance_max is below balance_min")
        if (self.days_delinquent_min is not None and self.days_delinquent_max is not None
                and self.days_delinquent_max < self.days_delinquent_min):
            raise ValueError("days_delinquent_max is below days_delinquent_min")
        return self


class Recipients(BaseModel):
    """Who gets a rule's alerts: the lead's ``owner`` (assignee, else round-robin in the lead's team, else the
    team's manager), the team's ``manager``, or named ``users`` and ``teams`` (round-robin within each team)."""

    model_config = ConfigDict(extra="forbid")
    to: Literal["owner", "manager", "named"] = "owner"
    users: list[str] = Field(default_factory=list, description="Usernames (to: named)")
    teams: list[str] = Field(default_factory=list, description="Team names (to: named)")

    @model_validator(mode="after")
    def _named_has_someone(self) -> Recipients:
        if self.to == "named" and not (self.users or self.teams):
            raise ValueError("to: named needs users or teams")
        if self.to != "named" and (self.users or self.teams):
            raise ValueError("users and teams are for to: named")
        return self


def parse_conditions(raw: Any, *, field_name: str = "conditions") -> RuleConditions:
    """Validate a conditions object; the error names each bad key (``conditions.min_score``)."""
    return _parse(RuleConditions, raw if raw is not None else {}, field_name)


def parse_recipients(raw: Any, *, field_name: str = "recipients") -> Recipients:
    return _parse(Recipients, raw if raw is not None else {}, field_name)


def _parse(model: type[_Model], raw: Any, field_name: str) -> _Model:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors: list[dict[str, object]] = [{"field": ".".join(str(part) for part in (field_name, *error["loc"])),
                   "message": "unknown key" if error["type"] == "extra_forbidden" else error["msg"]}
                  for error in exc.errors()]
        raise ValidationFailedError(f"{field_name}: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                                    errors) from None


@dataclass(frozen=True)
class SignalFacts:
    """What a rule may look at: the signal and its lead, as plain data."""

    signal_type: str
    score: int
    priority: str
    confidence: float
    detected_at: datetime
    effective_date: date | None
    portfolio: str | None = None
    team: str | None = None
    assignee: str | None = None
    lead_status: str | None = None
    balance: Decimal | None = None
    days_delinquent: int | None = None
    sources: frozenset[str] = field(default_factory=frozenset)


def matches(conditions: RuleConditions, facts: SignalFacts, now: datetime) -> bool:
    """Whether every condition given holds for the signal."""
    c = conditions
    checks = (
        c.signal_types is None or facts.signal_type in {t.value for t in c.signal_types},
        c.min_score is None or facts.score >= c.min_score,
        c.min_priority is None or PRIORITY_RANK.get(facts.priority, 0) >= PRIORITY_RANK[c.min_priority.value],
        c.min_confidence is None or facts.confidence >= c.min_confidence,
        c.portfolios is None or facts.portfolio in c.portfolios,
        c.teams is None or facts.team in c.teams,
        c.assignees is None or facts.assignee in c.assignees,
        c.lead_statuses is None or facts.lead_status in {s.value for s in c.lead_statuses},
        c.balance_min is None or (facts.balance is not None and facts.balance >= c.balance_min),
        c.balance_max is None or (facts.balance is not None and facts.balance <= c.balance_max),
        c.days_delinquent_min is None or (facts.days_delinquent or 0) >= c.days_delinquent_min,
        c.days_delinquent_max is None or (facts.days_delinquent or 0) <= c.days_delinquent_max,
        c.sources is None or bool(facts.sources & set(c.sources)),
        c.max_event_age_days is None or _event_age(facts, now) <= timedelta(days=c.max_event_age_days),
    )
    return all(checks)


def _event_age(facts: SignalFacts, now: datetime) -> timedelta:
    if facts.effective_date is not None:
        return timedelta(days=(now.date() - facts.effective_date).days)
    return now - facts.detected_at

