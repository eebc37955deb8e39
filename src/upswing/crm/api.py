"""HTTP endpoints of the CRM domain: connections for admins, and the inbound webhook (verified by signature).

Connecting, syncing and reconciling call the CRM, which may take a while: they are queued (202) and run by the
task runner; ``GET`` shows the outcome (status, last error, pushes, conflicts)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from sqlalchemy import select

from upswing.account.deps import Admin
from upswing.core.db import utcnow
from upswing.core.deps import DbSession
from upswing.core.tasks import enqueue
from upswing.crm import service
from upswing.crm.connector import WebhookRejected
from upswing.crm.models import CrmConflict
from upswing.crm.schemas import ConflictRead, ConnectionCreate, ConnectionRead, CrmRunQueued, WebhookResult

router = APIRouter(prefix="/api/v1/crm", tags=["crm"])


@router.get("/connections", response_model=list[ConnectionRead], operation_id="crm_connections_list")
def list_connections(user: Admin, session: DbSession) -> list[ConnectionRead]:
    return [ConnectionRead(**service.status(session, c)) for c in service.list_connections(session)]


@router.post("/connections", response_model=ConnectionRead, status_code=status.HTTP_201_CREATED,
             operation_id="crm_connections_create")
def create_connection(body: ConnectionCreate, user: Admin, session: DbSession) -> ConnectionRead:
    """Register a CRM account; then ``POST …/connect`` checks the credentials and creates our fields there."""
    connection = service.create_connection(
        session, system=body.system, name=body.name, config=body.config,
        field_ownership=dict(body.field_ownership) if body.field_ownership else None, owner_map=body.owner_map,
        daily_budget=body.daily_budget, actor=f"user:{user.username}")
    read = ConnectionRead(**service.status(session, connection))
    session.commit()
    return read


@router.get("/connections/{connection_id}", response_model=ConnectionRead, operation_id="crm_connections_get")
def get_connection(connection_id: uuid.UUID, user: Admin, session: DbSession) -> ConnectionRead:
    return ConnectionRead(**service.status(session, service.get_connection(session, connection_id)))


def _queue(session: DbSession, connection_id: uuid.UUID, task: str) -> CrmRunQueued:
    connection = service.get_connection(session, connection_id)
    run_id = enqueue(session, task, str(connection.id),
                     key=f"{task}:{connection.id}@api:{utcnow():%Y-%m-%dT%H:%M}")
    session.commit()
    return CrmRunQueued(connection_id=connection.id, task=task, task_run_id=run_id)


@router.post("/connections/{connection_id}/connect", response_model=CrmRunQueued,
             status_code=status.HTTP_202_ACCEPTED, operation_id="crm_connections_connect")
def connect(connection_id: uuid.UUID, user: Admin, session: DbSession) -> CrmRunQueued:
    """Queue the credential check and the creation of our custom fields in the CRM."""
    return _queue(session, connection_id, service.CONNECT_TASK)


@router.post("/connections/{connection_id}/sync", response_model=CrmRunQueued,
             status_code=status.HTTP_202_ACCEPTED, operation_id="crm_connections_sync")
def sync(connection_id: uuid.UUID, user: Admin, session: DbSession) -> CrmRunQueued:
    """Queue a push of every due signal and a pull of the CRM's changes."""
    return _queue(session, connection_id, service.SYNC_TASK)


@router.post("/connections/{connection_id}/reconcile", response_model=CrmRunQueued,
             status_code=status.HTTP_202_ACCEPTED, operation_id="crm_connections_reconcile")
def reconcile(connection_id: uuid.UUID, user: Admin, session: DbSession) -> CrmRunQueued:
    """Queue a comparison of both sides that re-queues whatever is missing in the CRM."""
    return _queue(session, connection_id, service.RECONCILE_TASK)


@router.post("/connections/{connection_id}/disconnect", response_model=ConnectionRead,
             operation_id="crm_connections_disconnect")
def disconnect(connection_id: uuid.UUID, user: Admin, session: DbSession) -> ConnectionRead:
    connection = service.get_connection(session, connection_id)
    service.disconnect(session, connection, actor=f"user:{user.username}")
    read = ConnectionRead(**service.status(session, connection))
    session.commit()
    return read


@router.get("/connections/{connection_id}/conflicts", response_model=list[ConflictRead],
            operation_id="crm_connections_conflicts")
def conflicts(connection_id: uuid.UUID, user: Admin, session: DbSession) -> list[ConflictRead]:
    """Open conflicts (a shared field changed on both sides; the later change won), newest first."""
    connection = service.get_connection(session, connection_id)
    rows = session.scalars(select(CrmConflict).where(CrmConflict.connection_id == connection.id,
                                                     CrmConflict.resolved_at.is_(None))
                           .order_by(CrmConflict.created_at.desc()).limit(500))
    return [ConflictRead.model_validate(row) for row in rows]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/webhooks/{connection_id}", response_model=WebhookResult, operation_id="crm_webhook",
             responses={401: {"description": "Signature missing, wrong or stale"}})
def webhook(connection_id: uuid.UUID, request: Request, body: Annotated[bytes, Depends(_raw_body)],
            session: DbSession) -> WebhookResult:
    """The CRM's webhook (no login: the CRM's signature authenticates it; a bad or stale one is a 401). Runs in
    the thread pool like every other endpoint: the body is read first, then the database is used."""
    try:
        report = service.receive_webhook(session, connection_id, dict(request.headers), body, str(request.url))
    except WebhookRejected as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    session.commit()
    return WebhookResult(**vars(report))
