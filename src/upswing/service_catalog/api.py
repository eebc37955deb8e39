"""service_catalog domain: the team's services (programs and offers): everyone reads, managers and admins write."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.responses import JSONResponse

from upswing.account.deps import AnyUser, ManagerOrAdmin
from upswing.core.api_errors import error_body
from upswing.core.deps import AppSettings, DbSession
from upswing.lead.api import UploadRoute, check_upload_size
from upswing.service_catalog import service
from upswing.service_catalog.schemas import (
    ServiceCreate,
    ServiceFilters,
    ServiceImportReport,
    ServicePage,
    ServiceRead,
    ServiceUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["services"], route_class=UploadRoute)


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.get("/services", response_model=ServicePage, operation_id="services_list")
def list_services(user: AnyUser, session: DbSession, filters: Annotated[ServiceFilters, Query()]) -> ServicePage:
    """The catalog, by name."""
    return service.page_services(session, filters)


@router.post("/services", response_model=ServiceRead, status_code=status.HTTP_201_CREATED,
             operation_id="services_create",
             responses={200: {"model": ServiceRead, "description": "A service with this external_id (else name) "
                                                                   "existed: changed to what was sent"},
                        409: {"description": "The name belongs to a service with another external_id"}})
def create_service(body: ServiceCreate, user: ManagerOrAdmin, session: DbSession, response: Response) -> ServiceRead:
    """Add a service; with the external_id (or name) of an existing one, change it instead (200)."""
    row, created, _ = service.upsert_service(session, body, actor=_actor(user))
    session.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    return ServiceRead.model_validate(row)


@router.post("/services/import", response_model=ServiceImportReport, operation_id="services_import",
             responses={413: {"description": "The file is larger than UPSWING_IMPORT_MAX_BYTES"},
                        422: {"description": "Invalid rows (nothing was imported): each error names its row and "
                                             "field"}})
def import_services(user: ManagerOrAdmin, session: DbSession, settings: AppSettings,
                    file: Annotated[UploadFile, File(description="CSV, XLSX or JSON catalog file")],
                    dry_run: Annotated[bool, Form()] = False) -> ServiceImportReport | JSONResponse:
    check_upload_size(file, settings)
    try:
        report = service.import_services(session, file.file, actor=_actor(user), filename=file.filename,
                                         dry_run=dry_run)
    except service.ServiceImportFailed as exc:
        return JSONResponse(status_code=422, content=error_body(str(exc), exc.errors))
    session.commit()
    return report


@router.get("/services/{service_id}", response_model=ServiceRead, operation_id="services_get")
def get_service(service_id: uuid.UUID, user: AnyUser, session: DbSession) -> ServiceRead:
    return ServiceRead.model_validate(service.get_service(session, service_id))


@router.put("/services/{service_id}", response_model=ServiceRead, operation_id="services_update")
def update_service(service_id: uuid.UUID, body: ServiceUpdate, user: ManagerOrAdmin,
                   session: DbSession) -> ServiceRead:
    """Change the fields sent (the others are kept)."""
    row = service.update_service(session, service_id, body, actor=_actor(user))
    session.commit()
    return ServiceRead.model_validate(row)


@router.delete("/services/{service_id}", status_code=204, operation_id="services_delete")
def delete_service(service_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> Response:
    """Delete a service and its matches (``active=false`` keeps them)."""
    service.delete_service(session, service_id, actor=_actor(user))
    session.commit()
    return Response(status_code=204)
