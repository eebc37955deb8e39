"""The escalation.run task: declared every minute, and a run in its own transaction (both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.core import tasks
from upswing.core.db import utcnow
from upswing.escalation import tasks as escalation_tasks
from upswing.escalation.models import Escalation
from upswing.signal.models import Signal


def test_the_task_runs_every_minute() -> None:
    assert "escalation.run" in tasks.registered_tasks()
    assert any(s.task_name == "escalation.run" and s.every == timedelta(minutes=1) for s in tasks.schedules())


def test_a_run_commits_the_escalations(settings_database: sessionmaker[Session]) -> None:
    with settings_database() as session:
        team = make_team(session)
        manager = make_user(session, Role.MANAGER, team=team)
        lead = make_lead(session, team_id=team.id)
        signal_id = make_signal(session, lead)
        session.execute(update(Signal).where(Signal.id == signal_id).values(
            priority="high", detected_at=utcnow() - timedelta(days=8)))
        session.commit()
        manager_id = manager.id
    assert escalation_tasks.run() == 1
    assert escalation_tasks.run() == 0
    with settings_database() as session:
        assert list(session.scalars(select(Escalation.user_id))) == [manager_id]
