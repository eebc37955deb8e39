"""Source routes in the role matrix (``tests/account/test_role_matrix.py``): admins only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

ADMIN = {Role.ADMIN}

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/sources", ADMIN),
    ("GET", "/api/v1/sources/{slug}", ADMIN),
    ("PUT", "/api/v1/sources/{slug}", ADMIN),
    ("POST", "/api/v1/sources/{slug}/check", ADMIN),
    ("POST", "/api/v1/sources/{slug}/run", ADMIN),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    # apify-linkedin without a token: a check answers "not configured" without any network call, and a
    # queued run is only a row.
    params = {"slug": "apify-linkedin"}
    if method == "PUT":
        return params, {"json": {"legal_basis": "Legitimate interest (role matrix)"}}
    if path.endswith("/run"):
        return params, {"json": {"lead_ids": [str(lead.id)]}}
    return params, {}
