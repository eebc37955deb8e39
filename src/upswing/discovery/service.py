"""Discovery runs and prospects: start a run (a task), read its progress, list and review prospects, and enrich one
lead now through its enrichment sources. Never commits: the caller's boundary does (the engine owns its own)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit import service as audit
from upswing.core import tasks
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.core.pagination import capped_count
from upswing.discovery.compat import upswing_statuses
from upswing.discovery.engine import resolve_area
from upswing.discovery.models import DiscoveryRun, Prospect, ReviewState, RunStatus
from upswing.discovery.schemas import (
    DiscoverRequest,
    EnrichReport,
    ProspectFilters,
    ProspectIntent,
    ProspectPage,
    ProspectRead,
    ReviewRequest,
    RunRead,
    parse_lat_lng,
)
from upswing.lead.access import visible_lead
from upswing.lead.models import HELD_REVIEW_STATES, Lead, Portfolio
from upswing.pipeline.monitoring import MonitoringEngine
from upswing.signal.models import Signal
from upswing.source import service as sources

RUN_TASK = "discovery.run"
#: The sources that enrich one lead, in order: the employer's domain first, then its About page, then the
#: person's profile and posts.
ENRICH_SOURCES = ("company-domain", "firecrawl-about", "apify-linkedin", "apify-linkedin-posts")


def start_run(session: Session, request: DiscoverRequest, *, actor: str) -> DiscoveryRun:
    """Record the run and queue it for the task runner (it starts once the caller commits)."""
    area = resolve_area(request.area, parse_lat_lng(request.area))
    criteria = request.model_dump(mode="json") | {"city": area.city, "state": area.state}
    run = DiscoveryRun(status=RunStatus.QUEUED.value, criteria=criteria, area=area.text, latitude=area.latitude,
                       longitude=area.longitude, radius_km=request.radius_km, category=request.category,
                       requested_by=actor, budget_used={}, errors=[])
    session.add(run)
    session.flush()
    run.task_run_id = tasks.enqueue(session, RUN_TASK, str(run.id), key=f"{RUN_TASK}:{run.id}")
    audit.record(session, actor=actor, action="discovery.start", entity_type="discovery_run", entity_id=run.id,
                 details={"criteria": criteria})
    return run


def get_run(session: Session, run_id: uuid.UUID) -> DiscoveryRun:
    run = session.get(DiscoveryRun, run_id)
    if run is None:
        raise NotFoundError(f"discovery run {run_id} not found")
    return run


def list_runs(session: Session, *, limit: int = 20) -> list[RunRead]:
    runs = session.scalars(select(DiscoveryRun).order_by(DiscoveryRun.created_at.desc(), DiscoveryRun.id)
                           .limit(limit))
    return [RunRead.model_validate(run) for run in runs]


def list_prospects(session: Session, filters: ProspectFilters) -> ProspectPage:
    where: list[Any] = [Lead.discovered.is_(True)]
    if filters.state != "all":
        where.append(Lead.review_state == filters.state)
    if filters.status is not None:
        where.append(Lead.status.in_([s.value for s in upswing_statuses(filters.status)]))
    if filters.run_id is not None:
        where.append(Prospect.run_id == filters.run_id)
    base = select(Lead, Prospect).join(Prospect, Prospect.lead_id == Lead.id).where(*where)
    total, _ = capped_count(session, select(Lead.id).join(Prospect, Prospect.lead_id == Lead.id).where(*where))
    rows = session.execute(base.order_by(Prospect.created_at.desc(), Lead.id).limit(filters.limit)
                           .offset(filters.offset)).all()
    return ProspectPage(items=_reads(session, rows), total=total, limit=filters.limit, offset=filters.offset)


def _reads(session: Session, rows: Sequence[Any]) -> list[ProspectRead]:
    ids = [row[0].id for row in rows]
    counts = dict(session.execute(select(Signal.lead_id, func.count()).where(Signal.lead_id.in_(ids))
                                  .group_by(Signal.lead_id)).all()) if ids else {}
    return [ProspectRead(
        lead_id=lead.id, name=lead.first_name, website=prospect.website, company_domain=lead.company_domain,
        city=lead.city, state=lead.state, review_state=lead.review_state or ReviewState.PENDING.value,
        status=lead.status, intents=[ProspectIntent.model_validate(i) for i in prospect.intents or []],
        signals=counts.get(lead.id, 0), found_by=prospect.found_by or {}, run_id=prospect.run_id,
        reviewed_by=prospect.reviewed_by, reviewed_at=prospect.reviewed_at, review_note=prospect.review_note,
        created_at=prospect.created_at) for lead, prospect in rows]


def review(session: Session, lead_id: uuid.UUID, request: ReviewRequest, *, actor: str) -> ProspectRead:
    """Approve (the prospect becomes a lead like any other: listed, its signals no longer held out) or reject."""
    row = session.execute(select(Lead, Prospect).join(Prospect, Prospect.lead_id == Lead.id)
                          .where(Lead.id == lead_id)).first()
    if row is None:
        raise NotFoundError(f"prospect {lead_id} not found")
    lead, prospect = row
    state = ReviewState.APPROVED if request.decision == "approve" else ReviewState.REJECTED
    if request.portfolio is not None:
        if state is not ReviewState.APPROVED:
            raise ValidationFailedError("portfolio: only an approved prospect moves to a portfolio",
                                        [{"row": None, "field": "portfolio", "message": "only with approve"}])
        portfolio_id = session.scalar(select(Portfolio.id).where(Portfolio.name == request.portfolio.strip()))
        if portfolio_id is None:
            raise ValidationFailedError(f"portfolio: no portfolio {request.portfolio!r}",
                                        [{"row": None, "field": "portfolio", "message": "unknown portfolio"}])
        lead.portfolio_id = portfolio_id
    previous = lead.review_state
    lead.review_state = state.value
    prospect.reviewed_by, prospect.reviewed_at, prospect.review_note = actor, utcnow(), request.note
    held = lead.holdout or state.value in HELD_REVIEW_STATES
    session.execute(update(Signal).where(Signal.lead_id == lead.id).values(holdout=held)
                    .execution_options(synchronize_session=False))
    session.flush()
    audit.record(session, actor=actor, action="discovery.review", entity_type="lead", entity_id=lead.id,
                 details={"from": previous, "to": state.value, "portfolio": request.portfolio})
    return _reads(session, [(lead, prospect)])[0]


def enrichment_plan(session: Session, lead_id: uuid.UUID, *, user: User | None) -> tuple[uuid.UUID, list[str]]:
    """The lead (if this user may see it) and the enrichment sources that are enabled, to run with
    :func:`enrich_lead` once the caller's transaction has ended (the engine works in its own)."""
    lead = visible_lead(session, lead_id, user)
    enabled = {source.slug for source in sources.ensure_sources(session) if source.enabled}
    return lead.id, [slug for slug in ENRICH_SOURCES if slug in enabled]


def enrich_lead(lead_id: uuid.UUID, enabled: list[str], *, actor: str,
                engine_factory: Callable[[], MonitoringEngine] = MonitoringEngine) -> EnrichReport:
    """Run every enabled enrichment source for this one lead now, due or not (each through the monitoring engine:
    its budgets, robots.txt and storing path), and report what each found."""
    engine = engine_factory()
    ran: list[dict[str, Any]] = []
    skipped = [{"source": slug, "reason": "disabled"} for slug in ENRICH_SOURCES if slug not in enabled]
    for slug in enabled:
        try:
            report = engine.run(slug, lead_ids=[lead_id], actor=actor)
        except (sources.SourceDisabledError, sources.SourceNotConfiguredError) as exc:
            skipped.append({"source": slug, "reason": str(exc)})
            continue
        if not report.targets and not report.errors:
            skipped.append({"source": slug, "reason": "nothing to fetch for this lead (already enriched, or no "
                                                      "employer / domain / LinkedIn profile)"})
            continue
        ran.append(report.model_dump(mode="json"))
    return EnrichReport(lead_id=lead_id, sources=ran, skipped=skipped,
                        observations_created=sum(r["observations_created"] + r["texts_stored"] for r in ran),
                        signals_created=sum(r["signals_created"] for r in ran))
