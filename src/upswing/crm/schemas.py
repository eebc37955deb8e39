from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Literal["hubspot", "salesforce"]
    name: str = Field(min_length=1, max_length=100)
    config: dict[str, Any] = Field(description="The connector's settings and credentials (stored encrypted, never "
                                               "returned): base_url, access_token / client_id, client_secret, …")
    field_ownership: dict[str, Literal["crm", "upswing"]] | None = Field(
        default=None, description="Which side owns each shared field (defaults: Upswing owns signals and scores, "
                                  "the CRM owns owner, status and outcomes)")
    owner_map: dict[str, str] | None = Field(default=None, description="Upswing user id → the CRM's owner id")
    daily_budget: int = Field(default=10_000, ge=1, le=10_000_000, description="API calls allowed per UTC day")


class ConnectionRead(BaseModel):
    id: uuid.UUID
    name: str
    system: str
    status: str
    last_error: str | None
    last_push_at: datetime | None
    last_pull_at: datetime | None
    paused_until: datetime | None
    calls_today: int
    daily_budget: int
    pushes: dict[str, int] = Field(description="Pushes by status: pending, sent, failed")
    open_conflicts: int


class CrmRunQueued(BaseModel):
    connection_id: uuid.UUID
    task: str
    task_run_id: uuid.UUID


class WebhookResult(BaseModel):
    applied: int
    echoes: int
    duplicates: int
    conflicts: int
    ignored: int


class ConflictRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    field: str
    upswing_value: str | None
    crm_value: str | None
    upswing_changed_at: datetime | None
    crm_changed_at: datetime | None
    winner: str
    created_at: datetime
