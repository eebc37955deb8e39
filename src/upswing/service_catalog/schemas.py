from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from upswing.core.pagination import offset_field
from upswing.service_catalog import codes
from upswing.service_catalog.models import EmploymentState, ServiceCategory

Money = Decimal


def _codes(values: list[str], valid: Any, what: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        code = value.strip().upper()
        if not valid(code):
            raise ValueError(f"{value!r} is not {what}")
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


def _vocabulary(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        item = value.strip().lower().replace(" ", "_").replace("-", "_")
        if item not in allowed:
            raise ValueError(f"{value!r} is not {what} (one of {', '.join(allowed)})")
        if item not in cleaned:
            cleaned.append(item)
    return cleaned


class ServiceEligibility(BaseModel):
    """Who a service is for; every list empty means "no restriction" on that field."""

    model_config = ConfigDict(extra="forbid")

    states: list[str] = Field(default_factory=list, max_length=60,
                              description="USPS codes (TX, CA, DC, PR): exact codes, never city names")
    region_codes: list[str] = Field(default_factory=list, max_length=200,
                                    description="ISO 3166-2 codes (US-TX, CA-ON)")
    local_radius_km: float | None = Field(default=None, gt=0, le=5000,
                                          description="A local service: offered within this distance of its centre")
    center_latitude: float | None = Field(default=None, ge=-90, le=90)
    center_longitude: float | None = Field(default=None, ge=-180, le=180)
    balance_min: Money | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    balance_max: Money | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    days_delinquent_min: int | None = Field(default=None, ge=0, le=36500)
    days_delinquent_max: int | None = Field(default=None, ge=0, le=36500)
    employment_states: list[EmploymentState] = Field(default_factory=list, max_length=4)
    signal_types: list[str] = Field(default_factory=list, max_length=20,
                                    description="Signal types that make the service relevant")
    industries: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("states")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        return _codes(value, codes.is_usps_code, "a USPS state code")

    @field_validator("region_codes")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        return _codes(value, codes.is_region_code, "an ISO 3166-2 region code")

    @field_validator("signal_types")
    @classmethod
    def _signal_types(cls, value: list[str]) -> list[str]:
        return _vocabulary(value, codes.SIGNAL_TYPES, "a signal type")

    @field_validator("industries")
    @classmethod
    def _industries(cls, value: list[str]) -> list[str]:
        return _vocabulary(value, codes.INDUSTRIES, "an industry")


class ServiceFields(ServiceEligibility):
    name: str = Field(min_length=1, max_length=200)
    category: ServiceCategory
    description: str | None = Field(default=None, max_length=4000)
    need_profile: dict[str, float] = Field(default_factory=dict, description=(
        "Weight 0–1 per need the service meets: hardship, restart, settlement, rehabilitation, refinance, loan"))
    active_from: date | None = None
    active_to: date | None = None
    active: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("need_profile")
    @classmethod
    def _needs(cls, value: dict[str, float]) -> dict[str, float]:
        return check_needs(value)

    @model_validator(mode="after")
    def _consistent(self) -> ServiceFields:
        check_consistent(self.model_dump())
        return self


def check_needs(value: dict[str, float]) -> dict[str, float]:
    for need, weight in value.items():
        if need not in codes.NEEDS:
            raise ValueError(f"{need!r} is not a need (one of {', '.join(codes.NEEDS)})")
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"{need}: weight must be between 0 and 1")
    return dict(sorted(value.items()))


def check_consistent(values: dict[str, Any]) -> None:
    """Ranges ordered, a local service's centre complete (also for a partial update merged with the service)."""
    for low, high in (("balance_min", "balance_max"), ("days_delinquent_min", "days_delinquent_max"),
                      ("active_from", "active_to")):
        if values.get(low) is not None and values.get(high) is not None and values[low] > values[high]:
            raise ValueError(f"{high}: below {low}")
    centre = (values.get("center_latitude"), values.get("center_longitude"))
    if values.get("local_radius_km") is not None and None in centre:
        raise ValueError("center_latitude: a local service (local_radius_km) needs center_latitude and "
                         "center_longitude")
    if (centre[0] is None) != (centre[1] is None):
        raise ValueError("center_longitude: give both center_latitude and center_longitude")


class ServiceCreate(ServiceFields):
    external_id: str | None = Field(default=None, min_length=1, max_length=160, description=(
        "The service's id in the team's own catalog: sending it again updates the same service"))


class ServiceUpdate(BaseModel):
    """A partial change: only the fields sent change (checked again against the rest of the service)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: ServiceCategory | None = None
    description: str | None = Field(default=None, max_length=4000)
    states: list[str] | None = Field(default=None, max_length=60)
    region_codes: list[str] | None = Field(default=None, max_length=200)
    local_radius_km: float | None = Field(default=None, gt=0, le=5000)
    center_latitude: float | None = Field(default=None, ge=-90, le=90)
    center_longitude: float | None = Field(default=None, ge=-180, le=180)
    balance_min: Money | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    balance_max: Money | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    days_delinquent_min: int | None = Field(default=None, ge=0, le=36500)
    days_delinquent_max: int | None = Field(default=None, ge=0, le=36500)
    employment_states: list[EmploymentState] | None = Field(default=None, max_length=4)
    signal_types: list[str] | None = Field(default=None, max_length=20)
    industries: list[str] | None = Field(default=None, max_length=20)
    need_profile: dict[str, float] | None = None
    active_from: date | None = None
    active_to: date | None = None
    active: bool | None = None

    @field_validator("states")
    @classmethod
    def _states(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _codes(value, codes.is_usps_code, "a USPS state code")

    @field_validator("region_codes")
    @classmethod
    def _regions(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _codes(value, codes.is_region_code, "an ISO 3166-2 region code")

    @field_validator("signal_types")
    @classmethod
    def _signal_types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _vocabulary(value, codes.SIGNAL_TYPES, "a signal type")

    @field_validator("industries")
    @classmethod
    def _industries(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _vocabulary(value, codes.INDUSTRIES, "an industry")

    @field_validator("need_profile")
    @classmethod
    def _needs(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else check_needs(value)


class ServiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    external_id: str | None
    name: str
    category: ServiceCategory
    description: str | None
    states: list[str]
    region_codes: list[str]
    local_radius_km: float | None
    center_latitude: float | None
    center_longitude: float | None
    balance_min: Decimal | None
    balance_max: Decimal | None
    days_delinquent_min: int | None
    days_delinquent_max: int | None
    employment_states: list[str]
    signal_types: list[str]
    industries: list[str]
    need_profile: dict[str, float]
    active_from: date | None
    active_to: date | None
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class ServiceFilters(BaseModel):
    category: ServiceCategory | None = None
    active: bool | None = Field(default=None, description="Only services switched on (true) or off (false)")
    q: str | None = Field(default=None, max_length=200, description="Name contains (case-insensitive)")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = offset_field()


class ServicePage(BaseModel):
    items: list[ServiceRead]
    total: int
    limit: int
    offset: int


class ServiceImportError(BaseModel):
    row: int | None
    field: str | None
    message: str


class ServiceImportReport(BaseModel):
    file: str | None
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ServiceImportError] = Field(default_factory=list)
