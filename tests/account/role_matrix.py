"""Machine-client routes for the role matrix (tests/account/test_role_matrix.py loads this file)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import ApiClient, Role, User
from upswing.lead.models import Lead

ADMIN = Role.ADMIN
_counter = itertools.count(1)

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/api-clients", {ADMIN}),
    ("POST", "/api/v1/api-clients", {ADMIN}),
    ("GET", "/api/v1/api-clients/{client_id}", {ADMIN}),
    ("PATCH", "/api/v1/api-clients/{client_id}", {ADMIN}),
    ("DELETE", "/api/v1/api-clients/{client_id}", {ADMIN}),
    ("POST", "/api/v1/api-clients/{client_id}/rotate-secret", {ADMIN}),
]
#: The token endpoint authenticates clients, not people (tests/account/test_api_clients.py).
PUBLIC = {("POST", "/api/v1/oauth/token")}


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """(extra path parameters, request kwargs) for one route."""
    params: dict[str, Any] = {}
    if "{client_id}" in path:
        client = ApiClient(name=f"matrix-client-{next(_counter)}", auth_method="client_secret", secret_hash="0" * 64,
                           scopes=["leads:read"], allowed_ips=[], created_by="test")
        session.add(client)
        session.flush()
        params["client_id"] = client.id
    if path == "/api/v1/api-clients" and method == "POST":
        return params, {"json": {"name": f"matrix-new-{next(_counter)}", "scopes": ["leads:read"]}}
    if method == "PATCH":
        return params, {"json": {"scopes": ["leads:read", "signals:read"]}}
    return params, {}
