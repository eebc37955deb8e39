from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from upswing.core.pagination import offset_field
from upswing.discovery.compat import STATUS_NAMES

Category = Literal["any", "loan", "consulting", "growth", "expansion", "distress"]
CompanySize = Literal["any", "1-10", "11-50", "51-200", "201-1000", "1000+"]
_LAT_LNG = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


def parse_lat_lng(area: str) -> tuple[float, float] | None:
    """``"30.27,-97.74"`` → (30.27, -97.74); None when the area is a place name; ValueError when out of range."""
    match = _LAT_LNG.match(area)
    if match is None:
        return None
    lat, lng = float(match.group(1)), float(match.group(2))
    if not -90 <= lat <= 90 or not -180 <= lng <= 180:
        raise ValueError("latitude must be within -90..90 and longitude within -180..180")
    return lat, lng


class DiscoverRequest(BaseModel):
    """What to look for: companies in an area (a place or ``lat,lng``, and a radius), of an industry and size, whose
    pages show the intent of a lead category."""

    model_config = ConfigDict(extra="forbid")

    area: str = Field(min_length=2, max_length=200, validation_alias=AliasChoices("area", "location"),
                      description='"City, ST" (e.g. "Austin, TX") or "lat,lng" (`location` is taken too, as the '
                                  'second spec names it)')
    radius_km: float = Field(default=25.0, gt=0, le=500, description="Around the area's centre")
    category: Category = Field(default="any", description="The intent the prospects' pages must show: loan "
                               "(loan_need), consulting (consulting_need), growth, expansion, distress "
                               "(financial_distress), or any of them")
    industry: str | None = Field(default=None, max_length=100, description='e.g. "construction", "restaurants"')
    company_size: CompanySize = Field(default="any", description="Employees (a search hint)")
    max_companies: int = Field(default=20, ge=1, le=100, description="Company sites to look at, at most")

    @field_validator("area")
    @classmethod
    def _area(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("area is empty")
        parse_lat_lng(value)  # a bad lat,lng is a ValueError naming the field
        return value

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str | None) -> str | None:
        return " ".join(value.split()) or None if value is not None else None


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str = Field(description="queued, running, done, stopped_budget (a source's daily budget ran out: "
                                    "stop_reason names it) or failed")
    criteria: dict[str, Any]
    area: str | None
    latitude: float | None
    longitude: float | None
    radius_km: float | None
    category: str | None
    found: int = Field(description="Company sites among the search results")
    fetched: int = Field(description="Sites whose page was fetched (robots.txt allowing)")
    classified: int = Field(description="Page texts run through the company-intent classifier")
    created: int = Field(description="Prospect leads created")
    skipped: int = Field(description="Sites already known, disallowed, or without the intent looked for")
    budget_used: dict[str, int]
    errors: list[str]
    stop_reason: str | None
    requested_by: str
    task_run_id: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProspectIntent(BaseModel):
    intent: str
    confidence: float
    snippet: str
    url: str | None = None


class ProspectRead(BaseModel):
    lead_id: uuid.UUID
    name: str
    website: str
    company_domain: str | None
    city: str | None
    state: str | None
    review_state: str
    status: str = Field(description="The lead's status (Upswing's names)")
    intents: list[ProspectIntent]
    signals: int = Field(description="Intent signals on the prospect")
    found_by: dict[str, Any]
    run_id: uuid.UUID | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    created_at: datetime


class ProspectFilters(BaseModel):
    state: Literal["pending", "approved", "rejected", "all"] = Field(default="pending", description="Review state")
    status: str | None = Field(default=None, max_length=20, description=(
        "The lead's status, in Upswing's names or the second spec's (new, qualified, contacted, converted, lost)"))
    run_id: uuid.UUID | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = offset_field()

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if value not in STATUS_NAMES:
            raise ValueError(f"unknown status; one of {', '.join(sorted(STATUS_NAMES))}")
        return value


class ProspectPage(BaseModel):
    items: list[ProspectRead]
    total: int
    limit: int
    offset: int


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    note: str | None = Field(default=None, max_length=2000)
    portfolio: str | None = Field(default=None, max_length=200,
                                  description="Approve into this portfolio (default: stays in Discovered prospects)")


class EnrichReport(BaseModel):
    """What running the lead's enrichment sources now found."""

    lead_id: uuid.UUID
    sources: list[dict[str, Any]] = Field(description="Per source run: slug, targets, items, observations and "
                                                      "signals created, stopped (budget/blocked/error), errors")
    skipped: list[dict[str, str]] = Field(description="Sources not run, and why (disabled, nothing to fetch)")
    observations_created: int
    signals_created: int
