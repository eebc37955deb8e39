from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class ObservationKind(StrEnum):
    PROFILE = "profile"
    TEXT = "text"


class Observation(Base):
    """One thing seen at one time: the raw payload, its normalized form and a content hash.

    The hash is over the normalized form, so the same item fetched twice is one row.
    """

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_lead_kind_observed", "lead_id", "kind", "observed_at"),
        Index("ix_observations_subject_key", "subject_key"),
        Index("ix_observations_guess", "guess_label", "observed_at", postgresql_where=text("guess_label IS NOT NULL"),
              sqlite_where=text("guess_label IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    subject_key: Mapped[str | None] = mapped_column(String(320))
    shape: Mapped[str | None] = mapped_column(String(40))
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(1000))
    # Archival copy of what the source sent: plain JSON (text) on PostgreSQL, because JSONB's parse
    # on write was the ingest bottleneck there and nothing queries inside it.
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    normalized: Mapped[dict[str, Any]] = mapped_column(JSONType)
    #: Blind indexes of the e-mails and phone numbers sealed inside ``raw`` and ``normalized``
    #: (``privacy.sealing``): how a data-subject request finds the observation. Null: stored before sealing.
    identifier_index: Mapped[list[str] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: A text's top guess when it looked like an event but did not clear the type's confidence threshold (the
    #: low-confidence list, ``signal.low_confidence``); cleared when a person labels it. Null otherwise.
    guess_label: Mapped[str | None] = mapped_column(String(40))
    guess_confidence: Mapped[float | None] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
