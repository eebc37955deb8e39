"""Lead routes added for the dashboard, for the role matrix (tests/account/test_role_matrix.py loads this file):
the portfolio list and the CSV export for everyone (scoped like the lead list), assignment and the lead's audit
trail for managers and admins, the bulk upsert (sync) for managers and admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from factories import make_user
from upswing.account.models import Role, User
from upswing.lead.models import Lead

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/leads/portfolios", EVERYONE),
    ("GET", "/api/v1/leads/assignees", {Role.ADMIN, Role.MANAGER}),
    ("GET", "/api/v1/leads/export.csv", EVERYONE),
    ("POST", "/api/v1/leads/assign", {Role.ADMIN, Role.MANAGER}),
    ("GET", "/api/v1/leads/{lead_id}/audit", {Role.ADMIN, Role.MANAGER}),
    ("POST", "/api/v1/leads/bulk-upsert", {Role.ADMIN, Role.MANAGER}),
]


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    if path.endswith("/assign"):
        other = make_user(session, Role.AGENT)
        return {}, {"json": {"lead_ids": [str(lead.id)], "assignee": other.username}}
    if path.endswith("/bulk-upsert"):
        return {}, {"json": {"items": [{"external_id": f"BULK-{user.username}", "first_name": "Ana",
                                        "last_name": "Diaz"}]}}
    if path.endswith("/export.csv"):
        return {}, {"params": {"status": "new"}}
    return {}, {}
