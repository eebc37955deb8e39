"""Role matrix rows for the observation routes added with text detection (see tests/account/test_role_matrix.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("POST", "/api/v1/ingest/texts", {Role.ADMIN, Role.MANAGER}),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An unlinked text (no classifier run needed)."""
    return {}, {"json": {"source": "matrix-texts", "items": [{"text": "A short post by nobody we know."}]}}
