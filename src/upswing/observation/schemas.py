from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IngestReport(BaseModel):
    file: str | None = None
    items: int = 0
    observations_created: int = 0
    duplicates: int = Field(default=0, description="Items whose normalized content was already stored")
    linked: int = 0
    unlinked: int = 0
    review: int = Field(default=0, description="Items waiting in the match review queue (counted as unlinked)")
    signals_created: int = 0
    signals_merged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list)


class ObservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    subject_key: str | None
    shape: str | None
    url: str | None
    lead_id: uuid.UUID | None
    version: int | None
    observed_at: datetime
    last_observed_at: datetime
    normalized: dict[str, Any]


class ObservationPage(BaseModel):
    items: list[ObservationRead]
    total: int
    limit: int
    offset: int
