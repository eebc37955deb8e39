"""CRM connections and what the sync keeps per connection: record links, pushes, inbound events, conflicts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.crypto import EncryptedJSON
from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class CrmSystem(StrEnum):
    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # the daily API budget is spent, or the CRM asked us to wait: resumes by itself
    ERROR = "error"  # the CRM refused our credentials: needs an admin
    DISCONNECTED = "disconnected"


class PushStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the CRM refused this record for good (the error is kept)


class CrmConnection(Base):
    """One CRM account the team works in, with its credentials (encrypted) and sync rules."""

    __tablename__ = "crm_connections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    system: Mapped[str] = mapped_column(String(20))
    #: The connector's settings: base URL, credentials, field names (``crm.connector``), encrypted at rest.
    config: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("crm_connections.config"))
    #: Which side owns each shared field: ``{"owner": "crm", "status": "crm", "name": "upswing", …}``.
    field_ownership: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    #: Upswing user id → the CRM's owner id (both directions are read from it).
    owner_map: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.ACTIVE.value)
    #: Where the last pull stopped (the connector's own cursor).
    cursor: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: API calls made today (UTC day ``calls_day``) against ``daily_budget``.
    calls_today: Mapped[int] = mapped_column(Integer, default=0)
    calls_day: Mapped[date | None] = mapped_column(Date)
    daily_budget: Mapped[int] = mapped_column(Integer, default=10_000)
    #: Facts ``connect`` returned (portal/org id, properties created).
    info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CrmLink(Base):
    """A lead's record in one CRM, and the values we last wrote there (what an echo of our own write looks like)."""

    __tablename__ = "crm_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "lead_id", name="uq_crm_links_connection_lead"),
        Index("ix_crm_links_connection_remote", "connection_id", "remote_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    remote_id: Mapped[str] = mapped_column(String(100))
    written: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrmPush(Base):
    """One signal to write into one CRM: made by the outbox consumer in the signal's transaction, sent by the
    ``crm.push`` task with a lease, its remote ids recorded (a repeat after a crash finds what was made)."""

    __tablename__ = "crm_pushes"
    __table_args__ = (
        UniqueConstraint("connection_id", "signal_id", name="uq_crm_pushes_connection_signal"),
        Index("ix_crm_pushes_due", "status", "run_after"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    signal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=PushStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_lead_id: Mapped[str | None] = mapped_column(String(100))
    note_id: Mapped[str | None] = mapped_column(String(100))
    task_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CrmInboundEvent(Base):
    """A change the CRM reported (webhook or poll), kept by its id so a repeat is applied once."""

    __tablename__ = "crm_inbound_events"
    __table_args__ = (UniqueConstraint("connection_id", "event_id", name="uq_crm_inbound_events_connection_event"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    #: applied | echo (our own write) | conflict | ignored (nothing of ours, or a field Upswing owns)
    result: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrmConflict(Base):
    """A shared field changed on both sides since the last sync: last writer won; a person may look again."""

    __tablename__ = "crm_conflicts"
    __table_args__ = (Index("ix_crm_conflicts_open", "connection_id", "resolved_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(60))
    upswing_value: Mapped[str | None] = mapped_column(String(300))
    crm_value: Mapped[str | None] = mapped_column(String(300))
    upswing_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    crm_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    winner: Mapped[str] = mapped_column(String(10))  # crm | upswing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
