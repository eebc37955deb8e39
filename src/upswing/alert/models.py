"""Rules, alerts, deliveries, webhook subscriptions and the round-robin pointer (docs/alerts.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.crypto import EncryptedJSON, EncryptedText
from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class AlertChannel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    WEBHOOK = "webhook"


class RuleType(StrEnum):
    """The second spec's rule types. ``escalation`` goes to the team's manager; the others to the lead's owner."""

    NEW_SIGNAL = "new_signal"
    HIGH_SCORE = "high_score"
    ESCALATION = "escalation"
    JOB_LOSS = "job_loss"
    CUSTOM = "custom"


class AlertStatus(StrEnum):
    UNREAD = "unread"
    READ = "read"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at ``run_after`` (later than created when quiet hours or a retry wait)
    SENT = "sent"
    FAILED = "failed"  # permanent: the reason is in ``last_error``
    DIGEST = "digest"  # over the hourly cap: the user's digest carries it


class AlertRule(Base):
    """What should reach whom: conditions over a signal and its lead, channels, priority and recipients."""

    __tablename__ = "alert_rules"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(200))
    rule_type: Mapped[str] = mapped_column(String(20), default=RuleType.CUSTOM.value)
    #: ``alert.conditions.RuleConditions`` as JSON (validated on every write).
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The alerts' priority; None: the signal's own.
    priority: Mapped[str | None] = mapped_column(String(10))
    #: ``alert.conditions.Recipients`` as JSON: the lead's owner, the team's manager, or named users/teams.
    recipients: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: A manager's rule applies to their team's leads only; None: every lead (admins' rules).
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Alert(Base):
    """One notification to one user about one lead; later signals on the lead within the dedup window fold in."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_user_created", "user_id", "created_at"),
        Index("ix_alerts_user_lead_window", "user_id", "lead_id", "window_ends_at"),
        Index("ix_alerts_signal_id", "signal_id"),
        Index("ix_alerts_lead_id", "lead_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: None for a system alert (a webhook subscription disabled).
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    #: The latest signal folded in (``alert_signals`` lists them all).
    signal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="signal")  # signal | restricted | escalation | system
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=AlertStatus.UNREAD.value)
    title: Mapped[str] = mapped_column(String(300))
    #: False when the lead may not be contacted about it at all (cease, bankruptcy, deceased, attorney, dispute).
    actionable: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The contact guard's answer per channel when the alert was made (``GuardAnswer`` as JSON).
    guard: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: How the recipient was chosen: assignee, round_robin, manager, named, escalation.
    routed_by: Mapped[str] = mapped_column(String(20))
    signal_count: Mapped[int] = mapped_column(Integer, default=1)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertSignal(Base):
    """A signal a user was alerted about: at most once per (user, signal), ever."""

    __tablename__ = "alert_signals"
    __table_args__ = (UniqueConstraint("user_id", "signal_id"), Index("ix_alert_signals_alert_id", "alert_id"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    signal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookSubscription(Base):
    """A receiver of signed alert events (a CRM, a team's automation)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    #: Who subscribed: a manager or admin, or a machine client (a CRM with the ``webhooks:manage`` scope).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(String(300))
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The signing secret (``whsec_…``), encrypted at rest.
    secret: Mapped[str] = mapped_column(EncryptedText("webhook_subscriptions.secret"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: When the current run of failures began (None while deliveries succeed).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertDelivery(Base):
    """One alert on one channel to one recipient (a user, or a webhook subscription): written with the alert,
    sent by the ``alerts.send`` task, its provider id recorded. The id is the e-mail's Message-ID and the
    webhook's ``webhook-id``, so a repeat after a crash carries the same one."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index("ix_alert_deliveries_due", "status", "run_after"),
        Index("ix_alert_deliveries_alert_id", "alert_id"),
        Index("ix_alert_deliveries_user_channel_created", "user_id", "channel", "created_at"),
        Index("ix_alert_deliveries_subscription_created", "subscription_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    #: Webhooks: the event body, fixed when the delivery is written (a retry or replay sends the same).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    event_type: Mapped[str | None] = mapped_column(String(60))
    #: A message rendered in advance (a digest: ``{"subject", "html", "text", "headers", "tags"}``), sent as it
    #: is, so a repeat after a crash is the same message; encrypted (it names leads).
    content: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("alert_deliveries.content"))
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING.value)
    #: Why it was held or diverted: quiet_hours, hourly_cap.
    note: Mapped[str | None] = mapped_column(String(60))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(300))
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    replay_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertSendCount(Base):
    """How many rule alerts went to a user on a channel within one step of ``CAP_STEP`` (5 minutes): the hourly
    cap adds up at most 13 of these per user and channel, where counting the hour's deliveries read up to the
    cap's worth of rows per recipient under the stream lock (thousands per batch at a million leads)."""

    __tablename__ = "alert_send_counts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    step_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)


class AlertSuppression(Base):
    """An alert or a channel that was not sent, and why (dedup_window, out_of_office, lead_restricted,
    no_recipient, no_email_address, hourly_cap, quiet_hours)."""

    __tablename__ = "alert_suppressions"
    __table_args__ = (Index("ix_alert_suppressions_user_created", "user_id", "created_at"),
                      Index("ix_alert_suppressions_signal_id", "signal_id"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    signal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamRotation(Base):
    """The round-robin pointer of a team: incremented atomically, so concurrent workers take turns fairly."""

    __tablename__ = "team_rotations"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
