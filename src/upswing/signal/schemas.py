from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from upswing.core.pagination import COUNT_CAP, count_field, cursor_field, offset_field
from upswing.core.timeparse import LooseDatetime
from upswing.detection.events import SignalType
from upswing.signal.models import DismissReason, Priority, SignalAction, SignalOutcome, SignalStatus


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    observation_id: uuid.UUID
    kind: str = Field(description="profile (a profile diff) or text (a post, a news item)")
    url: str | None
    snippet: str | None
    source: str | None = Field(description="Slug of the source the observation came from")
    confidence: float = Field(description="Confidence in the event from this item alone")
    observed_at: datetime


class SignalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    lead_external_id: str
    lead_name: str
    type: SignalType
    title: str | None
    organization: str | None
    effective_date: date | None
    detected_at: datetime
    confidence: float = Field(description="Combined over the independent sources of the evidence")
    evidence_url: str | None
    evidence_snippet: str | None
    observation_ids: list[str]
    evidence: list[EvidenceRead] = Field(default_factory=list)
    score: int = Field(description="0–100: how urgently to act")
    priority: Priority
    score_breakdown: dict[str, float] = Field(description="Points per factor; they add up to the score")
    scored_at: datetime | None
    status: SignalStatus
    status_reason: str | None = Field(description="The note given with the latest transition")
    status_changed_at: datetime | None
    status_changed_by: uuid.UUID | None
    action: SignalAction | None
    actioned_at: datetime | None
    actioned_by: uuid.UUID | None
    outcome: SignalOutcome | None
    outcome_at: datetime | None
    outcome_by: uuid.UUID | None
    dismiss_reason: DismissReason | None
    first_action_at: datetime | None = Field(description="When anyone first acknowledged, actioned or dismissed it")
    escalation_level: int = Field(description="0: not escalated; 1, 2…: the highest escalation level reached while "
                                              "nobody acknowledged it (docs/escalation.md)")
    escalated_at: datetime | None = Field(description="When it was escalated to that level")
    holdout: bool = Field(default=False, description="On a lead in an experiment's control group: not alerted, "
                                                      "pushed or shown as work (only admins see it)")
    updated_at: datetime = Field(description="When anything about it last changed (status, score…): what "
                                             "updated_since and sort=updated_at go by, and its ETag derives from")


class SignalPage(BaseModel):
    items: list[SignalRead]
    total: int | None = Field(description=f"Matching signals, counted up to {COUNT_CAP:,} when asked (count=true), "
                                          "else null (next_cursor says whether there is more)")
    total_is_exact: bool | None = Field(description=f"false: there are more than {COUNT_CAP:,}; null: not counted")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="Pass as cursor= for the next page; null on the last page")


_NOTE = Field(default=None, min_length=1, max_length=2000, description="Free-text note, kept with the signal")


class ActionRequest(BaseModel):
    action: SignalAction = Field(description="call, sms, email and letter are contacts with the borrower: the "
                                             "contact guard decides, and the contact ledger records them; "
                                             "crm_task is not a contact")
    note: str | None = _NOTE
    target: str | None = Field(default=None, max_length=320, description="The number or address used (default: "
                                                                         "the lead's primary one)")
    autodialed: bool = Field(default=False, description="Autodialer or prerecorded voice (TCPA)")
    override_reason: str | None = Field(
        default=None, min_length=10, max_length=2000,
        description="Go ahead despite the guard's refusal under a documented exception (e.g. the borrower asked "
                    "to be called at this time); only roles and reasons the compliance settings allow; audited")


class OutcomeRequest(BaseModel):
    outcome: SignalOutcome
    note: str | None = _NOTE


class DismissRequest(BaseModel):
    reason: DismissReason = Field(description="wrong_person also teaches the linker a known non-match")
    note: str | None = _NOTE


class SignalFilters(BaseModel):
    type: SignalType | None = None
    status: SignalStatus | None = None
    priority: Priority | None = None
    lead_id: uuid.UUID | None = None
    lead_external_id: str | None = None
    assignee: str | None = Field(
        default=None, max_length=120,
        description="me: the caller's leads; none: leads nobody is assigned to (the unassigned queue); "
                    "or a user's id or username")
    escalated: bool | None = Field(default=None, description="true: only escalated signals (nobody acknowledged "
                                                             "them in time); false: only the others")
    portfolio: str | None = Field(default=None, max_length=200, description="The leads' portfolio (name or id)")
    team: str | None = Field(default=None, max_length=120, description=(
        "The owning team (name or id; none: leads of no team)"))
    source: str | None = Field(default=None, max_length=120, description=(
        "Signals with evidence from this source (its slug, e.g. apify-linkedin)"))
    q: str | None = Field(default=None, max_length=200, description=(
        "Signals of leads whose name or external id contains this text (the leads search's q)"))
    since: LooseDatetime | None = Field(default=None, description="detected_at on or after")
    until: LooseDatetime | None = Field(default=None, description="detected_at before")
    effective_from: date | None = Field(default=None, description="event date (effective_date) on or after")
    effective_to: date | None = Field(default=None, description="event date (effective_date) on or before")
    updated_since: LooseDatetime | None = Field(
        default=None, description="Only signals changed at or after this time (sync: with sort=updated_at)")
    sort: Literal["detected_at", "score", "updated_at"] = Field(
        default="detected_at", description="detected_at: newest first; score: highest first, then newest; "
                                           "updated_at: least recently changed first (sync: follow next_cursor "
                                           "to the end, then ask again with updated_since)")
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = offset_field()
    cursor: str | None = cursor_field()
    count: bool = count_field()


class EvidenceContract(BaseModel):
    url: str | None
    snippet: str | None
    source: str | None
    observed_at: str
    observation_id: str


class SignalContract(BaseModel):
    """One line of ``upswing signals list --format jsonl``: a stable contract for automated checks."""

    id: str
    lead_external_id: str
    lead_name: str
    type: str
    title: str | None
    organization: str | None
    effective_date: str | None
    detected_at: str
    confidence: float
    evidence_url: str | None
    evidence_snippet: str | None
    status: str
    score: int
    priority: str
    score_breakdown: dict[str, float]
    evidence: list[EvidenceContract]


class FeedbackRequest(BaseModel):
    correct: bool = Field(description="true: the signal's type is right; false: it is wrong")
    label: str | None = Field(default=None, max_length=40, description=(
        "With correct=false: the right type (a person event type, or a company intent such as intent_growth); "
        "none or absent: the text reports no event"))


class FeedbackResult(BaseModel):
    signal: SignalRead
    label: str = Field(description="The label stored with the examples")
    examples_stored: int = Field(description="Texts behind the signal stored as labelled examples")
    type_changed: bool
    dismissed: bool


#: The person event types (``detection.text.PERSON_EVENT_LABELS``): what a text's guess can be.
PersonEventLabel = Literal["new_employment", "promotion", "certification", "license_renewal", "award",
                           "business_launch", "education", "job_loss"]


class LowConfidenceRead(BaseModel):
    """A text whose top guess is an event below its type's confidence threshold: no signal until someone labels it."""

    model_config = ConfigDict(from_attributes=True)

    observation_id: uuid.UUID
    lead_id: uuid.UUID
    lead_name: str
    best_label: str = Field(description="The classifier's top guess (an event type)")
    confidence: float = Field(description="Its calibrated confidence, below the type's threshold")
    snippet: str = Field(description="The text's first words (at most 300 characters)")
    url: str | None
    observed_at: datetime


class LowConfidencePage(BaseModel):
    items: list[LowConfidenceRead]
    limit: int
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last one")


class TextLabelRequest(BaseModel):
    label: str = Field(max_length=40, description="What the text reports: a person event type, or none")


class TextLabelResult(BaseModel):
    observation_id: uuid.UUID
    label: str
    previous_label: str = Field(description="The classifier's guess")
    signals_created: int = Field(description="1 when the label is an event and it made a new signal")
