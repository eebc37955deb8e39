"""Role matrix rows for the signal routes added with text detection (see tests/account/test_role_matrix.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("POST", "/api/v1/signals/{signal_id}/feedback", {Role.ADMIN, Role.MANAGER, Role.AGENT}),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The matrix's own signal (on ``lead``) takes a confirmation of its type."""
    return {}, {"json": {"correct": True}}
