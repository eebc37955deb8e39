"""HTTP endpoints of the privacy domain (thin: the service holds the logic).

Who may do what: the privacy configuration is readable by every signed-in user (it says what Upswing keeps,
which agents should know); the request queue is readable by managers and admins (it holds no personal data);
acting on a request, exporting a person's data and purging are for admins only.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response

from upswing.account.deps import Admin, AnyUser, ManagerOrAdmin
from upswing.core.db import utcnow
from upswing.core.deps import AppSettings, DbSession
from upswing.core.pagination import OffsetQuery
from upswing.privacy import service
from upswing.privacy.models import RequestStatus, RequestType
from upswing.privacy.policy import policy_for
from upswing.privacy.schemas import (
    CorrectionBody,
    PurgeBody,
    PurgeReportRead,
    RejectBody,
    RequestCreate,
    RequestPage,
    RequestRead,
)

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.get("/config", operation_id="privacy_config")
def config(_: AnyUser, settings: AppSettings) -> dict[str, Any]:
    """The privacy mode and what it means: what is stored, for how long, on what condition."""
    from upswing.tracking.policy import policy_for as tracking_policy_for

    return {**policy_for(settings).describe(), "tracking": tracking_policy_for(settings).describe()}


@router.post("/purge", response_model=PurgeReportRead, operation_id="privacy_purge")
def purge(body: PurgeBody, admin: Admin, session: DbSession, settings: AppSettings) -> PurgeReportRead:
    """Apply the retention periods now (``dry_run``, the default: only count what would go)."""
    report = service.purge(session, dry_run=body.dry_run, policy=policy_for(settings), actor=_actor(admin))
    session.commit()
    return PurgeReportRead.model_validate(report.as_json())


@router.get("/dsar", response_model=RequestPage, operation_id="privacy_dsar_list")
def list_requests(_: ManagerOrAdmin, session: DbSession, status: RequestStatus | None = None,
                  type: RequestType | None = None, overdue: bool = False,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100,
                  offset: OffsetQuery = 0) -> RequestPage:
    """The queue, soonest deadline first; ``overdue=true``: open requests past a deadline."""
    now = utcnow()
    items, total = service.list_requests(session, status=status, type_=type, overdue=overdue, now=now,
                                         limit=limit, offset=offset)
    return RequestPage(items=[RequestRead.of(r, now) for r in items], total=total, limit=limit, offset=offset)


@router.post("/dsar", response_model=RequestRead, status_code=201, operation_id="privacy_dsar_create")
def create_request(body: RequestCreate, admin: Admin, session: DbSession, settings: AppSettings) -> RequestRead:
    request = service.create_request(session, type_=body.type, subject=body.subject.to_subject(),
                                     regime=body.regime, received_at=body.received_at, actor=_actor(admin),
                                     policy=policy_for(settings))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.get("/dsar/{request_id}", response_model=RequestRead, operation_id="privacy_dsar_get")
def get_request(request_id: uuid.UUID, _: ManagerOrAdmin, session: DbSession) -> RequestRead:
    return RequestRead.of(service.get_request(session, request_id), utcnow())


@router.post("/dsar/{request_id}/acknowledge", response_model=RequestRead, operation_id="privacy_dsar_acknowledge")
def acknowledge(request_id: uuid.UUID, admin: Admin, session: DbSession) -> RequestRead:
    request = service.acknowledge(session, request_id, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/start", response_model=RequestRead, operation_id="privacy_dsar_start")
def start(request_id: uuid.UUID, admin: Admin, session: DbSession) -> RequestRead:
    request = service.start(session, request_id, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/extend", response_model=RequestRead, operation_id="privacy_dsar_extend")
def extend(request_id: uuid.UUID, admin: Admin, session: DbSession) -> RequestRead:
    request = service.extend(session, request_id, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/reject", response_model=RequestRead, operation_id="privacy_dsar_reject")
def reject(request_id: uuid.UUID, body: RejectBody, admin: Admin, session: DbSession) -> RequestRead:
    request = service.reject(session, request_id, reason=body.reason, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/export", operation_id="privacy_dsar_export",
             responses={200: {"content": {"application/zip": {}, "application/json": {}}}})
def export(request_id: uuid.UUID, admin: Admin, session: DbSession,
           format: Literal["zip", "json"] = "zip") -> Response:
    """Everything held about the person: a zip (``export.json`` plus one CSV per table) or the JSON alone."""
    result = service.export_request(session, request_id, actor=_actor(admin))
    session.commit()
    if format == "json":
        return Response(orjson.dumps(result.as_json()), media_type="application/json")
    return Response(result.write_zip(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="dsar-{request_id}.zip"'})


@router.post("/dsar/{request_id}/erase", response_model=RequestRead, operation_id="privacy_dsar_erase")
def erase(request_id: uuid.UUID, admin: Admin, session: DbSession) -> RequestRead:
    """Delete everything about the person; only hashed tombstones remain (so they are never collected again)."""
    request = service.erase(session, request_id, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/correct", response_model=RequestRead, operation_id="privacy_dsar_correct")
def correct(request_id: uuid.UUID, body: CorrectionBody, admin: Admin, session: DbSession) -> RequestRead:
    request = service.correct(session, request_id, body.changes, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/opt-out", response_model=RequestRead, operation_id="privacy_dsar_opt_out")
def opt_out(request_id: uuid.UUID, admin: Admin, session: DbSession) -> RequestRead:
    request = service.opt_out(session, request_id, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())


@router.post("/dsar/{request_id}/complete", response_model=RequestRead, operation_id="privacy_dsar_complete")
def complete(request_id: uuid.UUID, admin: Admin, session: DbSession) -> RequestRead:
    request = service.complete(session, request_id, actor=_actor(admin))
    session.commit()
    return RequestRead.of(request, utcnow())
