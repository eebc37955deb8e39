"""What the source API and CLI show and accept. Secrets are write-only: only their names are ever shown."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BudgetRead(BaseModel):
    name: str
    limit: int | None = Field(description="Units a day; null: unlimited")
    used_today: int


class SourceRead(BaseModel):
    slug: str
    connector: str
    name: str
    title: str | None = Field(default=None, description="The connector's own name (null: connector missing)")
    capabilities: list[str] = Field(default_factory=list)
    enabled: bool
    legal_basis: str | None
    state: str = Field(description="ok | degraded | blocked | disabled")
    config: dict[str, Any] = Field(description="Settings in effect, secrets left out")
    secrets_set: list[str] = Field(description="Names of the secret settings that have a value")
    budgets: list[BudgetRead]
    cursor: str | None
    consecutive_failures: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    watched_leads: int = Field(description="Leads this source has fetched for at least once")
    due_leads: int | None = Field(default=None, description="Leads due now (lead-based sources only)")


class SourceUpdate(BaseModel):
    """A partial change: fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    legal_basis: str | None = Field(default=None, max_length=4000)
    config: dict[str, Any] | None = Field(
        default=None, description="Settings to change; a null value returns a setting to its default. "
                                  "Secret settings (API tokens) are accepted here and never shown again.")
    budgets: dict[str, int | None] | None = Field(
        default=None, description="Daily limits by budget name; null returns a budget to its default")


class HealthRead(BaseModel):
    slug: str
    ok: bool
    detail: str
    blocked: bool
    state: str


class RunReport(BaseModel):
    slug: str
    targets: int = Field(default=0, description="Leads (or companies) fetched for")
    items: int = 0
    observations_created: int = 0
    duplicates: int = 0
    linked: int = 0
    unlinked: int = 0
    texts_stored: int = 0
    signals_created: int = 0
    signals_merged: int = 0
    domains_filled: int = 0
    abouts_filled: int = 0
    rejected: int = 0
    budget_used: dict[str, int] = Field(default_factory=dict, description="Units spent by this run")
    stopped: str | None = Field(default=None, description="budget | blocked | error: why the run ended early")
    state: str = "ok"
    errors: list[str] = Field(default_factory=list)


class RunQueued(BaseModel):
    slug: str
    task_run_id: uuid.UUID | None = Field(description="null: the same run was queued already")
    idempotency_key: str
