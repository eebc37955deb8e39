from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class SignalStatus(StrEnum):
    """``new → acknowledged → actioned → resolved`` (an outcome is recorded), or ``dismissed``."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class SignalAction(StrEnum):
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    CRM_TASK = "crm_task"


class SignalOutcome(StrEnum):
    PROMISE_TO_PAY = "promise_to_pay"
    PAYMENT = "payment"
    NO_RESPONSE = "no_response"
    DISPUTE = "dispute"
    WRONG_PERSON = "wrong_person"
    #: Spoke with the borrower, nothing promised yet.
    CONVERSATION = "conversation"


class DismissReason(StrEnum):
    WRONG_PERSON = "wrong_person"
    NOT_RELEVANT = "not_relevant"
    DUPLICATE = "duplicate"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class EvidenceKind(StrEnum):
    PROFILE = "profile"
    TEXT = "text"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Signal(Base):
    """One real-world event about a lead, with the evidence that supports it."""

    __tablename__ = "signals"
    __table_args__ = (
        CheckConstraint(_in("priority", Priority), name="priority"),
        CheckConstraint(f"action IS NULL OR {_in('action', SignalAction)}", name="action"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', SignalOutcome)}", name="outcome"),
        CheckConstraint(f"dismiss_reason IS NULL OR {_in('dismiss_reason', DismissReason)}",
                        name="dismiss_reason"),
        # Sync clients' order: what changed since (sort=updated_at, updated_since; migration 0023).
        Index("ix_signals_updated_at", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    #: Copies of the lead's, kept equal by database triggers (migration 0016): who may see the signal, answered
    #: from the signals' own indexes.
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(300))
    organization: Mapped[str | None] = mapped_column(String(300))
    effective_date: Mapped[date | None] = mapped_column(Date)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Combined over the independent sources of the evidence (noisy-OR), capped below 1.
    confidence: Mapped[float] = mapped_column(Float)
    #: The first evidence item's URL and snippet (the full list is in ``evidence``).
    evidence_url: Mapped[str | None] = mapped_column(String(1000))
    evidence_snippet: Mapped[str | None] = mapped_column(Text)
    #: Ids of every observation in the evidence, in the order they were attached.
    observation_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    score: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    priority: Mapped[str] = mapped_column(String(10), default=Priority.LOW.value,
                                          server_default=text("'low'"))
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict,
                                                            server_default=text("'{}'"))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=SignalStatus.NEW.value)
    #: The free-text note of the latest transition (dismissal, action or outcome).
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    action: Mapped[str | None] = mapped_column(String(20))
    actioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actioned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dismiss_reason: Mapped[str | None] = mapped_column(String(20))
    #: The first time anyone acknowledged, actioned or dismissed it (response times, the manager's digest).
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Escalations (docs/digest.md): the highest level reached while nobody acknowledged it, and when.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Detected on a lead in an experiment's control group: stored and scored, but never alerted, digested,
    #: escalated, pushed to a CRM or shown as work (admins see it, labelled).
    holdout: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The feed's sorts and filters, and who sees what (migration 0016; benchmarks/api_scale.py measures them).
_FEED = (Signal.detected_at.desc(), Signal.id.desc())
_BY_SCORE = (Signal.score.desc(), *_FEED)
Index("ix_signals_feed", *_FEED)
Index("ix_signals_feed_score", *_BY_SCORE)
Index("ix_signals_feed_type_priority", Signal.type, Signal.priority, *_FEED)
Index("ix_signals_feed_priority", Signal.priority, *_FEED)
Index("ix_signals_feed_status", Signal.status, *_FEED)
Index("ix_signals_feed_assignee", Signal.assignee_id, *_FEED)
Index("ix_signals_feed_team", Signal.team_id, *_FEED)
Index("ix_signals_feed_assignee_score", Signal.assignee_id, *_BY_SCORE)
Index("ix_signals_feed_team_score", Signal.team_id, *_BY_SCORE)
Index("ix_signals_lead", Signal.lead_id, Signal.detected_at.desc())
Index("ix_signals_effective_date", Signal.effective_date.desc(), Signal.id.desc())
# Escalation candidates: unacknowledged signals of a priority below their last level, oldest first.
Index("ix_signals_escalation", Signal.status, Signal.priority, Signal.escalation_level, Signal.detected_at)


class Evidence(Base):
    """One observation that supports a signal (a profile diff, a post, a news item)."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("signal_id", "observation_id"),
        Index("ix_evidence_observation_id", "observation_id"),
        # The feed's source filter (signals with evidence from a source).
        Index("ix_evidence_source_signal", "source", "signal_id"),
        CheckConstraint(_in("kind", EvidenceKind), name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    signal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    observation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(1000))
    snippet: Mapped[str | None] = mapped_column(Text)
    #: Slug of the source the observation came from.
    source: Mapped[str | None] = mapped_column(String(120))
    #: The confidence of the event as this observation alone supports it.
    confidence: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExampleKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


class LabelledExample(Base):
    """A text with the label a person confirmed or corrected (signal feedback): training data for the
    text classifiers (``upswing model train --include-feedback``). The text is a copy of the observation's,
    so the example survives the signal's deletion; it is personal data like the observation it came from."""

    __tablename__ = "labelled_examples"
    __table_args__ = (
        Index("ix_labelled_examples_kind_created_at", "kind", "created_at"),
        Index("ix_labelled_examples_signal_id", "signal_id"),
        Index("ix_labelled_examples_observation_id", "observation_id"),
        CheckConstraint(_in("kind", ExampleKind), name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    text: Mapped[str] = mapped_column(Text)
    #: The classifier's label space: a person signal type or ``none``; a company intent (``growth``) or ``none``.
    label: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    #: True when the person confirmed the detected type, False when they corrected it.
    correct: Mapped[bool] = mapped_column(Boolean)
    #: The label the signal had when the feedback was given.
    previous_label: Mapped[str] = mapped_column(String(40))
    signal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    observation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
