"""Lead deduplication endpoints: duplicates found, merges applied or rejected, and undo (managers, admins).

Included before the lead router: ``/api/v1/leads/duplicates`` and ``/api/v1/leads/merges`` must not be
taken for a lead id.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from upswing.account.deps import ManagerOrAdmin
from upswing.core.deps import DbSession
from upswing.dedupe import service
from upswing.dedupe.schemas import (
    DuplicateList,
    LeadMergePage,
    LeadMergeRead,
    MergeDecision,
    MergeFilters,
    MergeRequest,
)

router = APIRouter(prefix="/api/v1/leads", tags=["lead dedupe"])


@router.get("/duplicates", response_model=DuplicateList, operation_id="leads_duplicates")
def list_duplicates(user: ManagerOrAdmin, session: DbSession,
                    portfolio: Annotated[str | None, Query(description="Only this portfolio")] = None,
                    threshold: Annotated[float, Query(gt=0, le=1, description="Lowest match probability")]
                    = service.DEFAULT_THRESHOLD) -> DuplicateList:
    """Pairs of leads that are probably one person, best first, with the fields that agreed and disagreed."""
    items = service.find_duplicates(session, portfolio=portfolio, threshold=threshold)
    return DuplicateList(items=items, total=len(items), threshold=threshold)


@router.get("/merges", response_model=LeadMergePage, operation_id="leads_merges_list")
def list_merges(user: ManagerOrAdmin, session: DbSession, filters: Annotated[MergeFilters, Query()]) -> LeadMergePage:
    items, total = service.list_merges(session, filters)
    return LeadMergePage(items=items, total=total, limit=filters.limit, offset=filters.offset)


@router.post("/merges", response_model=LeadMergeRead, status_code=201, operation_id="leads_merges_create")
def create_merge(body: MergeRequest, user: ManagerOrAdmin, session: DbSession) -> LeadMergeRead:
    """Merge ``merged_id`` into ``survivor_id`` (``decision: apply``), or record that they are different
    people (``decision: reject``)."""
    actor = f"user:{user.username}"
    if body.decision is MergeDecision.REJECT:
        merge = service.reject_pair(session, survivor_id=body.survivor_id, merged_id=body.merged_id, actor=actor)
    else:
        merge = service.merge_leads(session, survivor_id=body.survivor_id, merged_id=body.merged_id, actor=actor)
    result = service.read_merge(merge)
    session.commit()
    return result


@router.get("/merges/{merge_id}", response_model=LeadMergeRead, operation_id="leads_merges_get")
def get_merge(merge_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> LeadMergeRead:
    return service.read_merge(service.get_merge(session, merge_id))


@router.post("/merges/{merge_id}/undo", response_model=LeadMergeRead, operation_id="leads_merges_undo")
def undo_merge(merge_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> LeadMergeRead:
    """Undo an applied merge (the merged lead and its history come back exactly) or withdraw a rejection."""
    merge = service.undo_merge(session, merge_id, actor=f"user:{user.username}")
    result = service.read_merge(merge)
    session.commit()
    return result
