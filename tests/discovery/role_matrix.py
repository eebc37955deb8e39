"""Role matrix rows for the discovery routes (tests/account/test_role_matrix.py loads this file): managers and admins
start discovery runs, follow them, review prospects and enrich a lead now; agents and viewers do none of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role
from upswing.discovery.models import DiscoveryRun, Prospect
from upswing.lead.models import Lead

MANAGERS = {Role.ADMIN, Role.MANAGER}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("POST", "/api/v1/discover", MANAGERS),
    ("POST", "/api/v1/local/discover", MANAGERS),
    ("GET", "/api/v1/discover/runs", MANAGERS),
    ("GET", "/api/v1/discover/prospects", MANAGERS),
    ("POST", "/api/v1/discover/prospects/{lead_id}/review", MANAGERS),
    ("GET", "/api/v1/discover/{run_id}", MANAGERS),
    ("POST", "/api/v1/leads/{lead_id}/enrich", MANAGERS),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if path in ("/api/v1/discover", "/api/v1/local/discover"):
        return {}, {"json": {"area": "Austin, TX", "radius_km": 20, "category": "loan"}}
    if "{run_id}" in path:
        run = DiscoveryRun(status="done", criteria={"area": "Austin, TX"}, area="Austin, TX", requested_by="test",
                           budget_used={}, errors=[])
        session.add(run)
        session.flush()
        return {"run_id": run.id}, {}
    if path.endswith("/review"):
        prospect = Lead(portfolio_id=lead.portfolio_id, external_id=f"DISC-{lead.id.hex[:12]}", first_name="Acme Tools",
                        last_name="", employer="Acme Tools", kind="company", discovered=True, review_state="pending")
        session.add(prospect)
        session.flush()
        session.add(Prospect(lead_id=prospect.id, site=f"acme-{lead.id.hex[:8]}.example",
                             website="https://acme.example/", found_by={}, intents=[]))
        session.flush()
        return {"lead_id": prospect.id}, {"json": {"decision": "approve"}}
    return {}, {}
