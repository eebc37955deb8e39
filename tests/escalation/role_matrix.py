"""Escalation routes for the role matrix (tests/account/test_role_matrix.py loads this file)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.escalation.models import EscalationPolicy, Holiday
from upswing.lead.models import Lead

ADMIN, MANAGER, AGENT, VIEWER = Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER
MANAGERS = {ADMIN, MANAGER}

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/escalations", {ADMIN, MANAGER, AGENT}),
    ("GET", "/api/v1/escalation-policies", {ADMIN}),
    ("PUT", "/api/v1/escalation-policies", {ADMIN}),
    ("PATCH", "/api/v1/escalation-policies/{policy_id}", {ADMIN}),
    ("GET", "/api/v1/teams/{team_id}/business-calendar", MANAGERS),
    ("PUT", "/api/v1/teams/{team_id}/business-calendar", {ADMIN}),
    ("GET", "/api/v1/holidays", {ADMIN}),
    ("POST", "/api/v1/holidays", {ADMIN}),
    ("DELETE", "/api/v1/holidays/{holiday_id}", {ADMIN}),
]


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """(extra path parameters, request kwargs) for one route; ``user`` has a team (managers read its calendar)."""
    params: dict[str, Any] = {}
    if "{policy_id}" in path:
        params["policy_id"] = session.scalars(select(EscalationPolicy.id).order_by(EscalationPolicy.level)).first()
    if "{team_id}" in path:
        params["team_id"] = user.team_id
    if "{holiday_id}" in path:
        holiday = Holiday(team_id=None, day=date(2026, 12, 31), name="Matrix day off")
        session.add(holiday)
        session.flush()
        params["holiday_id"] = holiday.id
    if path.endswith("/escalation-policies") and method == "PUT":
        return params, {"json": {"priority": "medium", "level": 1, "delay_value": 3, "delay_unit": "business_days",
                                 "target": "manager"}}
    if "{policy_id}" in path:
        return params, {"json": {"enabled": True}}
    if path.endswith("/business-calendar") and method == "PUT":
        return params, {"json": {"timezone": "America/Chicago", "start": "08:00", "end": "16:30",
                                 "weekdays": "mon-fri", "holiday_country": "US"}}
    if path == "/api/v1/holidays" and method == "POST":
        return params, {"json": {"day": "2026-12-24", "name": "Christmas Eve"}}
    return params, {}
