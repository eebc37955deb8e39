"""Role matrix rows for the services catalog (tests/account/test_role_matrix.py loads this file): everyone reads the
catalog; managers and admins write it and import catalog files."""

from __future__ import annotations

import io
import uuid
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role
from upswing.service_catalog.models import Service

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
MANAGERS = {Role.ADMIN, Role.MANAGER}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/services", EVERYONE),
    ("POST", "/api/v1/services", MANAGERS),
    ("POST", "/api/v1/services/import", MANAGERS),
    ("GET", "/api/v1/services/{service_id}", EVERYONE),
    ("PUT", "/api/v1/services/{service_id}", MANAGERS),
    ("DELETE", "/api/v1/services/{service_id}", MANAGERS),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if path == "/api/v1/services" and method == "POST":
        return {}, {"json": {"name": f"Plan {uuid.uuid4().hex[:8]}", "category": "repayment_plan"}}
    if path.endswith("/import"):
        body = f"name,category,states\nImported {uuid.uuid4().hex[:8]},settlement,TX\n"
        return {}, {"files": {"file": ("services.csv", io.BytesIO(body.encode()), "text/csv")}}
    if "{service_id}" in path:
        row = Service(name=f"Service {uuid.uuid4().hex[:8]}", category="settlement", states=[], region_codes=[],
                      employment_states=[], signal_types=[], industries=[], need_profile={}, created_by="test")
        session.add(row)
        session.flush()
        return {"service_id": row.id}, ({"json": {"active": False}} if method == "PUT" else {})
    return {}, {}
