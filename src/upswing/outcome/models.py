"""What came of a lead: one row per payment, promise, arrangement, dispute, complaint or account closure."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from upswing.core.db import Base, UTCDateTime, new_uuid, utcnow


class OutcomeKind(StrEnum):
    PAYMENT = "payment"  # money received: amount and date
    PROMISE = "promise"  # a promise to pay: amount, due date, then kept or broken
    ARRANGEMENT = "arrangement"  # a repayment plan agreed (amount per instalment, start date)
    DISPUTE = "dispute"
    COMPLAINT = "complaint"
    CLOSURE = "closure"  # the account closed (paid off, settled, charged off, sold)


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class OutcomeSource(StrEnum):
    IMPORT = "import"  # the lender's outcomes file (``upswing outcomes import``)
    API = "api"  # a CRM or script through the API
    SIGNAL = "signal"  # a specialist recorded it on a signal (payment, promise to pay, dispute)


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Outcome(Base):
    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint(_in("kind", OutcomeKind), name="kind"),
        CheckConstraint(f"promise_status IS NULL OR {_in('promise_status', PromiseStatus)}", name="promise_status"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
        # One outcome per id of the system it came from: re-importing a file, or retrying an API call, changes it
        # in place instead of adding another.
        Index("uq_outcomes_external_id", "external_id", unique=True, postgresql_where=text("external_id IS NOT NULL"),
              sqlite_where=text("external_id IS NOT NULL")),
        Index("ix_outcomes_lead", "lead_id", "occurred_on"),
        Index("ix_outcomes_kind_occurred_on", "kind", "occurred_on"),
        # Sync clients: what changed since (sort=updated_at, updated_since).
        Index("ix_outcomes_updated_at", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    #: The payment's date; the day a promise, arrangement, dispute or complaint was made; the closure's date.
    occurred_on: Mapped[date] = mapped_column(Date)
    #: A promise's due date (or an arrangement's first instalment).
    due_on: Mapped[date | None] = mapped_column(Date)
    promise_status: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    external_id: Mapped[str | None] = mapped_column(String(160))
    signal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
