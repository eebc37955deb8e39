from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow
from upswing.lead.models import Lead


class MatchOutcome(StrEnum):
    LINKED = "linked"  # linked automatically (a deterministic key, or a score above the link threshold)
    REVIEW = "review"  # waiting for a person: between the thresholds, or a key several leads share
    UNLINKED = "unlinked"  # a review closed without a link (another candidate was approved)
    REJECTED = "rejected"  # a person said: not this lead (a known non-match is recorded)
    APPROVED = "approved"  # a person said: this lead (the observation is linked)


class MatchMethod(StrEnum):
    DETERMINISTIC = "deterministic"
    PROBABILISTIC = "probabilistic"


class Match(Base):
    """One link decision between an observation and a lead, with the fields that agreed and disagreed."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("observation_id", "lead_id"),
        Index("ix_matches_outcome_created", "outcome", "created_at"),
        Index("ix_matches_lead_id", "lead_id"),
        CheckConstraint("outcome IN ('linked', 'review', 'unlinked', 'rejected', 'approved')", name="outcome"),
        CheckConstraint("method IN ('deterministic', 'probabilistic')", name="method"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    observation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    agreed: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    disagreed: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(200))  # "system", "user:alice", "cli:bob"
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NonMatch(Base):
    """A known non-match: this subject (a profile, by its subject key) is not this lead. Never linked again."""

    __tablename__ = "non_matches"
    __table_args__ = (
        UniqueConstraint("lead_id", "subject_key"),
        Index("ix_non_matches_subject_key", "subject_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    subject_key: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The linker's blocking look-ups on the leads table: a family name in a state and the given name's initial,
# or a given name in a state and the family name's initial, each one index range scan. Declared here, next to
# the code that needs them, and created by this package's migration (0003).
_LEADS = Lead.__table__
Index("ix_leads_last_state_first", _LEADS.c.last_name, _LEADS.c.state, _LEADS.c.first_name)
Index("ix_leads_first_state_last", _LEADS.c.first_name, _LEADS.c.state, _LEADS.c.last_name)
