"""Compliance routes for the role matrix (tests/account/test_role_matrix.py loads this file)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.compliance import service
from upswing.compliance.schemas import BlockedWindowCreate
from upswing.lead.models import Lead

ADMIN, MANAGER, AGENT, VIEWER = Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER
EVERYONE = {ADMIN, MANAGER, AGENT, VIEWER}
WORKERS = {ADMIN, MANAGER, AGENT}

P = "/api/v1/compliance"
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("POST", f"{P}/check", EVERYONE),
    ("POST", f"{P}/answers", EVERYONE),
    ("POST", f"{P}/contacts", WORKERS),
    ("GET", f"{P}/contacts", EVERYONE),
    ("POST", f"{P}/contacts/import", {ADMIN, MANAGER}),
    ("GET", f"{P}/leads/{{lead_id}}/flags", EVERYONE),
    ("PUT", f"{P}/leads/{{lead_id}}/flags/{{flag}}", WORKERS),
    ("POST", f"{P}/consents", WORKERS),
    ("GET", f"{P}/leads/{{lead_id}}/consents", EVERYONE),
    ("POST", f"{P}/suppressions", WORKERS),
    ("GET", f"{P}/suppressions", {ADMIN, MANAGER}),
    ("DELETE", f"{P}/suppressions/{{suppression_id}}", {ADMIN, MANAGER}),
    ("GET", f"{P}/leads/{{lead_id}}/blocked-windows", EVERYONE),
    ("POST", f"{P}/leads/{{lead_id}}/blocked-windows", WORKERS),
    ("DELETE", f"{P}/blocked-windows/{{window_id}}", WORKERS),
    ("GET", f"{P}/rules", {ADMIN}),
    ("PUT", f"{P}/rules", {ADMIN}),
]


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """(extra path parameters, request kwargs) for one route; ``lead`` is assigned to ``user``."""
    lead_id = str(lead.id)
    route = path.removeprefix(P)
    if route == "/check":
        return {}, {"json": {"lead_id": lead_id, "channel": "letter"}}
    if route == "/answers":
        return {}, {"json": {"lead_ids": [lead_id]}}
    if route == "/contacts":
        if method == "POST":
            return {}, {"json": {"lead_id": lead_id, "channel": "letter", "at": "2026-01-15T15:00:00Z"}}
        return {}, {"params": {"lead_id": lead_id}}
    if route == "/contacts/import":
        body = f"lead,channel,at\n{lead.external_id},letter,2026-01-15T15:00:00Z\n".encode()
        return {}, {"files": {"file": ("contacts.csv", body, "text/csv")}}
    if route.endswith("/flags/{flag}"):
        return {"flag": "dispute"}, {"json": {"active": True}}
    if route == "/consents":
        return {}, {"json": {"lead_id": lead_id, "target": "+12125550123"}}
    if route == "/suppressions" and method == "POST":  # one of the lead's own numbers
        return {}, {"json": {"target": lead.email, "lead_id": lead_id}}
    if route == "/suppressions/{suppression_id}":
        row = service.suppress(session, "+12125550199", actor="test", source="api")
        return {"suppression_id": row.id}, {"params": {"reason": "consumer asked to be called again"}}
    if route.endswith("/blocked-windows") and method == "POST":
        return {}, {"json": {"start": "12:00", "end": "13:00", "days": ["sun"]}}
    if route == "/blocked-windows/{window_id}":
        window = service.add_blocked_window(session, lead, BlockedWindowCreate(start="12:00", end="13:00"),
                                            actor="test")
        return {"window_id": window.id}, {}
    if route == "/rules" and method == "PUT":
        return {}, {"json": {"changes": {"window_end": "21:00"}}}
    return {}, {}
