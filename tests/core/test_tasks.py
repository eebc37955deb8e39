"""The task layer with the embedded runner, on both databases: runs only after commit, once per
idempotency key, retried with backoff, durable across a restart, and scheduled once per period."""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from upswing.core import tasks
from upswing.core.tasks import EmbeddedRunner, TaskRun, TaskStatus, enqueue


@pytest.fixture
def test_tasks() -> ModuleType:
    import core.tasks_for_tests

    return core.tasks_for_tests


def runs(factory: sessionmaker[Session]) -> list[TaskRun]:
    with factory() as session:
        return list(session.scalars(select(TaskRun).order_by(TaskRun.created_at)))


def test_task_runs_only_after_its_transaction_commits(settings_database: sessionmaker[Session],
                                                      test_tasks: ModuleType) -> None:
    runner = EmbeddedRunner(factory=settings_database, with_schedule=False)

    with settings_database() as session:
        enqueue(session, "test.record", "rolled-back", key="k-rolled-back")
        assert runner.run_pending() == []  # not committed: no runner can see it
        session.rollback()
    assert runner.run_pending() == [] and runs(settings_database) == []

    with settings_database() as session:
        run_id = enqueue(session, "test.record", "committed", key="k-committed")
        assert runner.run_pending() == []
        assert test_tasks.effects("committed") == 0
        session.commit()
    outcomes = runner.run_pending()
    assert [o.status for o in outcomes] == ["done"]
    assert test_tasks.effects("committed") == 1
    (run,) = runs(settings_database)
    assert (run.id, run.status, run.attempts, run.locked_by) == (run_id, "done", 1, None)
    assert runner.run_pending() == []  # done stays done


def test_a_run_whose_message_may_still_wait_in_the_queue_is_not_sent_again() -> None:
    """With a backlog, a run sent after the oldest message still waiting is behind it, not lost: re-sending it
    would only add a repeat (at a million leads, ~16 per monitoring run). A run sent before it was taken from the
    queue, yet is still queued: its message was lost, and it is re-sent; so is every stale run of an empty queue.
    A run's send time is known only roughly (when it fell due; its transaction commits later), hence the slack of
    one interval."""
    lost, waiting = _stale("source.run", 600), _stale("source.run", 1100)
    realtime = _stale("alerts.send", 1100)
    oldest = {"source.run": 1000.0, "alerts.send": math.inf}  # the realtime queue is empty
    resends = tasks.Resends(every=300)
    assert resends.due([lost, waiting, realtime], now=1500, waiting_since=oldest.get) == [lost[:2], realtime[:2]]
    # Written 90 s before the oldest waiting message went out (a long transaction): may be that very batch.
    batch = _stale("source.run", 910)
    assert resends.due([lost, batch], now=1501, waiting_since=oldest.get) == []  # lost: re-sent a second ago
    # The re-sent message waits behind the backlog in turn: not sent again while older messages wait...
    oldest["source.run"] = 1700.0
    assert resends.due([lost], now=1900, waiting_since=oldest.get) == []
    # ...and sent again once the queue has moved an interval past it while the run is still queued (lost again).
    oldest["source.run"] = 1801.0
    assert resends.due([lost], now=2000, waiting_since=oldest.get) == [lost[:2]]
    # Not known (another broker, older messages): once per interval, as above.
    assert resends.due([waiting], now=3000, waiting_since=lambda _name: None) == [waiting[:2]]


def test_a_run_is_handed_to_the_runner_when_the_transaction_commits_not_before(
        settings_database: sessionmaker[Session], test_tasks: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy calls after_commit when a savepoint is released too, and ``enqueue`` makes one: the run was sent
    to Celery before its row was committed, a worker could take it first, find no run, and drop the message
    (found at 100k leads: 203 of 1,000 runs queued for good until the scheduler's re-send)."""
    sent: list[tuple[uuid.UUID, str]] = []
    monkeypatch.setattr(tasks, "dispatch", lambda runs, countdown=None: sent.extend(runs))
    with settings_database() as session:
        run_id = enqueue(session, "test.record", "sent-after-commit", key="k-after-commit")
        assert sent == []
        with session.begin_nested():  # the caller's own savepoints do not commit it either
            other = enqueue(session, "test.record", "sent-after-commit-2", key="k-after-commit-2")
        assert sent == []
        session.commit()
    assert sent == [(run_id, "test.record"), (other, "test.record")]
    with settings_database() as session:
        enqueue(session, "test.record", "rolled-back", key="k-rolled-back-later")
        session.rollback()
        session.commit()  # the same session's next transaction does not send the rolled-back run
    assert len(sent) == 2


def test_same_idempotency_key_runs_once(settings_database: sessionmaker[Session],
                                        test_tasks: ModuleType) -> None:
    with settings_database() as session:
        first = enqueue(session, "test.record", "once", key="same-key")
        again = enqueue(session, "test.record", "once", key="same-key")  # same transaction
        session.commit()
    with settings_database() as session:
        later = test_tasks.record.enqueue(session, "once", key="same-key")  # a later transaction
        session.commit()
    assert first is not None and again is None and later is None
    EmbeddedRunner(factory=settings_database, with_schedule=False).run_pending()
    assert test_tasks.effects("once") == 1 and len(runs(settings_database)) == 1
    # Executing the finished run again (a duplicate Celery message, say) does nothing.
    assert tasks.execute(first, worker="another", factory=settings_database).status == "skipped"
    assert test_tasks.effects("once") == 1


def test_failed_attempts_are_retried_then_given_up(settings_database: sessionmaker[Session],
                                                   test_tasks: ModuleType) -> None:
    runner = EmbeddedRunner(factory=settings_database, with_schedule=False)
    with settings_database() as session:
        enqueue(session, "test.flaky", "recovers", 2, key="flaky-recovers")
        enqueue(session, "test.flaky", "gives-up", 5, key="flaky-gives-up")
        session.commit()
    for _ in range(5):  # retry_delay 0: each pass runs what is due again
        runner.run_pending()
    by_key = {run.idempotency_key: run for run in runs(settings_database)}
    recovered, given_up = by_key["flaky-recovers"], by_key["flaky-gives-up"]
    assert (recovered.status, recovered.attempts) == ("done", 3)
    assert test_tasks.effects("recovers") == 1
    assert (given_up.status, given_up.attempts) == ("failed", 3)
    assert "planned failure of gives-up" in (given_up.last_error or "")
    assert test_tasks.effects("gives-up") == 0


def test_retry_waits_with_exponential_backoff(settings_database: sessionmaker[Session], test_tasks: ModuleType,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(tasks._TASKS, "test.flaky",
                        tasks.Task("test.flaky", test_tasks.flaky.fn, max_attempts=3, retry_delay=timedelta(minutes=1)))
    with settings_database() as session:
        run_id = enqueue(session, "test.flaky", "slow-retry", 5, key="slow-retry")
        session.commit()
    assert run_id is not None
    before = datetime.now(UTC)
    first = tasks.execute(run_id, worker="w", factory=settings_database)
    assert first.status == "retry" and first.retry_in == 60
    assert EmbeddedRunner(factory=settings_database, with_schedule=False).run_pending() == []  # not due yet
    with settings_database() as session:
        run = session.get(TaskRun, run_id)
        assert run is not None and run.status == "queued" and run.run_after >= before + timedelta(seconds=59)
        session.execute(update(TaskRun).values(run_after=before))  # time passes
        session.commit()
    assert tasks.execute(run_id, worker="w", factory=settings_database).retry_in == 120  # doubled


def test_queued_and_abandoned_runs_survive_a_restart(settings_database: sessionmaker[Session],
                                                     test_tasks: ModuleType) -> None:
    with settings_database() as session:
        enqueue(session, "test.record", "queued-before-restart", key="k-queued")
        crashed = enqueue(session, "test.record", "worker-died", key="k-crashed")
        session.commit()
        # A worker claimed this one and died: its lease ran out.
        session.execute(update(TaskRun).where(TaskRun.id == crashed).values(
            status=TaskStatus.RUNNING.value, attempts=1, locked_by="dead-worker",
            locked_until=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    fresh_runner = EmbeddedRunner(factory=settings_database, with_schedule=False)  # a new process
    assert sorted(o.status for o in fresh_runner.run_pending()) == ["done", "done"]
    assert test_tasks.effects("queued-before-restart") == 1 and test_tasks.effects("worker-died") == 1


def test_a_claimed_run_is_not_executed_twice(settings_database: sessionmaker[Session],
                                             test_tasks: ModuleType) -> None:
    with settings_database() as session:
        run_id = enqueue(session, "test.record", "claimed", key="k-claimed")
        session.commit()
        session.execute(update(TaskRun).where(TaskRun.id == run_id).values(
            status=TaskStatus.RUNNING.value, attempts=1, locked_by="busy-worker",
            locked_until=datetime.now(UTC) + timedelta(minutes=10)))
        session.commit()
    assert run_id is not None
    assert tasks.execute(run_id, worker="me", factory=settings_database).status == "skipped"
    assert test_tasks.effects("claimed") == 0


def test_runner_thread_is_woken_by_the_commit(settings_database: sessionmaker[Session],
                                              test_tasks: ModuleType) -> None:
    runner = EmbeddedRunner(factory=settings_database, poll_seconds=60, with_schedule=False).start()
    try:
        time.sleep(0.2)  # the thread is now waiting up to 60 s
        with settings_database() as session:
            enqueue(session, "test.record", "woken", key="k-woken")
            session.commit()
        deadline = time.monotonic() + 15
        while test_tasks.effects("woken") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert test_tasks.effects("woken") == 1
    finally:
        runner.stop()
    assert not any(t.name.startswith("upswing-tasks") and t.is_alive() for t in threading.enumerate())


def test_runner_threads_run_different_tasks_at_once_never_one_task_twice(
        settings_database: sessionmaker[Session], test_tasks: ModuleType) -> None:
    """Two threads: a quick run is not held up behind a row of slow ones (it runs beside them), and two runs of
    one task never overlap (a second sender beside the first would only split the same queue)."""
    with settings_database() as session:
        for n in range(3):
            enqueue(session, "test.slow", f"slow-{n}", key=f"k-slow-{n}")
        session.commit()
    with settings_database() as session:
        enqueue(session, "test.record", "quick", key="k-quick")
        session.commit()
    runner = EmbeddedRunner(factory=settings_database, poll_seconds=0.1, with_schedule=False, threads=2).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
                test_tasks.effects(label) == 1 for label in ("slow-0", "slow-1", "slow-2", "quick")):
            time.sleep(0.05)
    finally:
        runner.stop()
    done = {run.idempotency_key: run for run in runs(settings_database)}
    assert all(run.status == "done" for run in done.values()), {k: r.status for k, r in done.items()}
    slow = sorted((done[f"k-slow-{n}"] for n in range(3)), key=lambda run: run.started_at or datetime.min)
    for earlier, later in itertools.pairwise(slow):
        assert earlier.finished_at is not None and later.started_at is not None
        assert earlier.finished_at <= later.started_at  # one test.slow at a time
    quick = done["k-quick"]
    assert quick.finished_at is not None and slow[-1].finished_at is not None
    assert quick.finished_at < slow[1].started_at  # beside the first slow run, not after the row of them
    assert not any(t.name.startswith("upswing-tasks") and t.is_alive() for t in threading.enumerate())


def test_schedules_enqueue_once_per_period(settings_database: sessionmaker[Session]) -> None:
    monitor = next(s for s in tasks.schedules() if s.task_name == "source.monitor")
    assert monitor.every == timedelta(minutes=15)
    now = datetime(2026, 11, 22, 9, 3, tzinfo=UTC)
    with settings_database() as session:
        first = tasks.enqueue_schedules(session, now)
        again = tasks.enqueue_schedules(session, now + timedelta(minutes=5))  # same quarter hour
        session.commit()
    with settings_database() as session:
        next_period = tasks.enqueue_schedules(session, now + timedelta(minutes=15))
        session.commit()
    # Five minutes later only schedules shorter than five minutes (the outbox sweep) are due again.
    short = [s for s in tasks.schedules() if s.every <= timedelta(minutes=5)]
    assert len(first) == len(tasks.schedules()) and len(again) == len(short)
    # A quarter of an hour later: the quarter-hourly monitor and the short ones, not the daily purge.
    assert len(next_period) == 1 + len(short)
    names = [run.name for run in runs(settings_database)]
    assert names.count("source.monitor") == 2 and names.count("tasks.purge") == 1


def test_enqueue_refuses_unknown_tasks_and_non_json_arguments(settings_database: sessionmaker[Session]) -> None:
    with settings_database() as session:
        with pytest.raises(KeyError, match=r"no task 'nope\.nothing'"):
            enqueue(session, "nope.nothing", key="x")
        with pytest.raises(TypeError, match="takes ids and plain values"):
            enqueue(session, "source.run", object(), key="y")


def test_finished_runs_are_purged_after_their_time(settings_database: sessionmaker[Session],
                                                   test_tasks: ModuleType) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    with settings_database() as session:
        for key, status in (("old-done", "done"), ("old-failed", "failed"), ("new-done", "done"), ("queued", "queued")):
            run_id = enqueue(session, "test.record", key, key=key)
            session.flush()
            finished = old if key.startswith("old") else datetime.now(UTC)
            session.execute(update(TaskRun).where(TaskRun.id == run_id).values(
                status=status, finished_at=None if status == "queued" else finished))
        session.commit()
    assert tasks.purge_finished() == 1
    assert sorted(run.idempotency_key for run in runs(settings_database)) == ["new-done", "old-failed", "queued"]


def test_worker_embedded_once_runs_what_is_due(cli: Callable[..., object]) -> None:
    assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    result = cli("worker", "--embedded", "--once")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "task run(s): done" in result.output  # type: ignore[attr-defined]  # this period's schedules
    again = cli("worker", "--embedded", "--once")
    assert "0 task run(s)" in again.output  # type: ignore[attr-defined]


def _stale(name: str, due_at: float) -> tuple[uuid.UUID, str, datetime]:
    return uuid.uuid4(), name, datetime.fromtimestamp(due_at, UTC)


def test_the_scheduler_resends_a_stale_run_once_per_interval() -> None:
    """Where the broker cannot say what still waits, a run still queued after its re-send is sent again only
    after another interval, not at every look (which filled a 100k-lead cycle's queue with 22,000 repeats)."""
    first, second = _stale("source.run", 500), _stale("alerts.send", 500)
    sent = [run[:2] for run in (first, second)]
    resends = tasks.Resends(every=300)
    assert resends.due([first], now=1000) == [sent[0]]
    assert resends.due([first, second], now=1005) == [sent[1]]  # first was re-sent 5 s ago
    assert resends.due([first, second], now=1299) == []
    assert resends.due([first, second], now=1300) == [sent[0]]
    assert resends.due([second], now=1305) == [sent[1]]  # first ran: forgotten
    assert resends.due([first], now=1306) == [sent[0]]  # queued again later (a retry): a new run of re-sends
