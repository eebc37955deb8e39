"""HTTP endpoints of escalation: the escalations made, policies, team business calendars, holidays (thin)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from upswing.account.deps import Admin, ManagerOrAdmin, Worker
from upswing.account.models import User
from upswing.core.deps import AppSettings, DbSession
from upswing.escalation import service
from upswing.escalation.schemas import (
    CalendarRead,
    CalendarSet,
    EscalationFilters,
    EscalationRead,
    HolidayCreate,
    HolidayRead,
    PolicyRead,
    PolicySet,
    PolicyUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["escalations"])


def _actor(user: User) -> str:
    return f"user:{user.username}"


@router.get("/escalations", response_model=list[EscalationRead], operation_id="escalations_list")
def list_escalations(filters: Annotated[EscalationFilters, Query()], user: Worker,
                     session: DbSession) -> list[EscalationRead]:
    """Signals escalated because nobody acknowledged them in time, newest first: admins see all; managers their
    team's and those to them; agents those on their own signals."""
    return service.list_escalations(session, user, filters)


@router.get("/escalation-policies", response_model=list[PolicyRead], operation_id="escalation_policies_list")
def list_policies(_: Admin, session: DbSession) -> list[object]:
    return list(service.list_policies(session))


@router.put("/escalation-policies", response_model=PolicyRead, operation_id="escalation_policies_put")
def put_policy(body: PolicySet, user: Admin, session: DbSession) -> object:
    """Create or replace the policy of a priority and level."""
    policy = service.put_policy(session, body, actor=_actor(user))
    session.commit()
    return policy


@router.patch("/escalation-policies/{policy_id}", response_model=PolicyRead,
              operation_id="escalation_policies_update")
def update_policy(policy_id: uuid.UUID, body: PolicyUpdate, user: Admin, session: DbSession) -> object:
    policy = service.update_policy(session, policy_id, body, actor=_actor(user))
    session.commit()
    return policy


@router.get("/teams/{team_id}/business-calendar", response_model=CalendarRead,
            operation_id="business_calendar_get", tags=["users"])
def get_calendar(team_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession,
                 settings: AppSettings) -> CalendarRead:
    """The team's business hours, days and holidays escalation counts in (its own, or the default)."""
    return service.get_calendar(session, team_id, user=user, settings=settings)


@router.put("/teams/{team_id}/business-calendar", response_model=CalendarRead,
            operation_id="business_calendar_set", tags=["users"])
def set_calendar(team_id: uuid.UUID, body: CalendarSet, user: Admin, session: DbSession,
                 settings: AppSettings) -> CalendarRead:
    calendar = service.set_calendar(session, team_id, body, actor=_actor(user), settings=settings)
    session.commit()
    return calendar


@router.get("/holidays", response_model=list[HolidayRead], operation_id="holidays_list")
def list_holidays(_: Admin, session: DbSession,
                  team_id: Annotated[uuid.UUID | None, Query(description="Also this team's own")] = None,
                  year: Annotated[int | None, Query(ge=1, le=9999)] = None) -> list[object]:
    """Configured days off (public holidays of the calendars' countries are not listed here; a team's calendar
    shows them)."""
    return list(service.list_holidays(session, team_id=team_id, year=year))


@router.post("/holidays", response_model=HolidayRead, status_code=201, operation_id="holidays_create")
def add_holiday(body: HolidayCreate, user: Admin, session: DbSession) -> object:
    holiday = service.add_holiday(session, body, actor=_actor(user))
    session.commit()
    return holiday


@router.delete("/holidays/{holiday_id}", status_code=204, operation_id="holidays_delete")
def delete_holiday(holiday_id: uuid.UUID, user: Admin, session: DbSession) -> Response:
    service.delete_holiday(session, holiday_id, actor=_actor(user))
    session.commit()
    return Response(status_code=204)
