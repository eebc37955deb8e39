"""Resolution routes for the role matrix (tests/account/test_role_matrix.py loads this file): a lead's match
decisions, for everyone who may see the lead."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.lead.models import Lead

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/matches", {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}),
]


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    return {}, {"params": {"lead_id": str(lead.id)}}
