"""Role matrix rows for the CRM routes (see tests/account/test_role_matrix.py): admins only; the webhook is public
(the CRM's signature authenticates it)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

ADMIN = {Role.ADMIN}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/crm/connections", ADMIN),
    ("POST", "/api/v1/crm/connections", ADMIN),
    ("GET", "/api/v1/crm/connections/{connection_id}", ADMIN),
    ("POST", "/api/v1/crm/connections/{connection_id}/connect", ADMIN),
    ("POST", "/api/v1/crm/connections/{connection_id}/sync", ADMIN),
    ("POST", "/api/v1/crm/connections/{connection_id}/reconcile", ADMIN),
    ("POST", "/api/v1/crm/connections/{connection_id}/disconnect", ADMIN),
    ("GET", "/api/v1/crm/connections/{connection_id}/conflicts", ADMIN),
]
PUBLIC = {("POST", "/api/v1/crm/webhooks/{connection_id}")}


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from upswing.crm.service import create_connection

    if path == "/api/v1/crm/connections" and method == "POST":
        return {}, {"json": {"system": "hubspot", "name": f"hubspot-{uuid.uuid4().hex[:8]}",
                             "config": {"base_url": "http://127.0.0.1:9", "access_token": "pat-test"}}}
    connection = create_connection(session, system="salesforce", name=f"sf-{uuid.uuid4().hex[:8]}",
                                   config={"instance_url": "http://127.0.0.1:9"}, actor="test")
    return {"connection_id": connection.id}, {}
