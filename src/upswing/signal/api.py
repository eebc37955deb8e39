from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from upswing.account.deps import AnyUser, Worker
from upswing.core.deps import DbSession
from upswing.signal import service
from upswing.signal.models import SignalStatus
from upswing.signal.schemas import DismissRequest, SignalFilters, SignalPage, SignalRead

router = APIRouter(prefix="/api/v1/signals", tags=["signals"])


@router.get("", response_model=SignalPage, operation_id="signals_list")
def list_signals(user: AnyUser, session: DbSession,
                 filters: Annotated[SignalFilters, Query()]) -> SignalPage:
    items, total = service.list_signals(session, filters, user=user)
    return SignalPage(items=items, total=total, limit=filters.limit, offset=filters.offset)


@router.get("/{signal_id}", response_model=SignalRead, operation_id="signals_get")
def get_signal(signal_id: uuid.UUID, user: AnyUser, session: DbSession) -> SignalRead:
    return service.get_signal(session, signal_id, user=user)


@router.post("/{signal_id}/acknowledge", response_model=SignalRead, operation_id="signals_acknowledge")
def acknowledge(signal_id: uuid.UUID, user: Worker, session: DbSession) -> SignalRead:
    result = service.change_status(session, signal_id, SignalStatus.ACKNOWLEDGED, user=user)
    session.commit()
    return result


@router.post("/{signal_id}/action", response_model=SignalRead, operation_id="signals_action")
def mark_actioned(signal_id: uuid.UUID, user: Worker, session: DbSession) -> SignalRead:
    result = service.change_status(session, signal_id, SignalStatus.ACTIONED, user=user)
    session.commit()
    return result


@router.post("/{signal_id}/dismiss", response_model=SignalRead, operation_id="signals_dismiss")
def dismiss(signal_id: uuid.UUID, body: DismissRequest, user: Worker, session: DbSession) -> SignalRead:
    result = service.change_status(session, signal_id, SignalStatus.DISMISSED, user=user, reason=body.reason)
    session.commit()
    return result
