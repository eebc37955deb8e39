"""Opt-outs go to the contact guard's suppression list (owned by the compliance domain), honoured on every
channel. One adapter, so the privacy service does not depend on the compliance service's internals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session


def suppress(session: Session, targets: Sequence[str], *, actor: str, reason: str) -> int:
    """Put each e-mail address or phone number on the suppression list (idempotent); returns how many."""
    from upswing.compliance import service as compliance  # late: compliance imports much of the app

    source = "api" if actor.startswith("user:") else "cli"
    for target in targets:
        compliance.suppress(session, target, actor=actor, source=source, reason=reason)
    return len(targets)
