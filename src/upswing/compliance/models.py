"""Contact ledger, TCPA consents, the suppression list, lead compliance flags, consumer-designated blocked
windows and the guard's rule settings.

Numbers and addresses are PII: rows keep a blind index (HMAC, for look-ups), the value encrypted with the key
ring (for the person's own data export) and a masked hint for people; the suppression list keeps no value at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow

CHANNELS = ("call", "sms", "email", "letter", "social_dm", "social_public")
SOURCES = ("api", "cli", "import", "crm")
FLAGS = ("cease", "attorney", "bankruptcy", "deceased", "dispute")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ContactAttempt(Base):
    """One contact attempt or conversation with a lead (a lead is one debt: its external id is the account)."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        Index("ix_contact_attempts_lead_id_occurred_at", "lead_id", "occurred_at"),
        Index("ix_contact_attempts_signal_id", "signal_id"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("direction", ("outbound", "inbound")), name="direction"),
        CheckConstraint(_in("source", SOURCES), name="source"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    #: phone, email, address or social; null when the entry names no target.
    target_kind: Mapped[str | None] = mapped_column(String(10))
    #: cell, home, work, other (phones), personal or work (e-mail); null when unknown.
    target_type: Mapped[str | None] = mapped_column(String(10))
    target_index: Mapped[str | None] = mapped_column(String(64))
    target_encrypted: Mapped[str | None] = mapped_column(Text)
    target_hint: Mapped[str | None] = mapped_column(String(80))
    autodialed: Mapped[bool] = mapped_column(Boolean, default=False)
    conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10))
    #: The signal whose action this contact was (working a signal writes the action and this entry together).
    signal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    #: Why the guard's refusal was overridden (a documented exception), and the reasons it overrode.
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_reasons: Mapped[list[str] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactConsent(Base):
    """TCPA prior express consent of a lead for one number. Valid while neither revoked nor reassigned;
    ``granted_at`` is null for a record that only notes a reassignment."""

    __tablename__ = "contact_consents"
    __table_args__ = (Index("ix_contact_consents_lead_id_target_index", "lead_id", "target_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    target_index: Mapped[str] = mapped_column(String(64))
    target_encrypted: Mapped[str] = mapped_column(Text)
    target_hint: Mapped[str] = mapped_column(String(80))
    source: Mapped[str | None] = mapped_column(String(200))
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    granted_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    reassigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reassigned_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suppression(Base):
    """A number or address that opted out: honoured on every channel, for every lead. Only a keyed hash."""

    __tablename__ = "contact_suppressions"
    __table_args__ = (CheckConstraint(_in("target_kind", ("phone", "email", "address", "social")), name="kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    target_kind: Mapped[str] = mapped_column(String(10))
    target_index: Mapped[str] = mapped_column(String(64), unique=True)
    target_hint: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeadComplianceFlag(Base):
    """One period during which a flag was set on a lead (active while ``cleared_at`` is null): the history."""

    __tablename__ = "lead_compliance_flags"
    __table_args__ = (
        Index("ix_lead_compliance_flags_lead_id_flag", "lead_id", "flag"),
        CheckConstraint(_in("flag", FLAGS), name="flag"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by: Mapped[str] = mapped_column(String(200))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(200))
    clear_note: Mapped[str | None] = mapped_column(Text)


class BlockedWindowRow(Base):
    """A time the consumer said is inconvenient ("no calls 12:00–13:00", "not on Sundays"), in their local time."""

    __tablename__ = "contact_blocked_windows"
    __table_args__ = (Index("ix_contact_blocked_windows_lead_id", "lead_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    #: ``HH:MM``; an end at or before the start wraps past midnight; ``24:00`` is the end of the day.
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    #: Weekdays the window starts on (0 = Monday); empty: every day.
    days: Mapped[list[int]] = mapped_column(JSONType, default=list)
    #: Channels it covers; empty: every channel the time window covers.
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComplianceSetting(Base):
    """Admin overrides of the guard's rules (key ``rules``: the changed fields only; defaults live in code)."""

    __tablename__ = "compliance_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
