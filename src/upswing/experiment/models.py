"""Holdout experiments: who is in the population, which arm each lead is in, and when treatment reached it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class ExperimentStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    ENDED = "ended"


class Arm(StrEnum):
    CONTROL = "control"  # business as usual: signals detected and stored, never alerted, pushed or shown as work
    TREATMENT = "treatment"


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (CheckConstraint("control_share > 0 AND control_share < 1", name="control_share"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=ExperimentStatus.DRAFT.value)
    control_share: Mapped[float] = mapped_column(Float, default=0.10)
    #: Which leads: ``{"portfolios": [...], "states": [...], "min_days_delinquent": n, "min_balance": x,
    #: "max_balance": y}`` (empty: every lead not merged away).
    population: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: Conversion = any payment within this many days of assignment.
    conversion_days: Mapped[int] = mapped_column(Integer, default=90)
    #: The planned end (the fixed horizon of the analysis).
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    __tablename__ = "experiment_assignments"
    __table_args__ = (Index("ix_experiment_assignments_lead", "lead_id"),)

    experiment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"),
                                                     primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    arm: Mapped[str] = mapped_column(String(10))
    #: Portfolio and balance band: the arms are balanced within each.
    stratum: Mapped[str] = mapped_column(String(200))
    #: The keyed hash of the lead id in [0, 1): recomputable from the key, so the assignment can be checked.
    draw: Mapped[float] = mapped_column(Float)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the lead's first alert after assignment was delivered (treatment: per-protocol "exposed").
    exposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
