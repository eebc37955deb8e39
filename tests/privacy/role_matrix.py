"""Privacy routes for the role matrix (tests/account/test_role_matrix.py loads this file).

The configuration is for everyone; the request queue is readable by managers; acting on requests, exports and
purges are for admins only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.lead.models import Lead
from upswing.privacy import service
from upswing.privacy.models import RequestType

ADMIN, MANAGER, AGENT, VIEWER = Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER
EVERYONE = {ADMIN, MANAGER, AGENT, VIEWER}

P = "/api/v1/privacy"
D = f"{P}/dsar/{{request_id}}"
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", f"{P}/config", EVERYONE),
    ("POST", f"{P}/purge", {ADMIN}),
    ("GET", f"{P}/dsar", {ADMIN, MANAGER}),
    ("POST", f"{P}/dsar", {ADMIN}),
    ("GET", D, {ADMIN, MANAGER}),
    ("POST", f"{D}/acknowledge", {ADMIN}),
    ("POST", f"{D}/start", {ADMIN}),
    ("POST", f"{D}/extend", {ADMIN}),
    ("POST", f"{D}/reject", {ADMIN}),
    ("POST", f"{D}/export", {ADMIN}),
    ("POST", f"{D}/erase", {ADMIN}),
    ("POST", f"{D}/correct", {ADMIN}),
    ("POST", f"{D}/opt-out", {ADMIN}),
    ("POST", f"{D}/complete", {ADMIN}),
]

_TYPES = {"erase": RequestType.ERASURE, "correct": RequestType.CORRECTION, "opt-out": RequestType.OPT_OUT}


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """(extra path parameters, request kwargs) for one route; ``lead`` is assigned to ``user``."""
    route = path.removeprefix(P)
    if route == "/purge":
        return {}, {"json": {"dry_run": True}}
    if route == "/dsar" and method == "POST":
        return {}, {"json": {"type": "access", "subject": {"lead_ids": [str(lead.id)]}}}
    if "{request_id}" not in route:
        return {}, {}
    action = route.rsplit("/", 1)[-1]
    if lead.email is None:
        lead.email, lead.emails = "matrix@example.org", ["matrix@example.org"]
        session.flush()
    request = service.create_request(session, type_=_TYPES.get(action, RequestType.ACCESS),
                                     subject=service.Subject(lead_ids=[lead.id]), actor="test")
    if action == "complete":
        service.export_request(session, request.id, actor="test")
    body: dict[str, Any] = {}
    if action == "reject":
        body = {"json": {"reason": "identity not verified"}}
    elif action == "correct":
        body = {"json": {"changes": {"last_name": "Corrected"}}}
    return {"request_id": request.id}, body
