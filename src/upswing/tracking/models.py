"""Consented first-party tracking: the lender's sites, anonymous daily counts, consented visitors and their events.

What is stored when (docs/tracking.md):

* before consent: only ``tracking_daily_counts`` (site, day, path group, count): no id, nothing per person;
* after consent: ``tracking_visitors`` (a keyed hash of the browser's random first-party id, never the id
  itself) and ``tracking_events`` (page views and named actions, with allow-listed properties only);
* once the visitor identifies (a signed link or the portal's verified login): the visitor row points at the lead.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class EventType(StrEnum):
    PAGE = "page"
    TRACK = "track"


class LinkMethod(StrEnum):
    #: A signed link Upswing issued (an e-mail or letter to the borrower).
    LINK_TOKEN = "link_token"  # noqa: S105 (a method name, not a secret)
    LOGIN = "login"  # the portal's login, verified by the portal's server (user_hash)


class TrackingSite(Base):
    """One of the lender's own sites (the borrower portal, a payment page): its public key and allowed origins."""

    __tablename__ = "tracking_sites"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: Public: written into the page's script tag. Identifies the site, proves nothing.
    site_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: Key-ring ciphertext of the site's secret, which the portal's server uses to sign logins (``user_hash``).
    secret_encrypted: Mapped[str] = mapped_column(Text)
    #: Exact origins (scheme://host[:port]) whose pages may send events; CORS answers only these.
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Logins are matched to leads of this portfolio only (None: any portfolio).
    portfolio_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("portfolios.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingDailyCount(Base):
    """What is kept without consent: how many page views and actions a path group had on a day. Nothing else."""

    __tablename__ = "tracking_daily_counts"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracking_sites.id", ondelete="CASCADE"),
                                               primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    path_group: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class TrackingVisitor(Base):
    """A consenting browser on one site: a keyed hash of its first-party id; the lead once identified.

    One visitor row links to at most one lead. When a second lead identifies on the same browser, the row is
    closed (``superseded_at``) and a new one starts with the same hash: the earlier history stays with the first
    lead. Only the open row of a hash takes new events (a partial unique index keeps one open row per hash)."""

    __tablename__ = "tracking_visitors"
    __table_args__ = (
        Index("uq_tracking_visitors_open", "site_id", "visitor_hash", unique=True,
              postgresql_where=text("superseded_at IS NULL"), sqlite_where=text("superseded_at IS NULL")),
        Index("ix_tracking_visitors_lead", "lead_id", "last_seen_at"),
        Index("ix_tracking_visitors_last_seen", "last_seen_at"),
        CheckConstraint("link_method IS NULL OR link_method IN ('link_token', 'login')", name="link_method"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracking_sites.id", ondelete="CASCADE"))
    #: HMAC-SHA256 (the key ring's blind-index key) of the site and the browser's random id.
    visitor_hash: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    #: "granted" (explicit opt-in) or "implied" (the site's notice; refused in gdpr_strict).
    consent: Mapped[str] = mapped_column(String(10))
    link_method: Mapped[str | None] = mapped_column(String(20))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingEvent(Base):
    """A consented visitor's page view or named action (``track``), with allow-listed properties only."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        CheckConstraint("type IN ('page', 'track')", name="type"),
        Index("ix_tracking_events_visitor", "visitor_id", "occurred_at"),
        Index("ix_tracking_events_occurred_at", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    visitor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracking_visitors.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(10))
    #: The action's name (``track``) or the page's path group (``page``).
    name: Mapped[str] = mapped_column(String(64))
    #: The page's path without query string or fragment (they can carry tokens and personal data).
    path: Mapped[str | None] = mapped_column(String(300))
    path_group: Mapped[str] = mapped_column(String(40))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
