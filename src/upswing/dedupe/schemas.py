"""API and CLI shapes for lead deduplication (duplicates found, merges proposed, applied, undone, rejected)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upswing.core.pagination import offset_field
from upswing.lead.models import MergeStatus


class DuplicateRead(BaseModel):
    """Two leads of one portfolio that the dedupe model takes for the same person."""

    portfolio: str
    survivor_id: uuid.UUID
    survivor_external_id: str
    survivor_name: str
    merged_id: uuid.UUID
    merged_external_id: str
    merged_name: str
    #: Match probability, 0–1.
    score: float
    #: log2 odds of a match (the sum of the field weights and the prior).
    weight: float
    agreed: dict[str, str]
    disagreed: dict[str, str]
    #: The stored proposal for this pair, if ``leads dedupe`` recorded one.
    merge_id: uuid.UUID | None = None


class MergeDecision(StrEnum):
    APPLY = "apply"
    REJECT = "reject"


class MergeRequest(BaseModel):
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    #: ``apply`` merges now; ``reject`` records that the two are different people (never proposed again).
    decision: MergeDecision = MergeDecision.APPLY


class LeadMergeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    portfolio_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    score: float
    explanation: dict[str, Any]
    status: MergeStatus
    #: Rows moved to the survivor (per table) and signals combined with one of the survivor's, when applied.
    moved: dict[str, int] = Field(default_factory=dict)
    created_by: str
    created_at: datetime
    applied_by: str | None = None
    applied_at: datetime | None = None
    undone_by: str | None = None
    undone_at: datetime | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    survivor_external_id: str | None = Field(default=None, description="In lists: the surviving lead's external id")
    survivor_name: str | None = Field(default=None, description="In lists: the surviving lead's name")
    merged_external_id: str | None = Field(default=None, description="In lists: the merged lead's external id")
    merged_name: str | None = Field(default=None, description="In lists: the merged lead's name")


class MergeFilters(BaseModel):
    portfolio: str | None = None
    status: MergeStatus | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = offset_field()


class DuplicateList(BaseModel):
    items: list[DuplicateRead]
    total: int
    threshold: float


class LeadMergePage(BaseModel):
    items: list[LeadMergeRead]
    total: int
    limit: int
    offset: int
