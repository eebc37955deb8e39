from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from upswing.account.deps import AnyUser, ManagerOrAdmin
from upswing.account.models import Role
from upswing.core.deps import AppSettings, DbSession
from upswing.core.pagination import OffsetQuery
from upswing.lead.access import visible_lead
from upswing.pipeline import review
from upswing.resolution import service
from upswing.resolution.schemas import MatchDecision, MatchPage

router = APIRouter(prefix="/api/v1/matches", tags=["matches"])


@router.get("", response_model=MatchPage, operation_id="matches_list")
def list_matches(user: AnyUser, session: DbSession,
                 lead_id: Annotated[uuid.UUID, Query(description="The lead whose match decisions to list")],
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: OffsetQuery = 0) -> MatchPage:
    """A lead's match decisions with their explanations (fields that agreed and disagreed), newest first; a lead
    the user may not see answers 404. Agents see the decisions about profiles linked to the lead (the review queue
    and the rejected candidates are the reviewers')."""
    visible_lead(session, lead_id, user)
    return service.list_for_lead(session, lead_id, linked_only=user.role == Role.AGENT.value, limit=limit,
                                 offset=offset)


@router.get("/review", response_model=MatchPage, operation_id="matches_review")
def review_queue(_: ManagerOrAdmin, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: OffsetQuery = 0) -> MatchPage:
    return service.list_review(session, limit=limit, offset=offset)


@router.post("/{match_id}/approve", response_model=MatchDecision, operation_id="matches_approve")
def approve(match_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession, settings: AppSettings) -> MatchDecision:
    result = review.approve(session, match_id, actor=f"user:{user.username}", lookback_days=settings.lookback_days)
    session.commit()
    return result


@router.post("/{match_id}/reject", response_model=MatchDecision, operation_id="matches_reject")
def reject(match_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> MatchDecision:
    result = service.reject(session, match_id, actor=f"user:{user.username}")
    session.commit()
    return result
