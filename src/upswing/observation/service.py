"""Observations: who a profile is about (its subject key) and the ones no lead was found for.

Storing observations, linking them and detecting their signals is the pipeline's work (``upswing.pipeline``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.core.pagination import capped_count
from upswing.lead.pii import email_index
from upswing.observation.models import Observation
from upswing.observation.snapshot import ProfileSnapshot


def subject_key(snapshot: ProfileSnapshot) -> str | None:
    if snapshot.public_identifier:
        return f"li:{snapshot.public_identifier}"
    if snapshot.urn:
        return f"urn:{snapshot.urn}"
    if snapshot.emails:
        return email_subject_key(snapshot.emails[0])
    return None


def email_subject_key(email: str) -> str:
    """The subject key of a profile known only by its e-mail: a blind index, so no address sits in clear."""
    return f"email:{email_index(email)}"


def list_unlinked(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[list[Observation], int]:
    query = select(Observation).where(Observation.lead_id.is_(None))
    total, _ = capped_count(session, query)
    rows = session.scalars(query.order_by(Observation.observed_at.desc()).limit(limit).offset(offset))
    return list(rows), total


