"""A person's decision on an uncertain link: approving it links the observation and detects its signals."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from upswing.observation.models import Observation
from upswing.pipeline.profiles import link_observation
from upswing.resolution import service as resolution
from upswing.resolution.schemas import MatchDecision
from upswing.settings import get_settings


def approve(session: Session, match_id: uuid.UUID, *, actor: str, lookback_days: int | None = None) -> MatchDecision:
    """Approve a match from the review queue: link the observation (and the profile's other snapshots waiting
    for the same lead) and detect their signals, as the ingest would have."""
    lookback = lookback_days if lookback_days is not None else get_settings().lookback_days

    def link(observation: Observation, lead_id: uuid.UUID) -> tuple[int, int]:
        outcome = link_observation(session, observation, lead_id, lookback_days=lookback)
        return outcome.created, outcome.merged

    return resolution.approve(session, match_id, actor=actor, link=link)
