from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from upswing.resolution.models import MatchMethod, MatchOutcome


class MatchRead(BaseModel):
    """A link decision with what a reviewer needs to judge it: both sides and the per-field explanation."""

    id: uuid.UUID
    observation_id: uuid.UUID
    lead_id: uuid.UUID
    score: float = Field(description="Probability (0..1) that the profile is the lead")
    outcome: MatchOutcome
    method: MatchMethod
    agreed: dict[str, str]
    disagreed: dict[str, str]
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    subject_key: str | None
    profile_url: str | None
    profile_name: str | None
    profile_headline: str | None
    profile_location: str | None
    observed_at: datetime
    lead_external_id: str
    lead_name: str
    lead_city: str | None
    lead_state: str | None
    lead_employer: str | None
    profile_title: str | None = Field(default=None, description="The profile's current position (first one)")
    profile_company: str | None = Field(default=None, description="The company of that position")
    lead_title: str | None = None


class MatchPage(BaseModel):
    items: list[MatchRead]
    total: int
    limit: int
    offset: int


class MatchDecision(BaseModel):
    match: MatchRead
    observations_linked: int = Field(description="Observations of the profile linked by this approval")
    signals_created: int
    signals_merged: int
