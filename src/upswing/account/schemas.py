from __future__ import annotations

import ipaddress
import uuid
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from upswing.account.models import Role


class Token(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int


class BrowserToken(BaseModel):
    """A browser sign-in: the access token (kept in memory by the dashboard), while the refresh token travels
    only in an ``HttpOnly`` cookie; ``csrf_token`` must come back as ``X-CSRF-Token`` on refresh."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int
    csrf_token: str


class RefreshRequest(BaseModel):
    refresh_token: str


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class AddressUnlock(BaseModel):
    address: str = Field(min_length=1, max_length=64, description="Client IP address as the server sees it")


class UnlockResult(BaseModel):
    """What an unlock cleared: the failures counted and whether a lockout was running."""

    was_locked: bool
    failures: int


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=120, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.AGENT
    email: str | None = None
    full_name: str | None = None
    team: str | None = Field(default=None, description="Team name")


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r} (for example America/Chicago)") from None
    return value


_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class AlertPreferences(BaseModel):
    """A user's alert preferences; a field left out is unchanged, a field sent as null is cleared."""

    model_config = ConfigDict(extra="forbid")
    timezone: Annotated[str | None, AfterValidator(_zone)] = Field(
        default=None, description="IANA time zone the quiet hours are in (default: UTC)")
    quiet_hours_start: str | None = Field(default=None, pattern=_CLOCK, description="HH:MM local, e.g. 21:00")
    quiet_hours_end: str | None = Field(default=None, pattern=_CLOCK, description="HH:MM local, e.g. 07:30")
    away_from: date | None = Field(default=None, description="First day away (alerts go to the fallback)")
    away_until: date | None = Field(default=None, description="Last day away (inclusive)")
    alert_hourly_cap: int | None = Field(default=None, ge=1, le=10_000,
                                         description="Alerts per channel per hour before the digest takes them")

    @model_validator(mode="after")
    def _consistent(self) -> AlertPreferences:
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None) and \
                {"quiet_hours_start", "quiet_hours_end"} <= self.model_fields_set:
            raise ValueError("quiet_hours_start and quiet_hours_end go together")
        if self.away_from and self.away_until and self.away_until < self.away_from:
            raise ValueError("away_until is before away_from")
        return self


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    team: str | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    email: str | None = Field(default=None, max_length=320, description="Where e-mail alerts go")
    preferences: AlertPreferences | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    username: str
    email: str | None
    full_name: str | None
    role: Role
    team_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    timezone: str | None = None
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    away_from: date | None = None
    away_until: date | None = None
    alert_hourly_cap: int | None = None


# --------------------------------------------------------------------------------------------------
# Machine clients (OAuth 2.0 client credentials; account/clients.py)

#: What a machine client may be allowed to do (docs/security.md, "Machine clients").
ClientScope = Literal["leads:read", "leads:write", "signals:read", "signals:write", "outcomes:write",
                      "webhooks:manage"]
CLIENT_SCOPES: tuple[str, ...] = ("leads:read", "leads:write", "signals:read", "signals:write", "outcomes:write",
                                  "webhooks:manage")


def _networks(values: list[str]) -> list[str]:
    """Addresses and CIDR networks, normalized (``10.0.0.7`` becomes ``10.0.0.7/32``); host bits are refused."""
    normalized = []
    for value in values:
        try:
            normalized.append(str(ipaddress.ip_network(value.strip(), strict=True)))
        except ValueError:
            raise ValueError(f"not an IP address or CIDR network: {value!r}") from None
    return sorted(set(normalized))


def _scopes(values: list[ClientScope]) -> list[ClientScope]:
    return sorted(set(values))


Networks = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100), AfterValidator(_networks)]
Scopes = Annotated[list[ClientScope], Field(min_length=1), AfterValidator(_scopes)]
PublicKey = Annotated[str, Field(min_length=1, max_length=20_000,
                                 description="PEM public key, or a JWK / JWK set as JSON (RSA or P-256)")]


class ApiClientCreate(BaseModel):
    """A machine client: with ``public_key`` it authenticates with signed assertions (``private_key_jwt``),
    without one with a secret (shown once, in the answer)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    scopes: Scopes
    allowed_ips: Networks = Field(default_factory=list, description="Addresses or CIDR networks; empty: any")
    public_key: PublicKey | None = None


class ApiClientUpdate(BaseModel):
    """A field left out is unchanged. Disabling ends the client's access tokens."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    scopes: Scopes | None = None
    allowed_ips: Networks | None = None
    public_key: PublicKey | None = Field(default=None, description="A new key (private_key_jwt clients only)")
    is_active: bool | None = None


class ApiClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID = Field(description="The OAuth client_id")
    name: str
    auth_method: Literal["client_secret", "private_key_jwt"]
    scopes: list[str]
    allowed_ips: list[str]
    public_key: str | None
    is_active: bool
    created_at: datetime
    created_by: str


class ApiClientSecret(ApiClientRead):
    """A client with its secret: shown this once (at creation or rotation), stored only as a keyed hash."""

    client_secret: str | None = Field(description="null for a private_key_jwt client")


class ClientToken(BaseModel):
    """An access token of the client-credentials grant (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int
    scope: str = Field(description="The scopes granted, space-separated")


class OAuthError(BaseModel):
    """An error of the token endpoint (RFC 6749 §5.2); ``detail`` repeats the description."""

    error: Literal["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                   "unsupported_grant_type", "invalid_scope"]
    error_description: str
    detail: str
