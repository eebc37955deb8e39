"""HTTP endpoints of the source domain, for admins (thin: the service and the engine hold the logic).

Sources are created from the connector registry the first time they are listed or named, so a listing
writes (and commits) the rows it creates. Secrets are accepted by PUT and never returned.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status
from pydantic import BaseModel, Field

from upswing.account.deps import Admin
from upswing.core.db import utcnow
from upswing.core.deps import DbSession
from upswing.core.tasks import enqueue
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.source import service
from upswing.source.schemas import HealthRead, RunQueued, SourceRead, SourceUpdate

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


def _engine(request: Request) -> MonitoringEngine:
    return MonitoringEngine(request.app.state.session_factory)


@router.get("", response_model=list[SourceRead], operation_id="sources_list")
def list_sources(user: Admin, session: DbSession, request: Request) -> list[SourceRead]:
    engine = _engine(request)
    reads = [service.describe(session, source, due_leads=engine.due_count(session, source))
             for source in service.ensure_sources(session)]
    session.commit()
    return reads


@router.get("/{slug}", response_model=SourceRead, operation_id="sources_get")
def get_source(slug: str, user: Admin, session: DbSession, request: Request) -> SourceRead:
    source = service.get_source(session, slug)
    read = service.describe(session, source, due_leads=_engine(request).due_count(session, source))
    session.commit()
    return read


@router.put("/{slug}", response_model=SourceRead, operation_id="sources_update")
def update_source(slug: str, body: SourceUpdate, user: Admin, session: DbSession) -> SourceRead:
    source = service.configure(session, slug, body, actor=f"user:{user.username}")
    read = service.describe(session, source)
    session.commit()
    return read


@router.post("/{slug}/check", response_model=HealthRead, operation_id="sources_check")
def check_source(slug: str, user: Admin, session: DbSession, request: Request) -> HealthRead:
    health = _engine(request).check(session, slug, actor=f"user:{user.username}")
    session.commit()
    return health


class RunRequest(BaseModel):
    lead_ids: list[uuid.UUID] | None = Field(default=None, description="Only these leads, due or not")


@router.post("/{slug}/run", response_model=RunQueued, status_code=status.HTTP_202_ACCEPTED,
             operation_id="sources_run")
def run_source(slug: str, user: Admin, session: DbSession, body: RunRequest | None = None,
               idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> RunQueued:
    """Queue a run (the task runner executes it after this request commits). Without an
    ``Idempotency-Key`` header, the same request within one minute is queued once."""
    source = service.get_source(session, slug)
    lead_ids = [str(lead) for lead in body.lead_ids] if body and body.lead_ids else None
    key = (f"source.run:{slug}@api:{idempotency_key}" if idempotency_key
           else f"source.run:{slug}@api:{utcnow():%Y-%m-%dT%H:%M}:{','.join(lead_ids or [])}")[:255]
    args: list[object] = [source.slug] + ([lead_ids] if lead_ids else [])
    # Without leads the run is the first part of a round; its later parts' keys derive from this one's.
    parts: dict[str, Any] = {} if lead_ids else {"round_key": f"api:{hashlib.sha256(key.encode()).hexdigest()[:16]}"}
    run_id = enqueue(session, "source.run", *args, key=key, **parts)
    session.commit()
    return RunQueued(slug=slug, task_run_id=run_id, idempotency_key=key)
