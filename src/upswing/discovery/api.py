"""discovery domain: start a discovery run, follow its progress, review the prospects it found; enrich one lead."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from upswing.account.deps import ManagerOrAdmin
from upswing.core.deps import DbSession
from upswing.discovery import service
from upswing.discovery.schemas import (
    DiscoverRequest,
    EnrichReport,
    ProspectFilters,
    ProspectPage,
    ProspectRead,
    ReviewRequest,
    RunRead,
)
from upswing.pipeline.monitoring import MonitoringEngine

router = APIRouter(prefix="/api/v1", tags=["discovery"])


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.post("/discover", response_model=RunRead, status_code=status.HTTP_202_ACCEPTED, operation_id="discover_start")
def start(body: DiscoverRequest, user: ManagerOrAdmin, session: DbSession) -> RunRead:
    """Find prospect companies in an area whose pages show the category's intent: a run queued for the task
    runner; follow it with ``GET /api/v1/discover/{run_id}``. The prospects wait for review."""
    run = service.start_run(session, body, actor=_actor(user))
    session.commit()
    return RunRead.model_validate(run)


@router.post("/local/discover", response_model=RunRead, status_code=status.HTTP_202_ACCEPTED,
             operation_id="local_discover")
def local_discover(body: DiscoverRequest, user: ManagerOrAdmin, session: DbSession) -> RunRead:
    """The second spec's local discovery: the same run as ``POST /api/v1/discover`` (an area — ``area`` or
    ``location`` — and a radius); follow it with ``GET /api/v1/discover/{run_id}``."""
    return start(body, user, session)


@router.get("/discover/runs", response_model=list[RunRead], operation_id="discover_runs")
def runs(user: ManagerOrAdmin, session: DbSession,
         limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[RunRead]:
    """The latest discovery runs, newest first."""
    return service.list_runs(session, limit=limit)


@router.get("/discover/prospects", response_model=ProspectPage, operation_id="discover_prospects")
def prospects(user: ManagerOrAdmin, session: DbSession,
              filters: Annotated[ProspectFilters, Query()]) -> ProspectPage:
    """Prospects by review state (``pending`` by default), newest first, with their intents and evidence."""
    return service.list_prospects(session, filters)


@router.post("/discover/prospects/{lead_id}/review", response_model=ProspectRead, operation_id="discover_review")
def review(lead_id: uuid.UUID, body: ReviewRequest, user: ManagerOrAdmin, session: DbSession) -> ProspectRead:
    """Approve (a lead like any other from now on: listed, its signals worked) or reject a prospect."""
    read = service.review(session, lead_id, body, actor=_actor(user))
    session.commit()
    return read


@router.get("/discover/{run_id}", response_model=RunRead, operation_id="discover_status")
def run_status(run_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> RunRead:
    """A run's status and counts: found, fetched, classified, created, skipped; budget used; errors."""
    return RunRead.model_validate(service.get_run(session, run_id))


@router.post("/leads/{lead_id}/enrich", response_model=EnrichReport, operation_id="leads_enrich")
def enrich(lead_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession, request: Request) -> EnrichReport:
    """Run the enabled enrichment sources for this lead now (company domain, About page, LinkedIn profile and
    posts), within their budgets, and report what each found."""
    found, enabled = service.enrichment_plan(session, lead_id, user=user)
    session.commit()  # the engine works in its own transactions
    factory = request.app.state.session_factory
    return service.enrich_lead(found, enabled, actor=_actor(user), engine_factory=lambda: MonitoringEngine(factory))
