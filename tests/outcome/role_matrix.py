"""Role matrix rows for the outcome routes (tests/account/test_role_matrix.py loads this file): everyone reads the
outcomes of the leads they see; agents, managers and admins record them; managers and admins import files."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role
from upswing.outcome.models import Outcome

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
WORKERS = {Role.ADMIN, Role.MANAGER, Role.AGENT}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/outcomes", EVERYONE),
    ("POST", "/api/v1/outcomes", WORKERS),
    ("POST", "/api/v1/outcomes/import", {Role.ADMIN, Role.MANAGER}),
    ("GET", "/api/v1/outcomes/{outcome_id}", EVERYONE),
    ("PATCH", "/api/v1/outcomes/{outcome_id}", WORKERS),
    ("GET", "/api/v1/leads/{lead_id}/outcomes", EVERYONE),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if path == "/api/v1/outcomes" and method == "POST":
        return {}, {"json": {"lead_id": str(lead.id), "kind": "payment", "amount": "120.00",
                             "occurred_on": "2026-11-30"}}
    if path.endswith("/import"):
        body = f"external_id,lead_external_id,kind,amount,date\nP-{lead.id},{lead.external_id},payment,50,2026-11-02\n"
        return {}, {"files": {"file": ("outcomes.csv", io.BytesIO(body.encode()), "text/csv")}}
    if "{outcome_id}" in path:
        outcome = Outcome(lead_id=lead.id, kind="promise", amount=Decimal("200"), occurred_on=date(2026, 11, 1),
                          due_on=date(2026, 11, 20), promise_status="pending", source="api", created_by="test")
        session.add(outcome)
        session.flush()
        return {"outcome_id": outcome.id}, ({"json": {"promise_status": "kept"}} if method == "PATCH" else {})
    return {}, {}
