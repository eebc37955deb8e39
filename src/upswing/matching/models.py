"""A lead's match with a service of the catalog: its score, the points per factor, the reasons, its status."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CONVERTED = "converted"


class ServiceMatch(Base):
    """Table ``service_matches`` (``matches`` is the profile↔lead review queue of the resolution domain)."""

    __tablename__ = "service_matches"
    __table_args__ = (
        UniqueConstraint("lead_id", "service_id"),
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in MatchStatus)})", name="status"),
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        # A service's leads, best first.
        Index("ix_service_matches_service_score", "service_id", "score"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    #: Points per factor: geographic, industry, need, profile, behaviour.
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: One sentence per factor.
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(10), default=MatchStatus.PROPOSED.value)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_by: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
