"""signal domain."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from upswing.account.deps import AnyUser, Worker
from upswing.casework import service as casework
from upswing.core.conditional import etag_of
from upswing.core.deps import DbSession
from upswing.signal import feedback, low_confidence, service
from upswing.signal.schemas import (
    ActionRequest,
    DismissRequest,
    FeedbackRequest,
    FeedbackResult,
    LowConfidencePage,
    LowConfidenceRead,
    OutcomeRequest,
    PersonEventLabel,
    SignalFilters,
    SignalPage,
    SignalRead,
    TextLabelRequest,
    TextLabelResult,
)

router = APIRouter(prefix="/api/v1/signals", tags=["signals"])

#: ``If-Match`` on the calls that change a signal: the ETag of the version the change was decided on.
IfMatch = Annotated[str | None, Header(max_length=500, description=(
    "The signal's ETag as read (GET): the change is refused with 412 if the signal changed since"))]
_PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names an older version of the signal: read it again"}}


def _versioned(response: Response, read: SignalRead) -> SignalRead:
    response.headers["ETag"] = etag_of(read.id, read.updated_at)
    return read


@router.get("", response_model=SignalPage, operation_id="signals_list")
def list_signals(user: AnyUser, session: DbSession,
                 filters: Annotated[SignalFilters, Query()]) -> SignalPage:
    result = service.page_signals(session, filters, user=user)
    return SignalPage(items=result.items, total=result.total, total_is_exact=result.total_is_exact,
                      limit=filters.limit, offset=filters.offset, next_cursor=result.next_cursor)


# Declared before /{signal_id}: "low-confidence" is not a signal id.
@router.get("/low-confidence", response_model=LowConfidencePage, operation_id="signals_low_confidence")
def list_low_confidence(
    user: AnyUser, session: DbSession,
    label: Annotated[PersonEventLabel | None, Query(description="Only guesses of this event type")] = None,
    lead_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> LowConfidencePage:
    """Texts that look like an event but not surely enough to be a signal, newest first; label them to train."""
    page = low_confidence.list_low_confidence(session, user, label=label, lead_id=lead_id,
                                              limit=limit, cursor=cursor)
    return LowConfidencePage(items=[LowConfidenceRead.model_validate(item) for item in page.items], limit=limit,
                             next_cursor=page.next_cursor)


@router.post("/low-confidence/{observation_id}/label", response_model=TextLabelResult,
             operation_id="signals_label_text")
def label_text(observation_id: uuid.UUID, body: TextLabelRequest, user: Worker, session: DbSession) -> TextLabelResult:
    """Say what a low-confidence text reports: it leaves the list, trains the model, and an event makes its signal."""
    outcome = low_confidence.label_text(session, observation_id, body.label, user=user)
    session.commit()
    return TextLabelResult(observation_id=outcome.observation_id, label=outcome.label,
                           previous_label=outcome.previous_label, signals_created=outcome.signals_created)


@router.get("/{signal_id}", response_model=SignalRead, operation_id="signals_get")
def get_signal(signal_id: uuid.UUID, user: AnyUser, session: DbSession, response: Response) -> SignalRead:
    """The signal, with its version in ``ETag`` (send it back as ``If-Match`` with a change)."""
    return _versioned(response, service.get_signal(session, signal_id, user=user))


@router.post("/{signal_id}/acknowledge", response_model=SignalRead, operation_id="signals_acknowledge",
             responses=_PRECONDITION)
def acknowledge(signal_id: uuid.UUID, user: Worker, session: DbSession, response: Response,
                if_match: IfMatch = None) -> SignalRead:
    service.require_version(session, signal_id, if_match, user=user)
    result = service.acknowledge(session, signal_id, user=user)
    session.commit()
    return _versioned(response, result)


@router.post("/{signal_id}/action", response_model=SignalRead, operation_id="signals_action",
             responses={409: {"description": "The contact guard refuses this contact now (reasons and "
                                             "next_allowed_at in the body), or the signal's state forbids it"},
                        **_PRECONDITION})
def record_action(signal_id: uuid.UUID, body: ActionRequest, user: Worker, session: DbSession, response: Response,
                  if_match: IfMatch = None) -> SignalRead:
    """Record an action; a contact (call, sms, email, letter) is checked by the contact guard and logged in the
    contact ledger in the same transaction."""
    service.require_version(session, signal_id, if_match, user=user)
    result = casework.record_action(session, signal_id, body.action, user=user, note=body.note, target=body.target,
                                    autodialed=body.autodialed, override_reason=body.override_reason)
    session.commit()
    return _versioned(response, result)


@router.post("/{signal_id}/outcome", response_model=SignalRead, operation_id="signals_outcome",
             responses=_PRECONDITION)
def record_outcome(signal_id: uuid.UUID, body: OutcomeRequest, user: Worker, session: DbSession, response: Response,
                   if_match: IfMatch = None) -> SignalRead:
    """Record what came of the action: dispute sets the lead's dispute flag; an outcome after a call that means
    the borrower was spoken to counts as a conversation for the seven-day rule."""
    service.require_version(session, signal_id, if_match, user=user)
    result = casework.record_outcome(session, signal_id, body.outcome, user=user, note=body.note)
    session.commit()
    return _versioned(response, result)


@router.post("/{signal_id}/dismiss", response_model=SignalRead, operation_id="signals_dismiss",
             responses=_PRECONDITION)
def dismiss(signal_id: uuid.UUID, body: DismissRequest, user: Worker, session: DbSession, response: Response,
            if_match: IfMatch = None) -> SignalRead:
    service.require_version(session, signal_id, if_match, user=user)
    result = service.dismiss(session, signal_id, body.reason, user=user, note=body.note)
    session.commit()
    return _versioned(response, result)


@router.post("/{signal_id}/feedback", response_model=FeedbackResult, operation_id="signals_feedback")
def give_feedback(signal_id: uuid.UUID, body: FeedbackRequest, user: Worker, session: DbSession) -> FeedbackResult:
    """Confirm or correct the signal's type; the texts behind it become labelled examples for retraining."""
    outcome = feedback.record_feedback(session, signal_id, correct=body.correct, label=body.label, user=user)
    session.commit()
    return FeedbackResult(signal=outcome.signal, label=outcome.label, examples_stored=outcome.examples_stored,
                          type_changed=outcome.type_changed, dismissed=outcome.dismissed)
