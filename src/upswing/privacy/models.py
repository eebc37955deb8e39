from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class RequestType(StrEnum):
    ACCESS = "access"  # access and export (GDPR Art. 15 and 20, CCPA right to know)
    ERASURE = "erasure"
    CORRECTION = "correction"
    OPT_OUT = "opt_out"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


CLOSED_STATUSES = (RequestStatus.COMPLETED.value, RequestStatus.REJECTED.value)


class TombstoneKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    LINKEDIN = "linkedin"
    NAME_BIRTH_DATE = "name_birth_date"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class DataSubjectRequest(Base):
    """A data-subject request in the queue, with its deadlines.

    Holds no PII in clear: the subject's identifiers (what the requester gave, to find and answer them) are one
    key-ring ciphertext, wiped when an erasure completes; the leads concerned are referenced by id only (a JSON
    list, not a foreign key, so that erasing them leaves the request as the record that it was answered).
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_status_due", "status", "due_at"),
        CheckConstraint(_in("type", RequestType), name="type"),
        CheckConstraint(_in("status", RequestStatus), name="status"),
        CheckConstraint("regime IN ('gdpr', 'ccpa')", name="regime"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    type: Mapped[str] = mapped_column(String(20))
    regime: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.RECEIVED.value)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: CCPA: 10 business days after receipt; GDPR has no separate acknowledgement deadline (None).
    acknowledge_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: CCPA: 45 days; GDPR: one month. Moved once by an extension (CCPA +45 days, GDPR +2 months).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    extended: Mapped[bool] = mapped_column(default=False)
    subject_lead_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Key-ring ciphertext of the identifiers given ({"email", "phone", "linkedin_public_id", "name", ...}).
    subject_encrypted: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why a request was rejected (free text written by staff: no personal data, see docs/privacy.md).
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    #: What was done, in counts per table (erasure, opt-out) or fields (correction): never values.
    outcome: Mapped[dict[str, object]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ErasureTombstone(Base):
    """A keyed hash (blind index) of an erased person's identifier: never collected again, never readable."""

    __tablename__ = "privacy_tombstones"
    __table_args__ = (UniqueConstraint("kind", "value_index"),
                      CheckConstraint(_in("kind", TombstoneKind), name="kind"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(20))
    value_index: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("privacy_requests.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
