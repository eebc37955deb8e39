"""Digest preferences and digests over the API and CLI."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from upswing.digest.models import DigestFormat, Frequency
from upswing.signal.models import Priority

PreferenceSource = Literal["user", "team", "default"]
_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PreferencesUpdate(BaseModel):
    """Fields to set; ``null`` puts a field back to inheriting (user → team defaults → settings)."""

    model_config = ConfigDict(extra="forbid")

    frequency: Frequency | None = None
    send_time: str | None = Field(default=None, pattern=_HHMM, description="Local send time, HH:MM")
    weekly_day: int | None = Field(default=None, ge=0, le=6, description="0 = Monday (weekly digests)")
    signal_types: list[str] | None = Field(default=None, description="Only these signal types; null: all")
    min_priority: Priority | None = None
    portfolios: list[str] | None = Field(default=None, description="Only leads of these portfolios (names)")
    teams: list[str] | None = Field(default=None, description="Only leads of these teams (names)")
    include_not_contactable: bool | None = Field(
        default=None, description="Also list signals whose lead cannot be contacted on any channel today")
    format: DigestFormat | None = Field(default=None, description="html (with a text part) or text")
    send_empty: bool | None = Field(default=None, description="Send a digest even when there is nothing new")

    @field_validator("weekly_day", mode="before")
    @classmethod
    def _weekday_name(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower()[:3] in _WEEKDAYS:
            return _WEEKDAYS.index(value.strip().lower()[:3])
        return value

    @field_validator("signal_types", "portfolios", "teams")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = [name.strip() for name in value if name.strip()]
        return list(dict.fromkeys(names))


class Preferences(BaseModel):
    """The preferences in force, and where each came from."""

    frequency: Frequency
    send_time: str
    weekly_day: int
    signal_types: list[str] | None
    min_priority: Priority | None
    portfolios: list[str] | None
    teams: list[str] | None
    include_not_contactable: bool
    format: DigestFormat
    send_empty: bool
    timezone: str = Field(description="The user's time zone (their profile's, else the business time zone)")
    sources: dict[str, PreferenceSource] = Field(default_factory=dict)


class PreferencesRead(BaseModel):
    user_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    effective: Preferences | None = Field(default=None, description="For a user: what applies")
    overrides: dict[str, Any] = Field(default_factory=dict, description="The fields set at this level")


class DigestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    local_date: date
    timezone: str
    forced: bool
    period_start: datetime
    period_end: datetime
    status: str = Field(description="queued, sent, failed (the e-mail's delivery), empty or suppressed (not sent)")
    subject: str | None
    counts: dict[str, Any]
    delivery_id: uuid.UUID | None
    error: str | None = Field(default=None, description="Why the e-mail failed or was not sent")
    created_at: datetime
    sent_at: datetime | None = None


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID | None = Field(default=None, description="Whose digest (default: yours; others: admins)")
    force: bool = Field(default=False, description="Send even if today's digest went out already")

