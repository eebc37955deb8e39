"""Request and response shapes of the compliance API (the CLI prints the same data)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from upswing.compliance.rules import Channel, Direction, TargetType, parse_clock, parse_days
from upswing.core.timeparse import LooseDatetime


class CheckRequest(BaseModel):
    lead_id: uuid.UUID
    channel: Channel
    at: LooseDatetime | None = Field(default=None, description="When the contact would happen (default: now; "
                                                          "without a zone: UTC)")
    autodialed: bool = Field(default=False, description="Autodialer or prerecorded voice (TCPA)")
    target: str | None = Field(default=None, max_length=320, description="Number or address (default: the "
                                                                         "lead's primary number / e-mail)")


class CheckResult(BaseModel):
    """Stable contract: the same three keys as ``upswing compliance check`` prints."""

    allowed: bool
    reasons: list[str]
    next_allowed_at: str | None = Field(description="ISO 8601 (UTC): the earliest time at or after `at` when no "
                                                    "reason applies; null when waiting does not end the block")


#: Leads per request of ``POST /api/v1/compliance/answers`` (a feed page, or two).
ANSWERS_MAX_LEADS = 100


class AnswersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_ids: list[uuid.UUID] = Field(max_length=ANSWERS_MAX_LEADS, description=(
        f"At most {ANSWERS_MAX_LEADS} leads; those the caller may not see (or that do not exist) are left out of "
        "the answer"))


class ChannelAnswer(BaseModel):
    """The guard's answer for one channel on the lead's primary number or address, now."""

    allowed: bool
    reasons: list[str]
    next_allowed_at: datetime | None = Field(description="The earliest time (UTC) no reason applies; null when "
                                                         "waiting does not end the block")


class ChannelAnswers(BaseModel):
    call: ChannelAnswer
    sms: ChannelAnswer
    email: ChannelAnswer


class ContactAnswer(BaseModel):
    """The contact guard's answer for one lead, in words and per channel, with the borrower's local time."""

    lead_id: uuid.UUID
    phrase: str = Field(description='"call now", "call after 8:00 am CT", "no contact today; next: e-mail Tue 8 '
                                    'Dec 8:00 am CT", "do not contact: cease" (times in the lead\'s zone)')
    contactable: bool = Field(description="Some channel is open today (now or later today), and no flag forbids "
                                          "contact")
    restricted_by: list[str] = Field(description="Flags that forbid contact (cease, attorney, bankruptcy, deceased, "
                                                 "dispute)")
    channels: ChannelAnswers
    lead_timezone: str | None = Field(description="IANA zone of the lead's address (the first, where it leaves "
                                                  "several); null when unknown")
    lead_zone_label: str | None = Field(description='"CT", "ET" (US zones as people say them), else the zone\'s '
                                                    "abbreviation; null when the zone is unknown")
    lead_local_time: datetime | None = Field(description="The lead's local time now (with its UTC offset); null "
                                                         "when the zone is unknown")


class ContactAnswers(BaseModel):
    at: datetime = Field(description="When the guard was asked (UTC)")
    items: list[ContactAnswer] = Field(description="One per visible lead, in the order asked")


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: uuid.UUID
    channel: Channel
    at: LooseDatetime = Field(description="When it happened (without a zone: UTC)")
    conversation: bool = Field(default=False, description="A telephone conversation about the debt took place")
    autodialed: bool = False
    target: str | None = Field(default=None, max_length=320)
    target_type: TargetType | None = Field(default=None, description="Overrides the type found on the lead")
    direction: Direction = Direction.OUTBOUND
    outcome: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    channel: str
    direction: str
    target_kind: str | None
    target_type: str | None
    target_hint: str | None
    autodialed: bool
    conversation: bool
    outcome: str | None
    note: str | None
    occurred_at: datetime
    actor: str
    source: str
    signal_id: uuid.UUID | None = Field(default=None, description="The signal whose action this contact was")
    override_reason: str | None = Field(default=None, description="The documented exception it went ahead under")
    overridden_reasons: list[str] | None = Field(default=None, description="The refusals the override set aside")
    created_at: datetime
    reasons_at_the_time: list[str] | None = Field(
        default=None, description="When just logged: the guard's reasons that applied at that time (empty: "
                                  "the contact was allowed)")


class ContactPage(BaseModel):
    items: list[ContactRead]
    total: int
    limit: int
    offset: int


class ContactImportReport(BaseModel):
    file: str | None = None
    total: int = 0
    created: int = 0
    warnings: list[str] = Field(default_factory=list)


class FlagUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = Field(description="true sets the flag, false clears it (managers and admins only)")
    note: str | None = Field(default=None, max_length=2000)


class FlagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flag: str
    note: str | None
    set_at: datetime
    set_by: str
    cleared_at: datetime | None
    cleared_by: str | None
    clear_note: str | None


class LeadFlags(BaseModel):
    lead_id: uuid.UUID
    active: list[str]
    history: list[FlagRead] = Field(description="Every period a flag was set, newest first")


class ConsentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: uuid.UUID
    target: str = Field(min_length=1, max_length=64, description="The phone number")
    action: Literal["grant", "revoke", "reassigned"] = "grant"
    source: str | None = Field(default=None, max_length=200, description="Where the consent was given")


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    target_hint: str
    source: str | None
    granted_at: datetime | None
    granted_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    reassigned_at: datetime | None
    reassigned_by: str | None
    valid: bool


class SuppressionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(min_length=1, max_length=320, description="Phone number, e-mail or postal address")
    reason: str | None = Field(default=None, max_length=2000)
    lead_id: uuid.UUID | None = Field(
        default=None, description="The lead whose number or address opted out. Agents must name one of their "
                                  "leads, and the target must be that lead's; managers and admins may suppress any "
                                  "target")


class SuppressionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    target_kind: str
    target_hint: str
    reason: str | None
    source: str
    created_by: str
    created_at: datetime


class BlockedWindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(default="00:00", description="HH:MM, the consumer's local time")
    end: str = Field(default="24:00", description="HH:MM; at or before the start wraps past midnight")
    days: list[str] = Field(default_factory=list, description="mon…sun; empty: every day")
    channels: list[Channel] = Field(default_factory=list, description="empty: every timed channel")
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value)
        return value.strip()

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        parse_days(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> BlockedWindowCreate:
        start, end = parse_clock(self.start), parse_clock(self.end)
        if start == 24 * 60:
            raise ValueError("start must be before 24:00")
        if start == end:
            raise ValueError("start and end are the same time")
        return self


class BlockedWindowRead(BaseModel):
    id: uuid.UUID
    lead_id: uuid.UUID
    start: str
    end: str
    days: list[str]
    channels: list[str]
    note: str | None
    created_by: str
    created_at: datetime


class RulesUpdate(BaseModel):
    """Fields of the rule settings to change (``null`` puts a field back to its default)."""

    model_config = ConfigDict(extra="forbid")

    changes: dict[str, Any] = Field(description='e.g. {"window_end": "20:00", "social_dm_enabled": true}')

