from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from upswing.detection.events import SignalType
from upswing.signal.models import SignalStatus


class SignalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    lead_external_id: str
    lead_name: str
    type: SignalType
    title: str | None
    organization: str | None
    effective_date: date | None
    detected_at: datetime
    confidence: float
    evidence_url: str | None
    evidence_snippet: str | None
    observation_ids: list[str]
    status: SignalStatus
    status_reason: str | None
    status_changed_at: datetime | None


class SignalPage(BaseModel):
    items: list[SignalRead]
    total: int
    limit: int
    offset: int


class DismissRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the signal is dismissed")


class SignalFilters(BaseModel):
    type: SignalType | None = None
    status: SignalStatus | None = None
    lead_id: uuid.UUID | None = None
    lead_external_id: str | None = None
    since: datetime | None = Field(default=None, description="detected_at on or after")
    until: datetime | None = Field(default=None, description="detected_at before")
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class SignalContract(BaseModel):
    """One line of ``upswing signals list --format jsonl``: a stable contract for automated checks."""

    id: str
    lead_external_id: str
    lead_name: str
    type: str
    title: str | None
    organization: str | None
    effective_date: str | None
    detected_at: str
    confidence: float
    evidence_url: str | None
    evidence_snippet: str | None
    status: str
