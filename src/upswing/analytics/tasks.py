"""The analytics domain's consumer and task (docs/analytics.md, "Rollups"): a changed signal marks its detection day
dirty; every ``rollup.RUN_EVERY`` the rollups are brought up to date (``rollup.refresh``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.analytics import rollup
from upswing.analytics.facts import as_date, utc_day
from upswing.core import tasks
from upswing.core.db import session_factory
from upswing.core.outbox import Event, batch_consumer
from upswing.signal.models import Signal
from upswing.signal.service import SIGNAL_CREATED, SIGNAL_DISMISSED, SIGNAL_UPDATED

ROLLUP_TASK = "analytics.rollup"


@batch_consumer("analytics.mark_dirty", SIGNAL_CREATED, SIGNAL_UPDATED, SIGNAL_DISMISSED, batch_size=200)
def mark_signal_days(session: Session, events: Sequence[Event]) -> None:
    """The days the signals were detected on need their rollup rebuilt (today's is counted live: left alone)."""
    ids = sorted({uuid.UUID(event.entity_id) for event in events if event.entity_type == "signal"})
    if ids:
        days = session.scalars(select(utc_day(session, Signal.detected_at)).where(Signal.id.in_(ids)).distinct())
        rollup.mark_dirty(session, rollup.SIGNALS, (as_date(day) for day in days))


@tasks.scheduled(every=rollup.RUN_EVERY)
@tasks.task(ROLLUP_TASK, max_attempts=1, lease=timedelta(minutes=30))
def refresh_rollups() -> dict[str, int]:
    """Mark what outcomes and leads changed, build the due days (within the run's budget), take the coverage
    snapshot when due; returns the days built per rollup."""
    return rollup.refresh(session_factory()).built
