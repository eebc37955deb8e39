"""outcome domain: record, list and import outcomes; a lead's outcomes and what they add up to."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile, status
from fastapi.responses import JSONResponse

from upswing.account.deps import AnyUser, ManagerOrAdmin, Worker
from upswing.core.api_errors import error_body
from upswing.core.conditional import etag_of
from upswing.core.deps import AppSettings, DbSession
from upswing.lead.api import UploadRoute, check_upload_size
from upswing.outcome import service
from upswing.outcome.schemas import (
    LeadOutcomes,
    OutcomeCreate,
    OutcomeFilters,
    OutcomeImportReport,
    OutcomePage,
    OutcomeRead,
    OutcomeUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["outcomes"], route_class=UploadRoute)


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.get("/outcomes", response_model=OutcomePage, operation_id="outcomes_list")
def list_outcomes(user: AnyUser, session: DbSession, filters: Annotated[OutcomeFilters, Query()]) -> OutcomePage:
    """Outcomes of the leads the user may see; ``sort=updated_at`` with ``updated_since`` for sync clients."""
    page = service.page_outcomes(session, filters, user=user)
    return OutcomePage(items=page.items, limit=filters.limit, next_cursor=page.next_cursor)


@router.post("/outcomes", response_model=OutcomeRead, status_code=status.HTTP_201_CREATED,
             operation_id="outcomes_create",
             responses={200: {"model": OutcomeRead, "description": "An outcome with this external_id existed: "
                                                                   "changed to what was sent (or already so)"}})
def create_outcome(body: OutcomeCreate, user: Worker, session: DbSession, response: Response) -> OutcomeRead:
    """Record a payment, promise, arrangement, dispute, complaint or closure; with ``external_id`` a repeat
    changes the same outcome (200) instead of adding one."""
    outcome, created = service.record_outcome(session, body, actor=_actor(user), user=user)
    session.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["ETag"] = etag_of(outcome.id, outcome.updated_at)
    return service.read(session, [outcome])[0]


@router.post("/outcomes/import", response_model=OutcomeImportReport, operation_id="outcomes_import",
             responses={413: {"description": "The file is larger than UPSWING_IMPORT_MAX_BYTES"},
                        422: {"description": "Invalid rows (nothing was imported): each error names its row and "
                                             "field"}})
def import_outcomes(user: ManagerOrAdmin, session: DbSession, settings: AppSettings,
                    file: Annotated[UploadFile, File(description="CSV, XLSX or JSON outcomes file")],
                    portfolio: Annotated[str | None, Form(max_length=200)] = None,
                    dry_run: Annotated[bool, Form()] = False) -> OutcomeImportReport | JSONResponse:
    check_upload_size(file, settings)
    try:
        report = service.import_outcomes(session, file.file, actor=_actor(user), filename=file.filename,
                                         portfolio=portfolio or None, dry_run=dry_run)
    except service.OutcomeImportFailed as exc:
        return JSONResponse(status_code=422, content=error_body(str(exc), exc.errors))
    session.commit()
    return report


@router.get("/outcomes/{outcome_id}", response_model=OutcomeRead, operation_id="outcomes_get")
def get_outcome(outcome_id: uuid.UUID, user: AnyUser, session: DbSession, response: Response) -> OutcomeRead:
    outcome = service.get_outcome(session, outcome_id, user)
    response.headers["ETag"] = etag_of(outcome.id, outcome.updated_at)
    return service.read(session, [outcome])[0]


@router.patch("/outcomes/{outcome_id}", response_model=OutcomeRead, operation_id="outcomes_update",
              responses={412: {"description": "If-Match names an older version of the outcome: read it again"}})
def update_outcome(outcome_id: uuid.UUID, body: OutcomeUpdate, user: Worker, session: DbSession, response: Response,
                   if_match: Annotated[str | None, Header(max_length=500)] = None) -> OutcomeRead:
    """Settle a promise (kept/broken), correct an amount or due date, add a note."""
    outcome = service.update_outcome(session, outcome_id, body, actor=_actor(user), user=user, if_match=if_match)
    session.commit()
    response.headers["ETag"] = etag_of(outcome.id, outcome.updated_at)
    return service.read(session, [outcome])[0]


@router.get("/leads/{lead_id}/outcomes", response_model=LeadOutcomes, operation_id="leads_outcomes")
def lead_outcomes(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> LeadOutcomes:
    """The lead's outcomes, newest first, and what they add up to (dollars recovered, days to first payment)."""
    summary = service.lead_summary(session, lead_id, user=user)
    page = service.page_outcomes(session, OutcomeFilters(lead_id=lead_id, limit=200), user=user)
    return LeadOutcomes(summary=summary, items=page.items)
