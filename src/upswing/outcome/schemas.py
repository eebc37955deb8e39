from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from upswing.core.pagination import cursor_field
from upswing.core.timeparse import LooseDatetime
from upswing.outcome.models import OutcomeKind, PromiseStatus

Amount = Decimal


class OutcomeFields(BaseModel):
    """What an outcome says, checked the same way from the API and from a file."""

    model_config = ConfigDict(extra="forbid")

    kind: OutcomeKind
    amount: Amount | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2,
                                  description="Dollars: required for a payment (more than 0); a promise's amount")
    occurred_on: date = Field(description="The payment's date, or the day the promise/arrangement/dispute/"
                                          "complaint was made, or the closure's date")
    due_on: date | None = Field(default=None, description="A promise's due date (required for a promise); an "
                                                          "arrangement's first instalment")
    promise_status: PromiseStatus | None = Field(default=None, description="Promises only (default pending; "
                                                                           "settled daily against payments)")
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeFields:
        if self.kind is OutcomeKind.PAYMENT and (self.amount is None or self.amount <= 0):
            raise ValueError("amount: a payment needs an amount above 0")
        if self.kind is OutcomeKind.PROMISE and self.due_on is None:
            raise ValueError("due_on: a promise needs a due date")
        if self.due_on is not None and self.due_on < self.occurred_on:
            raise ValueError("due_on: before occurred_on")
        if self.promise_status is not None and self.kind is not OutcomeKind.PROMISE:
            raise ValueError("promise_status: only a promise has one")
        return self


class OutcomeCreate(OutcomeFields):
    """An outcome from a CRM or script: the lead by id, or by external id (and portfolio)."""

    lead_id: uuid.UUID | None = None
    lead_external_id: str | None = Field(default=None, max_length=120)
    portfolio: str | None = Field(default=None, max_length=200,
                                  description="With lead_external_id when several portfolios have that id")
    external_id: str | None = Field(default=None, min_length=1, max_length=160, description=(
        "The outcome's id in the sending system: sending it again updates the same outcome"))

    @model_validator(mode="after")
    def _one_lead(self) -> OutcomeCreate:
        if (self.lead_id is None) == (self.lead_external_id is None):
            raise ValueError("lead_id: give lead_id or lead_external_id (one of them)")
        return self


class OutcomeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promise_status: PromiseStatus | None = None
    amount: Amount | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    due_on: date | None = None
    note: str | None = Field(default=None, max_length=2000)


class OutcomeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    lead_external_id: str
    kind: OutcomeKind
    amount: Decimal | None
    occurred_on: date
    due_on: date | None
    promise_status: PromiseStatus | None
    source: str = Field(description="import, api or signal (recorded on a signal by a specialist)")
    external_id: str | None
    signal_id: uuid.UUID | None
    note: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class OutcomeFilters(BaseModel):
    lead_id: uuid.UUID | None = None
    kind: OutcomeKind | None = None
    occurred_from: date | None = Field(default=None, description="occurred_on on or after")
    occurred_to: date | None = Field(default=None, description="occurred_on on or before")
    updated_since: LooseDatetime | None = Field(
        default=None, description="Only outcomes changed at or after this time (sync: with sort=updated_at)")
    sort: Literal["-occurred_on", "updated_at"] = Field(
        default="-occurred_on", description="-occurred_on: newest first; updated_at: least recently changed first "
                                            "(sync: follow next_cursor to the end, then ask with updated_since)")
    limit: int = Field(default=50, ge=1, le=1000)
    cursor: str | None = cursor_field()


class OutcomePage(BaseModel):
    items: list[OutcomeRead]
    limit: int
    next_cursor: str | None


class LeadOutcomeSummary(BaseModel):
    lead_id: uuid.UUID
    recovered: Decimal = Field(description="Dollars paid (payments with an amount)")
    payments: int
    first_payment_on: date | None
    days_to_first_payment: int | None = Field(description="From the lead's placement (created_at) to its first "
                                                          "payment")
    days_from_first_signal: int | None = Field(description="From the lead's first signal to its first payment "
                                                           "(null without either)")
    promises_pending: int
    promises_kept: int
    promises_broken: int
    open_disputes: int = Field(description="Disputes recorded (the lead's dispute flag is the compliance one)")


class LeadOutcomes(BaseModel):
    summary: LeadOutcomeSummary
    items: list[OutcomeRead]


class OutcomeImportError(BaseModel):
    row: int | None
    field: str | None
    message: str


class OutcomeImportReport(BaseModel):
    file: str | None
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[OutcomeImportError] = Field(default_factory=list)
