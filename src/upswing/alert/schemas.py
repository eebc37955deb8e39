"""What the alert API reads and writes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from upswing.alert.models import AlertChannel, RuleType
from upswing.core.pagination import MAX_LIMIT, cursor_field
from upswing.signal.models import Priority

#: The second spec names the in-app channel ``dashboard``.
_CHANNEL_ALIASES = {"dashboard": AlertChannel.IN_APP.value, "in-app": AlertChannel.IN_APP.value}


def _channels(values: list[str]) -> list[str]:
    known = {c.value for c in AlertChannel}
    out: list[str] = []
    for value in values:
        channel = _CHANNEL_ALIASES.get(value, value)
        if channel not in known:
            raise ValueError(f"unknown channel {value!r}: use in_app (or dashboard), email or webhook")
        if channel not in out:
            out.append(channel)
    return out


class RuleCreate(BaseModel):
    """A rule, in this API's names or the second spec's (``rule_name``, ``alert_channels``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=200, validation_alias="rule_name")
    rule_type: RuleType = RuleType.CUSTOM
    conditions: dict[str, Any] = Field(default_factory=dict, description="See docs/alerts.md, 'Conditions'")
    channels: list[str] = Field(default_factory=lambda: [AlertChannel.IN_APP.value], min_length=1,
                                validation_alias="alert_channels")
    priority: Priority | None = Field(default=None, description="The alerts' priority (default: the signal's)")
    recipients: dict[str, Any] | None = Field(default=None, description='{"to": "owner"} (default), '
                                              '{"to": "manager"} or {"to": "named", "users": [...], "teams": [...]}')
    team: str | None = Field(default=None, description="Team whose leads the rule covers (managers: their own)")
    enabled: bool = True

    _check_channels = field_validator("channels")(_channels)


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = Field(default=None, min_length=1, max_length=200, validation_alias="rule_name")
    rule_type: RuleType | None = None
    conditions: dict[str, Any] | None = None
    channels: list[str] | None = Field(default=None, min_length=1, validation_alias="alert_channels")
    priority: Priority | None = None
    recipients: dict[str, Any] | None = None
    enabled: bool | None = None

    @field_validator("channels")
    @classmethod
    def _check_channels(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _channels(values)


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    rule_type: str
    conditions: dict[str, Any]
    channels: list[str]
    priority: str | None
    recipients: dict[str, Any]
    team_id: uuid.UUID | None
    enabled: bool
    is_default: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class DryRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conditions: dict[str, Any] = Field(default_factory=dict)
    team: str | None = None
    last: int = Field(default=200, ge=1, le=5000, description="How many of the newest signals to test")


class DryRunMatch(BaseModel):
    signal_id: uuid.UUID
    lead_id: uuid.UUID
    type: str
    score: int
    priority: str
    detected_at: datetime


class DryRunResult(BaseModel):
    tested: int
    matched: int
    matches: list[DryRunMatch]


class RuleOptionUser(BaseModel):
    username: str
    full_name: str | None
    role: str
    team: str | None


class RuleOptions(BaseModel):
    """The names a rule's conditions and recipients may use (the rule editor's choices)."""

    signal_types: list[str]
    lead_statuses: list[str]
    priorities: list[str] = Field(description="Lowest first")
    portfolios: list[str]
    teams: list[str]
    users: list[RuleOptionUser] = Field(description="Active users (managers: their team's)")
    sources: list[str] = Field(description="Source slugs")


class GuardAnswer(BaseModel):
    """The contact guard's answer for one channel: allowed now, or why not and from when."""

    allowed: bool
    reasons: list[str]
    next_allowed_at: datetime | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    alert_id: uuid.UUID | None
    channel: str
    user_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    event_type: str | None
    status: str
    note: str | None
    attempts: int
    run_after: datetime
    provider_id: str | None
    response_status: int | None
    last_error: str | None
    replay_of: uuid.UUID | None
    sent_at: datetime | None
    created_at: datetime


class AlertRead(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    lead_id: uuid.UUID | None
    lead_external_id: str | None
    lead_name: str | None
    signal_id: uuid.UUID | None
    signal_ids: list[uuid.UUID]
    rule_id: uuid.UUID | None
    kind: str
    priority: str
    status: str
    title: str
    actionable: bool
    #: The guard's answer per channel (call, sms, email) when the alert was made.
    guard: dict[str, GuardAnswer]
    routed_by: str
    signal_count: int
    read_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deliveries: list[DeliveryRead] | None = None
    lead_timezone: str | None = Field(default=None, description=(
        "The borrower's time zone from their address (IANA), to show the guard's times in their local time"))


class AlertPage(BaseModel):
    items: list[AlertRead]
    next_cursor: str | None


class AlertFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["unread", "read"] | None = None
    priority: Priority | None = None
    lead_id: uuid.UUID | None = None
    kind: Literal["signal", "restricted", "escalation", "system"] | None = None
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = cursor_field()


class AlertSummary(BaseModel):
    unread: int
    total: int
    by_priority: dict[str, dict[str, int]] = Field(description="priority → {status → count}")


class ReadAllResult(BaseModel):
    marked: int


EventType = Literal["alert.created", "alert.updated", "ping"]


def _alert_created() -> list[EventType]:
    return ["alert.created"]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=1000)
    event_types: list[EventType] = Field(default_factory=_alert_created, min_length=1)
    description: str | None = Field(default=None, max_length=300)


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=8, max_length=1000)
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=300)
    enabled: bool | None = None


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    owner_id: uuid.UUID | None = Field(description="The manager or admin who subscribed (null: a machine client)")
    client_id: uuid.UUID | None = Field(default=None, description="The machine client that subscribed, if one did")
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime


class SubscriptionWithSecret(SubscriptionRead):
    """Answered once, on creation and on rotation: the secret is not shown again."""

    secret: str
