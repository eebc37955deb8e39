"""Digest preferences (a user's, or a team's defaults) and the digests made (docs/digest.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    OFF = "off"


class DigestFormat(StrEnum):
    HTML = "html"  # HTML with a plain-text part
    TEXT = "text"  # plain text only


class DigestStatus(StrEnum):
    QUEUED = "queued"  # rendered, its delivery waits for the sender
    SENT = "sent"
    FAILED = "failed"
    EMPTY = "empty"  # nothing to say and the user does not want empty digests: not sent
    SUPPRESSED = "suppressed"  # the address bounced or complained, or the user has none: not sent


class DigestPreference(Base):
    """A user's preferences (``user_id``) or a team's defaults (``team_id``); a field left None is inherited
    (user → team → settings)."""

    __tablename__ = "digest_preferences"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    frequency: Mapped[str | None] = mapped_column(String(10))
    send_time: Mapped[str | None] = mapped_column(String(5))  # HH:MM in the user's zone
    weekly_day: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, for ``weekly``
    signal_types: Mapped[list[str] | None] = mapped_column(JSONType)
    min_priority: Mapped[str | None] = mapped_column(String(10))
    portfolios: Mapped[list[str] | None] = mapped_column(JSONType)  # names
    teams: Mapped[list[str] | None] = mapped_column(JSONType)  # names
    include_not_contactable: Mapped[bool | None] = mapped_column(Boolean)
    format: Mapped[str | None] = mapped_column(String(10))
    send_empty: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))


class Digest(Base):
    """One digest for one user and local date: at most one scheduled per (user, local date); a forced one
    (``upswing digest send --force``) is extra. Its e-mail is an alert delivery carrying the rendered message."""

    __tablename__ = "digests"
    __table_args__ = (
        Index("uq_digests_user_local_date", "user_id", "local_date", unique=True,
              postgresql_where=text("NOT forced"), sqlite_where=text("NOT forced")),
        Index("ix_digests_user_created", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Signals detected in (period_start, period_end] are this digest's news; the next digest starts at the end.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str | None] = mapped_column(String(300))
    #: Counts per section and priority (``{"urgent": 3, "high": 5, "still_open": 2, …}``).
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The signals listed, for "what was I told".
    signal_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert_deliveries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
