"""Audit routes for the role matrix (tests/account/test_role_matrix.py loads this file): admins only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.lead.models import Lead

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/audit", {Role.ADMIN}),
    ("GET", "/api/v1/audit/verify", {Role.ADMIN}),
]


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    return {}, {"params": {"entity_type": "lead"}} if path == "/api/v1/audit" else {}
