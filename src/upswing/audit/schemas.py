from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upswing.core.pagination import offset_field
from upswing.core.timeparse import LooseDatetime


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    total: int
    limit: int
    offset: int


class AuditFilters(BaseModel):
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: LooseDatetime | None = Field(default=None, description="At or after (ISO 8601)")
    until: LooseDatetime | None = Field(default=None, description="Before (ISO 8601)")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = offset_field()


class ChainVerification(BaseModel):
    intact: bool
    entries: int = Field(description="Entries checked (up to the first broken one)")
    first_broken_id: int | None
    last_id: int | None
    last_hash: str | None
