"""Role matrix rows for matchmaking (tests/account/test_role_matrix.py loads this file): everyone reads the matches,
recommendations and similar leads of the leads they see, and a service's leads; agents, managers and admins compute
matches and change their status."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role
from upswing.matching.models import ServiceMatch
from upswing.service_catalog.models import Service

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
WORKERS = {Role.ADMIN, Role.MANAGER, Role.AGENT}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("POST", "/api/v1/leads/{lead_id}/match", WORKERS),
    ("GET", "/api/v1/leads/{lead_id}/matches", EVERYONE),
    ("GET", "/api/v1/leads/{lead_id}/recommendations", EVERYONE),
    ("GET", "/api/v1/leads/{lead_id}/similar", EVERYONE),
    ("GET", "/api/v1/services/{service_id}/leads", EVERYONE),
    ("PUT", "/api/v1/matches/{match_id}/status", WORKERS),
]


def _service(session: Session) -> Service:
    row = Service(name=f"Service {uuid.uuid4().hex[:8]}", category="settlement", states=[], region_codes=[],
                  employment_states=[], signal_types=[], industries=[], need_profile={}, created_by="test")
    session.add(row)
    session.flush()
    return row


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if "{service_id}" in path:
        return {"service_id": _service(session).id}, {}
    if "{match_id}" in path:
        match = ServiceMatch(lead_id=lead.id, service_id=_service(session).id, score=50, breakdown={}, reasons=[],
                             status="proposed")
        session.add(match)
        session.flush()
        return {"match_id": match.id}, {"json": {"status": "accepted"}}
    return {"lead_id": lead.id}, {}
