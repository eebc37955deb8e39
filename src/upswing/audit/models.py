from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, utcnow

#: ``prev_hash`` and ``hash`` of an entry not sealed into the chain yet.
UNSEALED = ""


class AuditEntry(Base):
    """Append-only, hash-chained record of who did what. Database triggers refuse DELETE, and UPDATE except the
    one that seals an entry into the chain (``seq``, ``prev_hash`` and ``hash`` set once, nothing else changed)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # The lead timeline and per-record history read the log by entity.
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("uq_audit_log_seq", "seq", unique=True),
        # The sealer's queue: entries not chained yet.
        Index("ix_audit_log_unsealed", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: Position in the chain, set by the sealer (the order entries were sealed in, which is their id order as
    #: far as their transactions had committed).
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64), default=UNSEALED)
    hash: Mapped[str] = mapped_column(String(64), default=UNSEALED)
