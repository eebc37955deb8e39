from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from upswing.core.pagination import offset_field
from upswing.core.timeparse import LooseDatetime

Consent = Literal["granted", "implied", "none"]
#: The browser's random first-party id: 16–64 characters of [A-Za-z0-9_-] (the snippet makes 32 hex digits).
ANONYMOUS_ID = r"^[A-Za-z0-9_-]{16,64}$"
EVENT_NAME = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
ORIGIN = r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$"


class _Call(BaseModel):
    """What every tracking call carries: the site's public key and the page's consent state."""

    model_config = ConfigDict(extra="forbid")

    site_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    consent: Consent = Field(default="none", description=(
        "granted: the visitor opted in; implied: the site's notice (refused in gdpr_strict); none: nothing per "
        "visitor is stored, only the anonymous daily count"))
    anonymous_id: str | None = Field(default=None, pattern=ANONYMOUS_ID, description=(
        "The browser's random first-party id (sent only with consent; stored only as a keyed hash)"))
    path: str | None = Field(default=None, max_length=2000, description=(
        "The page's path; its query string and fragment are dropped"))
    occurred_at: LooseDatetime | None = Field(default=None, description="When it happened (default: now)")

    @model_validator(mode="after")
    def _id_with_consent(self) -> _Call:
        if self.consent != "none" and self.anonymous_id is None:
            raise ValueError("anonymous_id: required with consent")
        return self


class PageCall(_Call):
    title: str | None = Field(default=None, max_length=300, description="Ignored (titles can name the person)")


class TrackCall(_Call):
    name: str = Field(pattern=EVENT_NAME, description="The action, e.g. calculator_used, plan_selected")
    properties: dict[str, Any] = Field(default_factory=dict, max_length=20, description=(
        "Only allow-listed keys with short scalar values are kept (UPSWING_TRACKING_ALLOWED_PROPERTIES)"))


class IdentifyCall(_Call):
    """Link the consenting visitor to a lead: a signed link token, or the portal's login verified by its server."""

    link_token: str | None = Field(default=None, max_length=500, description="A token from a signed link")
    external_id: str | None = Field(default=None, max_length=120, description="The lead's id at the lender")
    email: str | None = Field(default=None, max_length=320)
    user_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description=(
        "HMAC-SHA256 (hex) of the external_id (or the lower-cased e-mail) under the site's secret, computed by "
        "the portal's server after login"))

    @model_validator(mode="after")
    def _one_proof(self) -> IdentifyCall:
        login = self.external_id is not None or self.email is not None
        if self.link_token is None and not login:
            raise ValueError("link_token: give link_token, or external_id/email with user_hash")
        if self.link_token is not None and login:
            raise ValueError("link_token: give link_token or a login, not both")
        if self.external_id is not None and self.email is not None:
            raise ValueError("email: give external_id or email, not both")
        if login and self.user_hash is None:
            raise ValueError("user_hash: a login needs the portal server's user_hash")
        return self


class CallResult(BaseModel):
    #: "count": only the anonymous daily count was kept; "event": the consented event; "dropped": nothing kept
    #: (an opted-out lead's visitor); "linked": the visitor now belongs to the lead.
    stored: Literal["count", "event", "dropped", "linked", "nothing"]
    dropped_properties: list[str] = Field(default_factory=list)


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    allowed_origins: list[str] = Field(min_length=1, max_length=20, description=(
        "Exact origins of the lender's own pages, e.g. https://portal.lender.example"))
    portfolio: str | None = Field(default=None, max_length=200, description="Logins match leads of this portfolio")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        import re

        cleaned = []
        for value in values:
            origin = value.strip().lower().rstrip("/")
            if not re.match(ORIGIN, origin):
                raise ValueError(f"{value!r} is not an origin (scheme://host[:port], no path)")
            cleaned.append(origin)
        return sorted(set(cleaned))


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    site_key: str
    allowed_origins: list[str]
    portfolio_id: uuid.UUID | None
    active: bool
    created_by: str
    created_at: datetime


class SiteCreated(SiteRead):
    secret: str = Field(description="Shown once: the portal's server signs logins with it (user_hash)")
    snippet: str = Field(description="The script tag to put on the site's pages")


class ProfileFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    seen_since: LooseDatetime | None = Field(default=None, description="Last seen at or after this time")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = offset_field()


class ProfileRead(BaseModel):
    id: uuid.UUID
    site_id: uuid.UUID
    site_name: str
    lead_id: uuid.UUID
    lead_external_id: str
    lead_name: str
    link_method: str | None
    linked_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    events: int
    page_views: int
    actions: int


class ProfilePage(BaseModel):
    items: list[ProfileRead]
    limit: int
    offset: int


class TimelineEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str
    name: str
    path: str | None
    path_group: str
    properties: dict[str, Any]
    occurred_at: datetime


class ProfileDetail(ProfileRead):
    timeline: list[TimelineEvent] = Field(description="Newest first (at most 500)")
    engagement_strength: float = Field(description="0–1, over the lead's recent consented behaviour")
    engagement_counts: dict[str, int]


class DailyCountRead(BaseModel):
    day: date
    path_group: str
    count: int


class SiteStats(BaseModel):
    """What a site has sent: the anonymous daily counts (last 30 days) and how many consented visitors and events
    are kept (no one is named)."""

    site_id: uuid.UUID
    daily_counts: list[DailyCountRead]
    visitors: int
    linked_visitors: int
    events: int
