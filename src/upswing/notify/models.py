"""Addresses mail must not go to: a hard bounce, a spam complaint, an unsubscribe or a block reported by the
e-mail provider (docs/digest.md, "Bounces and complaints"). Every e-mail sender checks it before sending."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, UTCDateTime, new_uuid, utcnow


class EmailSuppression(Base):
    """One address (lower-cased; staff addresses, not borrowers') and the provider event that stopped mail to it.
    Lifted by an admin (``lifted_at``); a new event suppresses it again."""

    __tablename__ = "email_suppressions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    #: hard_bounce, spam, unsubscribed, blocked (Brevo's event names), or manual.
    reason: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40), default="brevo")
    detail: Mapped[str | None] = mapped_column(Text)  # the provider's reason text
    message_id: Mapped[str | None] = mapped_column(String(300))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(200))
