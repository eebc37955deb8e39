from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upswing.core.timeparse import LooseDatetime
from upswing.privacy.models import DataSubjectRequest, RequestStatus, RequestType
from upswing.privacy.policy import Regime
from upswing.privacy.service import Subject, is_overdue


class SubjectIn(BaseModel):
    """Whatever the requester gave to be found (at least one identifier)."""

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    linkedin: str | None = Field(default=None, max_length=500, description="Profile URL or public id")
    first_name: str | None = Field(default=None, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    birth_date: date | None = None
    external_id: str | None = Field(default=None, max_length=120)
    lead_ids: list[uuid.UUID] = Field(default_factory=list)

    def to_subject(self) -> Subject:
        return Subject(email=self.email, phone=self.phone, linkedin=self.linkedin, first_name=self.first_name,
                       last_name=self.last_name, birth_date=self.birth_date, external_id=self.external_id,
                       lead_ids=list(self.lead_ids))


class RequestCreate(BaseModel):
    type: RequestType
    regime: Regime | None = Field(default=None, description="Default: gdpr in gdpr_strict mode, else ccpa")
    received_at: LooseDatetime | None = Field(default=None, description="When the request arrived (default: now; "
                                                                        "without a zone: UTC)")
    subject: SubjectIn


class RequestRead(BaseModel):
    """A request in the queue. It carries no personal data: the person is referenced by lead ids."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: RequestType
    regime: Regime
    status: RequestStatus
    received_at: datetime
    acknowledge_by: datetime | None
    due_at: datetime
    extended: bool
    overdue: bool
    lead_ids: list[str]
    acknowledged_at: datetime | None
    completed_at: datetime | None
    rejection_reason: str | None
    outcome: dict[str, Any]
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, request: DataSubjectRequest, now: datetime) -> RequestRead:
        return cls(id=request.id, type=RequestType(request.type), regime=Regime(request.regime),
                   status=RequestStatus(request.status), received_at=request.received_at,
                   acknowledge_by=request.acknowledge_by, due_at=request.due_at, extended=request.extended,
                   overdue=is_overdue(request, now), lead_ids=list(request.subject_lead_ids),
                   acknowledged_at=request.acknowledged_at, completed_at=request.completed_at,
                   rejection_reason=request.rejection_reason, outcome=dict(request.outcome),
                   created_by=request.created_by, created_at=request.created_at)


class RequestPage(BaseModel):
    items: list[RequestRead]
    total: int
    limit: int
    offset: int


class RejectBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why (no personal data)")


class CorrectionBody(BaseModel):
    changes: dict[str, str | None] = Field(description="Field → corrected value, e.g. {\"last_name\": \"Smith\"}")


class PurgeBody(BaseModel):
    dry_run: bool = True


class PurgeItemRead(BaseModel):
    table: str
    what: str
    cutoff: datetime
    count: int


class PurgeReportRead(BaseModel):
    mode: str
    dry_run: bool
    now: datetime
    items: list[PurgeItemRead]
