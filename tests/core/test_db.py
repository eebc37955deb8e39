"""core/db's helpers that are not column types (those are exercised by every model's tests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from upswing.core.db import held_until_commit


def test_what_is_held_leaves_when_the_outermost_transaction_commits_and_is_forgotten_when_it_rolls_back() -> None:
    handed: list[list[Any]] = []
    with Session(create_engine("sqlite://")) as session:
        session.begin()
        held = held_until_commit(session, "test.held", list, handed.append)
        held.append("a")
        with session.begin_nested():  # a savepoint released: SQLAlchemy fires after_commit, nothing committed
            held_until_commit(session, "test.held", list, handed.append).append("b")
        with session.begin_nested() as savepoint:  # a savepoint rolled back: the transaction goes on
            savepoint.rollback()
        assert handed == []
        session.commit()
        assert handed == [["a", "b"]] and held == []

        session.begin()
        held_until_commit(session, "test.held", list, handed.append).append("rolled back")
        session.rollback()
        session.begin()
        session.commit()  # the session's next transaction does not hand on what the last one rolled back
        assert handed == [["a", "b"]]


def test_a_set_hands_each_item_once_and_nothing_when_empty() -> None:
    handed: list[set[Any]] = []
    with Session(create_engine("sqlite://")) as session:
        session.begin()
        held_until_commit(session, "test.wakes", set, handed.append).update({1, 2})
        held_until_commit(session, "test.wakes", set, handed.append).update({2, 3})
        session.commit()
        session.begin()
        session.commit()
    assert handed == [{1, 2, 3}]
