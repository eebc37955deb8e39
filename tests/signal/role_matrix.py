"""Role matrix rows for the signal routes added with text detection (see tests/account/test_role_matrix.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("POST", "/api/v1/signals/{signal_id}/feedback", {Role.ADMIN, Role.MANAGER, Role.AGENT}),
    ("GET", "/api/v1/signals/low-confidence", set(Role)),
    # A made-up observation id: a role that may label gets past the role check to a 404.
    ("POST", "/api/v1/signals/low-confidence/{observation_id}/label", {Role.ADMIN, Role.MANAGER, Role.AGENT}),
]


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The matrix's own signal (on ``lead``) takes a confirmation of its type; a low-confidence text on ``lead``
    takes a label."""
    if path.endswith("/feedback"):
        return {}, {"json": {"correct": True}}
    if path.endswith("/label"):
        return {"observation_id": low_confidence_text(session, lead).id}, {"json": {"label": "none"}}
    return {}, {}


def low_confidence_text(session: Session, lead: Any, *, text: str = "Might be starting at the warehouse soon",
                        guess: str = "new_employment", confidence: float = 0.61) -> Any:
    """A text observation on ``lead`` whose guess was below its type's threshold."""
    import hashlib
    import uuid

    from upswing.core.db import utcnow
    from upswing.observation.models import Observation
    from upswing.source.service import file_source

    now = utcnow()
    observation = Observation(
        id=uuid.uuid4(), source_id=file_source(session).id, lead_id=lead.id, kind="text", shape="text:person",
        url="https://example.org/post/1", raw={"text": text}, normalized={"text": text, "about": "person"},
        content_hash=hashlib.sha256(f"{uuid.uuid4()}".encode()).hexdigest(), observed_at=now, last_observed_at=now,
        guess_label=guess, guess_confidence=confidence,
    )
    session.add(observation)
    session.flush()
    return observation
