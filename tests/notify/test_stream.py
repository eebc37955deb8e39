"""The live stream's wake-ups (notify/stream.py): subscribers are woken when the transaction that wrote their
events commits, not before (they would read nothing yet and then wait for the next wake-up)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from factories import make_user
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


def _other_may_lock(session: Session, user: uuid.UUID) -> bool:
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:namespace, hashtext(:user))"),
                               {"namespace": stream._LOCK_NAMESPACE, "user": str(user)}))


def test_every_users_stream_lock_is_held_until_the_transaction_ends(
        settings_database: sessionmaker[Session]) -> None:
    # Taken for many users in one statement: each one's, not only the first's, and released by the commit.
    if settings_database.kw["bind"].dialect.name != "postgresql":
        pytest.skip("stream locks are PostgreSQL's (SQLite has one writer at a time)")
    users = [uuid.uuid4() for _ in range(5)]
    with settings_database() as holder, settings_database() as other:
        stream.lock_streams(holder, users)
        assert [_other_may_lock(other, user) for user in users] == [False] * 5
        assert _other_may_lock(other, uuid.uuid4())
        other.rollback()
        holder.commit()
        assert all(_other_may_lock(other, user) for user in users)
        other.rollback()


def test_listeners_hear_of_every_user_with_new_events_once_committed(
        settings_database: sessionmaker[Session]) -> None:
    if settings_database.kw["bind"].dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's (SQLite's stream polls)")
    with settings_database() as session:
        users = [make_user(session) for _ in range(3)]
        session.commit()
        user_ids = [user.id for user in users]
    url = settings_database.kw["bind"].url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {stream.CHANNEL}")
        with settings_database() as session:
            stream.publish_many(session, [(user_id, "alert.created", {"n": n}) for n, user_id in enumerate(user_ids)]
                                + [(user_ids[0], "alert.updated", {})])
            assert list(listener.notifies(timeout=0.3)) == []  # nothing before the commit
            session.commit()
        heard = [note.payload for note in listener.notifies(timeout=2, stop_after=3)]
    assert sorted(heard) == sorted(str(user_id) for user_id in user_ids)
