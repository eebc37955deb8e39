from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from starlette.types import Message, Receive

from upswing.account.deps import AnyUser, ManagerOrAdmin, Worker
from upswing.audit import service as audit
from upswing.audit.schemas import AuditEntryRead, AuditPage
from upswing.audit.service import record
from upswing.casework.timeline import LeadTimeline, timeline
from upswing.core.api_errors import error_body
from upswing.core.conditional import etag_of
from upswing.core.db import read_only, utcnow
from upswing.core.deps import AUDITED_READ, AppSettings, DbSession
from upswing.core.pagination import OffsetQuery
from upswing.lead import export, service
from upswing.lead.access import visible_lead
from upswing.lead.schemas import (
    AssigneeRead,
    ImportReport,
    LeadAssign,
    LeadAssignResult,
    LeadFilters,
    LeadPage,
    LeadQuery,
    LeadRead,
    LeadUpdate,
    LeadUpsert,
    LeadUpsertResult,
    PortfolioRead,
)
from upswing.settings import Settings

#: Room for a form's other fields and its multipart framing on top of an upload's own limit.
_FORM_ROOM = 64 * 1024


class UploadRoute(APIRoute):
    """A route whose request body may be at most ``UPSWING_IMPORT_MAX_BYTES`` (plus ``_FORM_ROOM``), counted as it
    arrives: a declared ``Content-Length`` over it is refused (413) before anything is read, and a body that
    goes over as it streams in is refused at that point, never read to its end. The form parser spools files to
    disk (1 MiB stays in memory), so an upload is never held in memory either; endpoints read it from there.
    Used by every router that takes uploads (leads, observations)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            limit = settings.import_max_bytes + _FORM_ROOM
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise upload_too_large(settings)
            return await handler(Request(request.scope, _counted(request.receive, limit, settings)))

        return limited


def _counted(receive: Receive, limit: int, settings: Settings) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise upload_too_large(settings)
        return message

    return counted


def upload_too_large(settings: Settings) -> HTTPException:
    return HTTPException(413, f"file larger than {settings.import_max_bytes} bytes (UPSWING_IMPORT_MAX_BYTES)")


def check_upload_size(file: UploadFile, settings: Settings) -> None:
    """The file part alone within the limit (the request's limit has room for the form around it)."""
    if file.size is not None and file.size > settings.import_max_bytes:
        raise upload_too_large(settings)


router = APIRouter(prefix="/api/v1/leads", tags=["leads"], route_class=UploadRoute)


@router.get("", response_model=LeadPage, operation_id="leads_list", openapi_extra=AUDITED_READ)
def list_leads(user: AnyUser, session: DbSession, filters: Annotated[LeadFilters, Query()]) -> LeadPage:
    """Leads the user may see (viewers with contact details masked); each page shown is audited once."""
    result = service.page_leads(session, filters, user=user)
    used = _filters_used(filters)
    record(session, actor=f"user:{user.username}", action="lead.list", entity_type="lead_list",
           details={"lead_ids": [str(item.id) for item in result.items], "filters": used, "offset": filters.offset})
    session.commit()
    return LeadPage(items=result.items, total=result.total, total_is_exact=result.total_is_exact,
                    limit=filters.limit, offset=filters.offset, next_cursor=result.next_cursor)


def _filters_used(filters: LeadQuery) -> list[str]:
    return sorted(name for name, value in filters.model_dump(include=set(LeadQuery.model_fields)).items()
                  if value is not None)


# Fixed paths before "/{lead_id}": "export.csv" and the rest are not lead ids.
@router.get("/portfolios", response_model=list[PortfolioRead], operation_id="leads_portfolios")
def list_portfolios(_: AnyUser, session: DbSession) -> list[PortfolioRead]:
    """Every portfolio, by name (the lead list's portfolio filter)."""
    return service.list_portfolios(session)


@router.get("/assignees", response_model=list[AssigneeRead], operation_id="leads_assignees")
def list_assignees(_: ManagerOrAdmin, session: DbSession) -> list[AssigneeRead]:
    """Active users leads can be assigned to, by username (managers and admins: they assign)."""
    return service.list_assignees(session)


@router.get("/export.csv", operation_id="leads_export", openapi_extra=AUDITED_READ, response_class=StreamingResponse,
            responses={200: {"description": "The leads as CSV (UTF-8, a header row first)",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_leads(user: AnyUser, session: DbSession, filters: Annotated[LeadQuery, Query()]) -> StreamingResponse:
    """Every lead of the filter the user may see (the list's filters; most delinquent first), streamed as CSV:
    the list's working columns, never contact details (``lead.export``); audited once with the filters used."""
    where = export.export_conditions(session, filters, user)  # a bad filter answers 422 before any row
    record(session, actor=f"user:{user.username}", action="lead.export", entity_type="lead_list",
           details={"filters": _filters_used(filters)})
    session.commit()
    name = f"leads-{utcnow():%Y%m%d-%H%M}.csv"
    return StreamingResponse(export.export_csv(session, where), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})


@router.post("/assign", response_model=LeadAssignResult, operation_id="leads_assign")
def assign_leads(body: LeadAssign, user: ManagerOrAdmin, session: DbSession) -> LeadAssignResult:
    """Assign up to 500 leads to one user (or unassign them) in one transaction; each changed lead is audited."""
    result = service.assign_leads(session, body, user=user)
    session.commit()
    return result


@router.post("/bulk-upsert", response_model=LeadUpsertResult, operation_id="leads_bulk_upsert",
             responses={409: {"description": "A crm_ids value is already another lead's"},
                        422: {"description": "Invalid items (nothing was written): each error names the item "
                                             "(row, from 1) and the field"}})
def bulk_upsert_leads(body: LeadUpsert, user: ManagerOrAdmin, session: DbSession) -> LeadUpsertResult | JSONResponse:
    """Create or update up to 1,000 leads by external id in one transaction (a CRM's sync): only the fields sent
    are written; each item's outcome gives the lead's id. Send an ``Idempotency-Key`` to retry safely."""
    try:
        result = service.upsert_leads(session, body, actor=f"user:{user.username}")
    except service.LeadImportFailed as exc:
        content = error_body(str(exc), exc.errors)
        content.update(error_count=exc.report.error_count, errors_by_field=exc.report.errors_by_field)
        return JSONResponse(status_code=422, content=content)
    session.commit()
    return result


@router.get("/{lead_id}", response_model=LeadRead, operation_id="leads_get", openapi_extra=AUDITED_READ)
def get_lead(lead_id: uuid.UUID, user: AnyUser, session: DbSession, response: Response) -> LeadRead:
    """The lead, with its version in ``ETag`` (send it back as ``If-Match`` with a change)."""
    lead = service.read_lead(session, lead_id, user=user)
    response.headers["ETag"] = etag_of(lead.id, lead.updated_at)
    # Who looked at whose record is audited (privacy issue: lead views).
    record(session, actor=f"user:{user.username}", action="lead.view", entity_type="lead", entity_id=lead_id)
    session.commit()
    return lead


@router.get("/{lead_id}/timeline", response_model=LeadTimeline, operation_id="leads_timeline",
            openapi_extra=AUDITED_READ)
def lead_timeline(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> LeadTimeline:
    """Snapshots, signals with their evidence, actions and outcomes, contacts (targets masked), flags, consents and
    suppressions, oldest first."""
    result = timeline(session, lead_id, user=user)
    record(session, actor=f"user:{user.username}", action="lead.view", entity_type="lead", entity_id=lead_id,
           details={"view": "timeline"})  # audited like the lead itself (privacy issue: lead views)
    session.commit()
    return result


@router.get("/{lead_id}/audit", response_model=AuditPage, operation_id="leads_audit")
def lead_audit(lead_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession,
               views: Annotated[bool, Query(description="Include who viewed the lead (lead.view)")] = True,
               limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: OffsetQuery = 0) -> AuditPage:
    """The lead's audit trail, newest first: every entry about this lead (views, changes, assignments, flags…);
    managers and admins (the whole log is for admins)."""
    visible_lead(session, lead_id, user)
    entries, total = audit.list_entries(session, entity_type="lead", entity_id=str(lead_id), limit=limit,
                                        offset=offset, exclude_actions=() if views else ("lead.view",))
    return AuditPage(items=[AuditEntryRead.model_validate(e) for e in entries], total=total, limit=limit,
                     offset=offset)


@router.patch("/{lead_id}", response_model=LeadRead, operation_id="leads_update",
              responses={412: {"description": "If-Match names an older version of the lead: read it again"}})
def update_lead(lead_id: uuid.UUID, body: LeadUpdate, user: Worker, session: DbSession, response: Response,
                if_match: Annotated[str | None, Header(max_length=500, description=(
                    "The lead's ETag as read (GET): the change is refused with 412 if the lead changed since"))] = None,
                ) -> LeadRead:
    result = service.update_lead(session, lead_id, body, user=user, if_match=if_match)
    session.commit()
    response.headers["ETag"] = etag_of(result.id, result.updated_at)
    return result


@router.post("/import", response_model=ImportReport, operation_id="leads_import",
             responses={413: {"description": "The file is larger than UPSWING_IMPORT_MAX_BYTES"},
                        422: {"description": "Invalid rows (nothing was imported): the first errors, without "
                                             "their values, and the counts (error_count, errors_by_field)"}})
def import_leads(request: Request, user: ManagerOrAdmin, session: DbSession, settings: AppSettings,
                 file: Annotated[UploadFile, File(description="CSV, JSON, JSONL or XLSX (first sheet) lead file")],
                 portfolio: Annotated[str, Form()] = "default",
                 dry_run: Annotated[bool, Form()] = False,
                 skip_invalid: Annotated[bool, Form()] = False,
                 encoding: Annotated[str | None, Form(description="Text encoding of a CSV/JSON file (utf-8, "
                                                                  "cp1252, latin-1…); default: detected")] = None,
                 ) -> ImportReport | JSONResponse:
    """The upload is read from where the form parser spooled it (on disk), a chunk at a time; with
    ``skip_invalid`` the response lists the first rejected rows' errors (``errors``) and counts them all."""
    check_upload_size(file, settings)
    actor = f"user:{user.username}"
    try:
        with _reading_session(request, session) as reader:
            plan = service.plan_import(reader, file.file, filename=file.filename or "upload.csv",
                                       encoding=encoding or None, portfolio_name=portfolio, dry_run=dry_run,
                                       skip_invalid=skip_invalid)
    except service.LeadImportFailed as exc:
        body = error_body(str(exc), exc.errors)
        body.update(error_count=exc.report.error_count, errors_by_field=exc.report.errors_by_field,
                    rejected=exc.report.rejected, total=exc.report.total)
        return JSONResponse(status_code=422, content=body)
    with plan:
        _allow_long_statements(session)
        report = service.apply_import(session, plan, actor=actor)
    session.commit()
    return report


def _allow_long_statements(session: Session) -> None:
    """An import writes with a few statements that may each run for minutes (one COPY for the whole file): the
    API's statement timeout (PostgreSQL) is lifted for the rest of this transaction, the import's writes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL statement_timeout = 0"))


@contextmanager
def _reading_session(request: Request, session: Session) -> Iterator[Session]:
    """Where an import reads and checks its file. On SQLite the request's transaction, begun by authentication,
    holds the database's one write lock: it ends here, and the reading runs in a read-only transaction, so other
    writers wait only for the import's writes. Elsewhere (and for a session bound to a caller's connection, as
    in tests) the request's own session reads."""
    bind = request.app.state.session_factory.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        yield session
        return
    session.commit()  # authentication only read: nothing to keep, but commit rather than assume so
    reader = request.app.state.session_factory(bind=read_only(bind))
    try:
        yield reader
    finally:
        reader.close()
