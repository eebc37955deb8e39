"""Discovery runs (criteria, progress, budget used) and the prospects they found (companies awaiting review)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    STOPPED_BUDGET = "stopped_budget"  # a source's daily budget ran out: what was found so far is kept
    FAILED = "failed"


FINISHED = (RunStatus.DONE.value, RunStatus.STOPPED_BUDGET.value, RunStatus.FAILED.value)


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DiscoveryRun(Base):
    """One ``POST /api/v1/discover``: the criteria, where the run is, and what it found and spent."""

    __tablename__ = "discovery_runs"
    __table_args__ = (
        Index("ix_discovery_runs_created_at", "created_at"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'stopped_budget', 'failed')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED.value)
    #: The criteria as sent (area, radius_km, category, industry, company_size, max_companies).
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The area as searched ("Austin, TX"), and its centre when geocoded or given as lat,lng.
    area: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(20))
    found: Mapped[int] = mapped_column(Integer, default=0)  # distinct company sites among the search results
    fetched: Mapped[int] = mapped_column(Integer, default=0)  # sites whose page text was fetched
    classified: Mapped[int] = mapped_column(Integer, default=0)  # texts run through the company-intent classifier
    created: Mapped[int] = mapped_column(Integer, default=0)  # prospect leads created
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # sites already known, or without a matching intent
    #: Budget units this run spent, by budget name (``google-cse-queries``, ``discovery-pages`` …).
    budget_used: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    errors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Why the run ended early (``budget``: which budget ran out), else None.
    stop_reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    task_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Prospect(Base):
    """What discovery knows of a prospect lead (``leads.kind = company``, ``discovered``): where it was found,
    which intents its pages showed, and its review."""

    __tablename__ = "discovery_prospects"
    __table_args__ = (
        Index("ix_discovery_prospects_run_id", "run_id"),
        Index("ix_discovery_prospects_site", "site", unique=True),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("discovery_runs.id", ondelete="SET NULL"))
    #: The company's site as discovery keys it (its domain; host:port/path for an address without a name).
    site: Mapped[str] = mapped_column(String(300))
    website: Mapped[str] = mapped_column(String(500))
    #: The search result that named it: provider, query, title, snippet.
    found_by: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The intents the classifier found on its pages: ``[{"intent", "confidence", "snippet", "url"}]``.
    intents: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
