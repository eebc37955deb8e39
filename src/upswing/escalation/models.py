"""Escalation policies, the escalations made, team business calendars and holidays (docs/digest.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class DelayUnit(StrEnum):
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"  # one business day = the length of the team's business day


class EscalationTarget(StrEnum):
    MANAGER = "manager"  # the lead's team's manager (no team or no manager: the admins)
    ADMIN = "admin"  # every active admin


class EscalationPolicy(Base):
    """A signal of ``priority`` still unacknowledged ``delay`` business time after detection goes to ``target``
    as escalation ``level``."""

    __tablename__ = "escalation_policies"
    __table_args__ = (UniqueConstraint("priority", "level"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    priority: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    delay_value: Mapped[int] = mapped_column(Integer)
    delay_unit: Mapped[str] = mapped_column(String(20), default=DelayUnit.BUSINESS_HOURS.value)
    target: Mapped[str] = mapped_column(String(20), default=EscalationTarget.MANAGER.value)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))


class Escalation(Base):
    """A signal escalated to one person at one level (at most once per signal, level and person)."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("signal_id", "level", "user_id"),
                      Index("ix_escalations_user_created", "user_id", "created_at"),
                      Index("ix_escalations_team_created", "team_id", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    signal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    level: Mapped[int] = mapped_column(Integer)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("escalation_policies.id", ondelete="SET NULL"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(10))
    #: The business deadline that passed (detection + the policy's delay in the team's calendar).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BusinessCalendar(Base):
    """A team's business hours; a team without one uses the settings' (``UPSWING_BUSINESS_*``)."""

    __tablename__ = "business_calendars"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    start: Mapped[str] = mapped_column(String(5))  # HH:MM local
    end: Mapped[str] = mapped_column(String(5))
    #: Working weekdays, 0 = Monday.
    weekdays: Mapped[list[int]] = mapped_column(JSONType, default=list)
    #: Public holidays of this country (the holidays package); None: only the holidays listed.
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Holiday(Base):
    """A day off: for one team, or for every team (``team_id`` None)."""

    __tablename__ = "holidays"
    __table_args__ = (Index("ix_holidays_day", "day"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
