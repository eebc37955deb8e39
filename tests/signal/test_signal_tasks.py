"""The daily rescore: open signals get their recency decayed; closed ones keep the score they were closed with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_signal, make_user
from upswing.account.models import Role
from upswing.core import tasks
from upswing.detection.events import SignalType
from upswing.signal import service
from upswing.signal.models import DismissReason, Signal
from upswing.signal.tasks import rescore_open_signals


def test_the_daily_rescore_decays_open_signals_only(settings_database: sessionmaker[Session]) -> None:
    assert any(s.task_name == "signal.rescore" and s.every == timedelta(days=1) for s in tasks.schedules())
    with settings_database() as session:
        agent = make_user(session, Role.AGENT)
        lead = make_lead(session, assignee_id=agent.id)
        open_id = make_signal(session, lead)
        closed_id = make_signal(session, lead, SignalType.AWARD)
        assert closed_id != open_id
        service.dismiss(session, closed_id, DismissReason.NOT_RELEVANT, user=agent)
        # Both were detected 60 days ago and scored then.
        long_ago = datetime.now(UTC) - timedelta(days=60)
        session.execute(update(Signal).values(detected_at=long_ago, effective_date=long_ago.date(), score=99,
                                              priority="urgent"))
        session.commit()

    changed = rescore_open_signals()

    with settings_database() as session:
        opened, closed = session.get(Signal, open_id), session.get(Signal, closed_id)
        assert opened is not None and closed is not None
        assert changed == 1
        assert opened.score < 99 and opened.priority != "urgent"
        assert (closed.score, closed.priority) == (99, "urgent")
