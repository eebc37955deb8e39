"""The event outbox on both databases: events exist exactly when their cause committed, every subscribed consumer
gets each one once, failures retry then show, and a consumer killed mid-batch (a real second process, kill -9)
resumes with no event lost or handled twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from upswing.core import health, outbox
from upswing.core.outbox import OutboxEvent, OutboxReceipt, ReceiptStatus
from upswing.core.tasks import TaskRun
from upswing.settings import get_settings

TESTS_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def consumers(settings_database: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("UPSWING_TASK_MODULES", '["core.consumers_for_tests"]')
    get_settings.cache_clear()
    import core.consumers_for_tests

    yield core.consumers_for_tests
    get_settings.cache_clear()


def emit(factory: sessionmaker[Session], event_type: str, count: int = 1, **payload: object) -> list[str]:
    with factory() as session:
        ids = outbox.emit_many(session, [outbox.NewEvent(event_type, "test", f"entity-{n}", payload=payload)
                                         for n in range(count)])
        session.commit()
    return [str(i) for i in ids]


def receipts(factory: sessionmaker[Session], consumer: str) -> dict[str, str]:
    with factory() as session:
        return {str(event_id): status for event_id, status in session.execute(
            select(OutboxReceipt.event_id, OutboxReceipt.status).where(OutboxReceipt.consumer == consumer))}


def test_events_are_written_with_their_cause_and_given_to_each_consumer_once(
        settings_database: sessionmaker[Session], consumers: ModuleType) -> None:
    with settings_database() as session:  # rolled back: no event, no receipt, no delivery run
        outbox.emit(session, consumers.PING, entity_type="test", entity_id="gone")
        session.rollback()
    with settings_database() as session:
        assert session.scalars(select(OutboxEvent)).all() == []
        assert session.scalars(select(TaskRun).where(TaskRun.name == outbox.DELIVER_TASK)).all() == []

    ids = emit(settings_database, consumers.PING, 3)
    with settings_database() as session:  # a delivery run is queued by the same commit
        assert session.scalars(select(TaskRun.name).where(TaskRun.name == outbox.DELIVER_TASK)).all() != []
    assert receipts(settings_database, "test.ping_counter") == dict.fromkeys(ids, "pending")

    report = outbox.deliver_pending(settings_database, consumers=["test.ping_counter", "test.ping_second"])
    assert report.done == 6
    assert consumers.handled() == dict.fromkeys(ids, 2)  # two consumers, each once
    assert outbox.deliver_pending(settings_database).done == 0  # nothing is handed out twice
    assert consumers.handled() == dict.fromkeys(ids, 2)
    assert set(receipts(settings_database, "test.ping_second").values()) == {"done"}


def test_a_failing_consumer_retries_then_shows_the_failure(settings_database: sessionmaker[Session],
                                                           consumers: ModuleType) -> None:
    [bad] = emit(settings_database, consumers.FAILING, fail=True)
    [good] = emit(settings_database, consumers.FAILING, fail=False)

    # No retry delay for this consumer: the retry comes in the same pass, and with it the last attempt.
    report = outbox.deliver_pending(settings_database, consumers=["test.failing"])
    assert (report.done, report.retried, report.failed) == (1, 1, 1)
    assert receipts(settings_database, "test.failing") == {bad: "failed", good: "done"}
    assert consumers.handled() == {good: 1}  # the failed attempts' effects were rolled back
    with settings_database() as session:
        [status] = [s for s in outbox.status(session) if s.consumer == "test.failing"]
        assert (status.pending, status.failed) == (0, 1)
        failed = session.get(OutboxReceipt, (outbox_uuid(bad), "test.failing"))
        assert failed is not None and "planned failure" in (failed.last_error or "")
        assert outbox.retry_failed(session, "test.failing") == 1
        session.commit()
    assert receipts(settings_database, "test.failing")[bad] == ReceiptStatus.PENDING.value


def test_a_batch_consumer_commits_many_events_at_once_and_isolates_a_bad_one(
        settings_database: sessionmaker[Session], consumers: ModuleType) -> None:
    good = emit(settings_database, consumers.BATCHED, 12)
    [bad] = emit(settings_database, consumers.BATCHED, fail=True)
    report = outbox.deliver_pending(settings_database, consumers=["test.batched"])
    # The batch holding the bad event was rolled back and replayed one event at a time: the good ones are done
    # once, the bad one failed after its attempts, and its effect never committed.
    assert (report.done, report.failed) == (12, 1)
    assert consumers.handled() == dict.fromkeys(good, 1)
    assert receipts(settings_database, "test.batched") == {**dict.fromkeys(good, "done"), bad: "failed"}


def outbox_uuid(value: str) -> object:
    import uuid

    return uuid.UUID(value)


def _consumer_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    code = ("from upswing.core import outbox; "
            "print(outbox.deliver_pending(consumers=['test.slow'], batch=10), flush=True)")
    python_path = os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH")) if p)
    return subprocess.Popen([sys.executable, "-c", code],  # noqa: S603 - our own interpreter and code
                            env={**os.environ, **env, "PYTHONPATH": python_path},
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def test_a_consumer_killed_mid_batch_loses_nothing_and_repeats_nothing(
        settings_database: sessionmaker[Session], consumers: ModuleType, tmp_path: Path) -> None:
    ids = emit(settings_database, consumers.SLOW, 40, sleep=0.1)
    env = {"UPSWING_DATABASE_URL": get_settings().sqlalchemy_url,
           "UPSWING_TASK_MODULES": '["core.consumers_for_tests"]'}
    worker = _consumer_process(env, tmp_path / "consumer.log")
    deadline = time.monotonic() + 60
    while len(consumers.handled()) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # mid-batch: it holds claimed receipts and an open transaction
    worker.wait(timeout=10)
    done_before_kill = len(consumers.handled())
    assert 8 <= done_before_kill < len(ids), (tmp_path / "consumer.log").read_text()
    with settings_database() as session:  # what it had claimed but not finished is still pending
        claimed = session.scalars(select(OutboxReceipt).where(OutboxReceipt.consumer == "test.slow",
                                                              OutboxReceipt.status == "pending")).all()
        assert claimed and any(r.locked_by is not None for r in claimed)

    time.sleep(2.2)  # the dead worker's lease (2 s for this consumer) runs out
    report = outbox.deliver_pending(settings_database, consumers=["test.slow"])

    assert report.done == len(ids) - done_before_kill
    assert consumers.handled() == dict.fromkeys(ids, 1)  # every event handled, none twice
    assert set(receipts(settings_database, "test.slow").values()) == {"done"}


def test_the_events_command_shows_consumers_and_delivers(cli: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    status = cli("events", "status")
    assert status.exit_code == 0 and "resolution.learn_non_match" in status.output
    delivered = cli("events", "deliver")
    assert delivered.exit_code == 0 and "0 delivered" in delivered.output
    assert "0 event(s) queued again" in cli("events", "retry-failed").output


def test_claims_and_the_lag_read_receipts_in_event_order_from_the_index(
        settings_database: sessionmaker[Session], consumers: ModuleType) -> None:
    # With the receipts indexed by (consumer, status, run_after), every claim read all of a consumer's pending
    # receipts and sorted them (113 ms per claim at a 384,000-receipt backlog); in event order it stops at its
    # batch. Seen in the plans: no sort for the claim, the first index entry for the lag.
    emit(settings_database, consumers.PING, count=3)
    engine = settings_database.kw["bind"]
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "outbox_receipts" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        claimed = outbox._claim(settings_database, outbox.registered_consumers()["test.ping_counter"], "w", 2)
        with engine.connect() as connection:
            assert health._outbox_lag(connection, 3600)[0] is True
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(claimed) == 2
    claim = next(s for s in statements if "ORDER BY" in s[0])
    lag = next(s for s in statements if "min(" in s[0].lower())
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a 3-row table is otherwise read whole
            cursor.execute("EXPLAIN " + claim[0], claim[1])
            claim_plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("EXPLAIN " + lag[0], lag[1])
            lag_plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in claim_plan and "ix_outbox_receipts_consumer_status_event_at" in claim_plan
            assert "Index Only Scan" in lag_plan and "ix_outbox_receipts_consumer_status_event_at" in lag_plan
        else:
            plans = []
            for statement, parameters in (claim, lag):
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
            assert "TEMP B-TREE" not in plans[0] and "ix_outbox_receipts_consumer_status_event_at" in plans[0]
            assert "ix_outbox_receipts_consumer_status_event_at" in plans[1]
