"""matching domain: a lead's matches with the services catalog, a service's leads, recommendations, similar leads."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from upswing.account.deps import AnyUser, Worker
from upswing.core.deps import DbSession
from upswing.matching import service
from upswing.matching.schemas import (
    LeadMatches,
    MatchStatusUpdate,
    ServiceLeadFilters,
    ServiceLeadPage,
    ServiceMatchRead,
    SimilarLeads,
)

router = APIRouter(prefix="/api/v1", tags=["matching"])


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.post("/leads/{lead_id}/match", response_model=LeadMatches, operation_id="leads_match")
def match_lead(lead_id: uuid.UUID, user: Worker, session: DbSession) -> LeadMatches:
    """Score the active services for the lead now and store the eligible matches; ranked (score, then need,
    then the service's name)."""
    items = service.compute_for_lead(session, lead_id, user=user)
    session.commit()
    return LeadMatches(lead_id=lead_id, items=items)


@router.get("/leads/{lead_id}/matches", response_model=LeadMatches, operation_id="leads_matches")
def lead_matches(lead_id: uuid.UUID, user: AnyUser, session: DbSession) -> LeadMatches:
    """The lead's stored matches, ranked, each with its factor breakdown and reasons."""
    return LeadMatches(lead_id=lead_id, items=service.lead_matches(session, lead_id, user=user))


@router.get("/leads/{lead_id}/recommendations", response_model=LeadMatches, operation_id="leads_recommendations")
def recommendations(lead_id: uuid.UUID, user: AnyUser, session: DbSession,
                    limit: Annotated[int, Query(ge=1, le=50)] = 5) -> LeadMatches:
    """The top active services for the lead, with reasons (rejected matches left out)."""
    return LeadMatches(lead_id=lead_id, items=service.recommendations(session, lead_id, user=user, limit=limit))


@router.get("/leads/{lead_id}/similar", response_model=SimilarLeads, operation_id="leads_similar")
def similar(lead_id: uuid.UUID, user: AnyUser, session: DbSession,
            k: Annotated[int, Query(ge=1, le=100, description="How many leads")] = 10) -> SimilarLeads:
    """The k nearest leads (that you may see) by the feature vector of docs/matching.md, with the distance."""
    return service.similar_leads(session, lead_id, user=user, k=k)


@router.get("/services/{service_id}/leads", response_model=ServiceLeadPage, operation_id="services_leads")
def service_leads(service_id: uuid.UUID, user: AnyUser, session: DbSession,
                  filters: Annotated[ServiceLeadFilters, Query()]) -> ServiceLeadPage:
    """The service's matched leads (that you may see), best first; ``min_match_score``, ``state``,
    ``near=lat,lng`` with ``radius_km``, ``status``."""
    return service.service_leads(session, service_id, filters, user=user)


@router.put("/matches/{match_id}/status", response_model=ServiceMatchRead, operation_id="service_matches_status")
def set_status(match_id: uuid.UUID, body: MatchStatusUpdate, user: Worker, session: DbSession) -> ServiceMatchRead:
    """Accept, reject or convert a service match (audited)."""
    item = service.set_status(session, match_id, body.status, user=user, actor=_actor(user))
    session.commit()
    return item
