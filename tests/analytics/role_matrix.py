"""Analytics routes for the role matrix (tests/account/test_role_matrix.py loads this file): every role reads every
report; what each sees is scoped by role (tests/analytics/test_analytics_api.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
REPORTS = ("signals", "funnel", "response-times", "outcomes", "recovery", "coverage", "source-health",
           "model-quality")

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", f"/api/v1/analytics/{name}{suffix}", EVERYONE) for name in REPORTS for suffix in ("", ".csv")
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default range and scope need nothing."""
    return {}, {}
