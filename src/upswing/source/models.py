"""Stored source instances, their daily budgets and each lead's monitoring schedule.

A ``Source`` is a configured instance of a connector: its settings (secrets sealed with the key ring), its
cursor, its health (state, last success, last error, consecutive failures) and its daily budgets. Usage
against a budget is counted per UTC day in ``source_budget_usage``; ``source_lead_schedule`` remembers when
each lead was last fetched by a source and when it is due again.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class SourceState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # repeated transient errors: still tried, worth a look
    BLOCKED = "blocked"  # the service refuses us (no credit, not rented, forbidden): not run on schedule
    DISABLED = "disabled"  # switched off by an admin


class Source(Base):
    """A configured instance of a connector (settings, secrets, cursor, budgets, health)."""

    __tablename__ = "sources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    connector: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    #: The connector's settings without its secrets (those are in ``secrets``).
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The secret settings (API tokens) as one key-ring ciphertext of a JSON object; never shown.
    secrets: Mapped[str | None] = mapped_column(Text)
    cursor: Mapped[str | None] = mapped_column(Text)
    #: Daily limits by budget name, e.g. ``{"profiles": 300}``; a name not listed is unlimited.
    budgets: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    state: Mapped[str] = mapped_column(String(20), default=SourceState.OK.value)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BudgetUsage(Base):
    """Units of one budget a source spent on one UTC day."""

    __tablename__ = "source_budget_usage"

    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class LeadSchedule(Base):
    """When a source last fetched for a lead and when it is due again (``None``: never again, e.g. an
    enrichment that found what it looked for). A run that picks a lead first moves ``next_due_at`` a lease
    ahead, so a second run at the same time leaves it alone; a failed run gives the lead back."""

    __tablename__ = "source_lead_schedule"
    __table_args__ = (Index("ix_source_lead_schedule_source_id_next_due_at", "source_id", "next_due_at"),)

    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: leased, never fetched yet
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checks: Mapped[int] = mapped_column(Integer, default=0)
