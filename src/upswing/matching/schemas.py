from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from upswing.core.pagination import offset_field
from upswing.matching.models import MatchStatus


class ServiceMatchRead(BaseModel):
    id: uuid.UUID | None = Field(description="The stored match (null: scored now, not stored — not eligible)")
    lead_id: uuid.UUID
    service_id: uuid.UUID
    service_name: str
    category: str
    score: int = Field(description="0–100: geographic 0–25, industry 0–20, need 0–25, profile 0–15, behaviour 0–15")
    breakdown: dict[str, float]
    reasons: list[str]
    status: MatchStatus
    computed_at: datetime | None
    status_changed_by: str | None = None
    status_changed_at: datetime | None = None


class LeadMatches(BaseModel):
    lead_id: uuid.UUID
    items: list[ServiceMatchRead]


class MatchStatusUpdate(BaseModel):
    status: MatchStatus


class ServiceLead(BaseModel):
    match_id: uuid.UUID
    lead_id: uuid.UUID
    external_id: str
    name: str
    state: str | None
    city: str | None
    score: int
    status: MatchStatus
    reasons: list[str]
    distance_km: float | None = Field(default=None, description="From the point given in near (when given)")


class ServiceLeadPage(BaseModel):
    items: list[ServiceLead]
    limit: int
    offset: int


class ServiceLeadFilters(BaseModel):
    min_match_score: int = Field(default=0, ge=0, le=100)
    status: MatchStatus | None = None
    state: str | None = Field(default=None, min_length=2, max_length=2,
                              description="The lead's USPS state code (exact)")
    near: str | None = Field(default=None, max_length=60, pattern=r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$",
                             description="lat,lng: with radius_km, only leads within that distance")
    radius_km: float | None = Field(default=None, gt=0, le=5000)
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = offset_field()

    @field_validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        from upswing.service_catalog.codes import is_usps_code

        if value is not None and not is_usps_code(value.upper()):
            raise ValueError(f"{value!r} is not a USPS state code")
        return None if value is None else value.upper()

    def point(self) -> tuple[float, float] | None:
        if self.near is None:
            return None
        lat_text, lng_text = self.near.split(",")
        lat, lng = float(lat_text), float(lng_text)
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError("near: latitude must be within ±90 and longitude within ±180")
        return lat, lng


class SimilarLead(BaseModel):
    lead_id: uuid.UUID
    external_id: str
    name: str
    state: str | None
    distance: float = Field(description="Distance between the feature vectors (docs/matching.md); 0 = alike")


class SimilarLeads(BaseModel):
    lead_id: uuid.UUID
    components: list[str] = Field(description="The feature vector's components, in order")
    items: list[SimilarLead]


class ComputeReport(BaseModel):
    leads: int
    services: int
    scored: int
    stored: int
    removed: int


SortKey = Literal["score"]
