from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from upswing.account.deps import ManagerOrAdmin
from upswing.core.deps import AppSettings, DbSession
from upswing.core.pagination import OffsetQuery
from upswing.pipeline import review
from upswing.resolution import service
from upswing.resolution.schemas import MatchDecision, MatchPage

router = APIRouter(prefix="/api/v1/matches", tags=["matches"])


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
