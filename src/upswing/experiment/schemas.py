from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from upswing.core.timeparse import LooseDatetime
from upswing.experiment.models import ExperimentStatus


class Population(BaseModel):
    """Which leads an experiment takes (every condition given must hold; none: every lead)."""

    model_config = ConfigDict(extra="forbid")

    portfolios: list[str] = Field(default_factory=list, max_length=100, description="Portfolio names")
    states: list[str] = Field(default_factory=list, max_length=60, description="USPS state codes")
    min_days_delinquent: int | None = Field(default=None, ge=0, le=100_000)
    min_balance: Decimal | None = Field(default=None, ge=0)
    max_balance: Decimal | None = Field(default=None, ge=0)


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    control_share: float = Field(default=0.10, gt=0, lt=0.5, description="Share of each stratum held out as control")
    population: Population = Field(default_factory=Population)
    conversion_days: int = Field(default=90, ge=7, le=730, description="Conversion: any payment within these days "
                                                                       "of assignment")
    planned_end: LooseDatetime = Field(description="The fixed horizon: the analysis is final then (interim looks "
                                                   "before it spend alpha, O'Brien-Fleming)")


class ExperimentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    status: ExperimentStatus
    control_share: float
    population: dict[str, Any]
    conversion_days: int
    planned_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    created_by: str
    created_at: datetime
    arms: dict[str, int] = Field(default_factory=dict, description="Leads assigned per arm")
    exposed: int = Field(default=0, description="Treatment leads whose first alert since assignment was delivered")


class ExperimentStart(BaseModel):
    assigned: int
    control: int
    treatment: int
    strata: int
    skipped_in_other_experiments: int


class PowerQuery(BaseModel):
    base_rate: float = Field(ge=0.0001, le=0.9999, description="Conversion rate without alerts (0–1)")
    relative_lift: float = Field(ge=0.001, le=10, description="The lift to detect, relative (0.2 = 20%; at least 0.1%)")
    power: float = Field(default=0.8, gt=0.5, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    control_share: float = Field(default=0.10, gt=0, lt=0.5)

    @model_validator(mode="after")
    def _reachable(self) -> PowerQuery:
        if self.base_rate * (1 + self.relative_lift) >= 1:
            raise ValueError("relative_lift: the treated rate base_rate × (1 + relative_lift) must stay below 1")
        return self


class PowerAnswer(BaseModel):
    control: int
    treatment: int
    total: int
    sentence: str


ReportFormat = Literal["json", "csv", "pdf"]
