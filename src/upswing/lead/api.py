from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile

from upswing.account.deps import AnyUser, ManagerOrAdmin, Worker
from upswing.audit.service import record
from upswing.casework.timeline import LeadTimeline, timeline
from upswing.core.deps import AppSettings, DbSession
from upswing.lead import service
from upswing.lead.schemas import ImportReport, LeadFilters, LeadPage, LeadRead, LeadUpdate

router = APIRouter(prefix="/api/v1/leads", tags=["leads"])


@router.get("", response_model=LeadPage, operation_id="leads_list")
def list_leads(user: AnyUser, session: DbSession, filters: Annotated[LeadFilters, Query()]) -> LeadPage:
    items, total = service.search_leads(session, filters, user=user)
    return LeadPage(items=items, total=total, limit=filters.limit, offset=filters.offset)


@router.get("/{lead_id}", response_model=LeadRead, operation_id="leads_get")
def get_lead(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> LeadRead:
    lead = service.read_lead(session, lead_id, user=user)
    # Who looked at whose record is audited (privacy issue: lead views).
    record(session, actor=f"user:{user.username}", action="lead.view", entity_type="lead", entity_id=lead_id)
    session.commit()
    return lead


@router.get("/{lead_id}/timeline", response_model=LeadTimeline, operation_id="leads_timeline")
def lead_timeline(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> LeadTimeline:
    """Snapshots, signals, evidence, actions and outcomes, oldest first."""
    result = timeline(session, lead_id, user=user)
    record(session, actor=f"user:{user.username}", action="lead.view", entity_type="lead", entity_id=lead_id,
           details={"view": "timeline"})  # audited like the lead itself (privacy issue: lead views)
    session.commit()
    return result


@router.patch("/{lead_id}", response_model=LeadRead, operation_id="leads_update")
def update_lead(lead_id: uuid.UUID, body: LeadUpdate, user: Worker, session: DbSession) -> LeadRead:
    result = service.update_lead(session, lead_id, body, user=user)
    session.commit()
    return result


@router.post("/import", response_model=ImportReport, operation_id="leads_import")
def import_leads(user: ManagerOrAdmin, session: DbSession, settings: AppSettings,
                 file: Annotated[UploadFile, File(description="CSV, JSON, JSONL or XLSX (first sheet) lead file")],
                 portfolio: Annotated[str, Form()] = "default",
                 dry_run: Annotated[bool, Form()] = False,
                 skip_invalid: Annotated[bool, Form()] = False,
                 encoding: Annotated[str | None, Form(description="Text encoding of a CSV/JSON file (utf-8, "
                                                                  "cp1252, latin-1…); default: detected")] = None,
                 ) -> ImportReport:
    content = file.file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        raise HTTPException(413, f"file larger than {settings.import_max_bytes} bytes")
    report = service.import_leads(session, content, filename=file.filename or "upload.csv",
                                  encoding=encoding or None, portfolio_name=portfolio, dry_run=dry_run,
                                  skip_invalid=skip_invalid, actor=f"user:{user.username}")
    session.commit()
    return report
