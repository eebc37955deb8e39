"""Role matrix rows for the geo routes (tests/account/test_role_matrix.py loads this file): everyone reads the
market analysis and the map of the leads in their scope (tests/geo/test_market.py checks the scopes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/local/market-analysis", EVERYONE),
    ("GET", "/api/v1/local/map", EVERYONE),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if path.endswith("/market-analysis"):
        return {}, {"params": {"location": "Austin, TX", "radius_km": 25}}
    return {}, {"params": {"level": "state"}}
