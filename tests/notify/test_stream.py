"""The live stream's wake-ups (notify/stream.py): subscribers are woken when the transaction that wrote their
events commits, not before (they would read nothing yet and then wait for the next wake-up)."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from upswing.notify import stream


def test_subscribers_are_woken_when_the_transaction_commits_not_when_a_savepoint_is_released() -> None:
    woken: list[uuid.UUID] = []
    stream.BROADCASTER.add_listener(woken.append)
    user = uuid.uuid4()
    engine = create_engine("sqlite://")
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            stream._wake_later(session, [user])
            with session.begin_nested():  # after_commit fires for a released savepoint too
                session.execute(text("SELECT 2"))
            assert woken == []
            session.commit()
        assert woken == [user]
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            stream._wake_later(session, [user])
            session.rollback()
            session.commit()
        assert woken == [user]  # a rolled-back transaction wakes nobody
    finally:
        stream.BROADCASTER.remove_listener(woken.append)
        engine.dispose()
