"""A service (program or offer) of the recovery team: what it is, who is eligible, which needs it meets, when."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, Float, Index, Integer, Numeric, String, Text, Uuid, text, true
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class ServiceCategory(StrEnum):
    REPAYMENT_PLAN = "repayment_plan"
    REHABILITATION = "rehabilitation"
    SETTLEMENT = "settlement"
    HARDSHIP_FORBEARANCE = "hardship_forbearance"
    REFINANCING = "refinancing"
    CONSOLIDATION = "consolidation"
    BUSINESS_LOAN = "business_loan"


class EmploymentState(StrEnum):
    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    SELF_EMPLOYED = "self_employed"
    UNKNOWN = "unknown"


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint(f"category IN ({', '.join(repr(c.value) for c in ServiceCategory)})", name="category"),
        CheckConstraint("local_radius_km IS NULL OR local_radius_km > 0", name="local_radius_km"),
        # Re-importing the catalog file, or re-sending an API call with the same external id, changes in place.
        Index("uq_services_external_id", "external_id", unique=True, postgresql_where=text("external_id IS NOT NULL"),
              sqlite_where=text("external_id IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    external_id: Mapped[str | None] = mapped_column(String(160))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    #: USPS codes (``TX``) the service is offered in, and ISO 3166-2 ``region_codes`` (``CA-ON``); both empty:
    #: anywhere.
    states: Mapped[list[str]] = mapped_column(JSONType, default=list)
    region_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: A local service: offered within this radius of its centre (the lead's coordinates decide).
    local_radius_km: Mapped[float | None] = mapped_column(Float)
    center_latitude: Mapped[float | None] = mapped_column(Float)
    center_longitude: Mapped[float | None] = mapped_column(Float)
    balance_min: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    balance_max: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    days_delinquent_min: Mapped[int | None] = mapped_column(Integer)
    days_delinquent_max: Mapped[int | None] = mapped_column(Integer)
    employment_states: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Signal types that make the service relevant (a recent one gives the need factor its points).
    signal_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    industries: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Weight (0–1) per need the service meets: ``{"hardship": 1.0, "restart": 0.5}``.
    need_profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
