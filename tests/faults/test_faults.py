"""Fault injection with real processes: a monitoring cycle (ingest through the fake Apify → signals → alerts
through the outbox → e-mail at the fake Brevo, notes at the fake HubSpot) run by ``upswing worker`` processes on
Celery, while we SIGKILL a worker, restart Redis, restart PostgreSQL. Afterwards every observation, signal,
alert, delivery, e-mail and CRM note is there exactly once, counted against the ground truth the seeded profiles
imply (one of each per lead).

Nothing shared is touched: PostgreSQL is a private instance (``initdb`` in a temporary directory, its own port)
and Redis a private ``redis-server`` (its own port), both started, restarted and stopped here. The tests run in
the ``faults`` step of ``make test`` (serially, after the main suite: ``pytest -m faults -p no:xdist``).

Waiting out leases: a dead worker's claim on a run is taken over when its lease expires (``source.run``: 2 hours)
and a failed run is retried after its back-off (minutes). When the cycle stops progressing, ``fast_forward`` moves
those deadlines into the past, which is what waiting would do; the takeover is the production code's.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from conftest import POSTGRES_ADMIN_URL

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _cycle as cycle

pytestmark = [pytest.mark.faults, pytest.mark.slow]

LEADS = 60
CHUNK = 5  # leads per source.run: 12 runs per cycle


def _unavailable() -> str | None:
    if POSTGRES_ADMIN_URL is None:
        return "PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set (the fault tests are PostgreSQL-only)"
    if cycle.postgres_bin() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) for a private instance"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


@dataclass
class Stack:
    pg: cycle.PrivatePostgres
    redis: cycle.PrivateRedis
    fakes: cycle.Fakes
    root: Path
    template: str


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    problem = _unavailable()
    if problem:
        pytest.skip(problem)
    root = Path(tempfile.mkdtemp(prefix="upswing-faults-"))
    root.chmod(0o755)  # the private PostgreSQL runs as the postgres user when we are root
    pg = cycle.PrivatePostgres(root / "pg").init().start()
    redis = cycle.PrivateRedis(root / "redis").start()
    fakes = cycle.Fakes.start()
    try:
        # The schema once, as a template: each test's database is a copy (seconds less per test).
        from upswing.core import migrate
        from upswing.core.db import make_engine

        url = pg.create_database("cycle_template")
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield Stack(pg, redis, fakes, root, "cycle_template")
    finally:
        fakes.stop()
        redis.kill()
        pg.destroy()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Cycle:
    stack: Stack
    factory: sessionmaker[Session]
    env: dict[str, str]
    logs: Path
    portfolio_id: uuid.UUID
    ids: list[uuid.UUID]
    procs: list[cycle.Proc]

    def worker(self, name: str) -> cycle.Proc:
        proc = cycle.worker(name, self.env, self.logs).start()
        self.procs.append(proc)
        return proc

    def scheduler(self) -> cycle.Proc:
        proc = cycle.scheduler(self.env, self.logs).start()
        self.procs.append(proc)
        return proc

    def note(self, message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)

    def tally(self) -> cycle.Tally:
        return cycle.count(self.factory, self.stack.fakes, self.portfolio_id, LEADS)

    def settle(self, timeout: float = 90.0) -> cycle.Tally:
        """Wait for the ground truth; when nothing moves for a few seconds, fast-forward leases and back-offs."""
        deadline = time.monotonic() + timeout
        last: tuple[int, ...] | None = None
        still_since = time.monotonic()
        tally = self.tally()
        while time.monotonic() < deadline:
            tally = self.tally()
            if tally.complete():
                self.note(f"complete: {tally.counts}")
                time.sleep(2.0)  # a late repeat (a re-run of something already done) would show now
                return self.tally()
            signature = tuple(tally.counts.values())
            if signature != last:
                last, still_since = signature, time.monotonic()
            elif time.monotonic() - still_since > 3.0:
                moved = cycle.fast_forward(self.factory)
                self.note(f"still at {tally.counts}: fast-forward {moved}")
                still_since = time.monotonic()
            time.sleep(0.3)
        return tally

    def describe(self) -> str:
        parts = [f"--- {p.name} ({'alive' if p.alive() else 'exited'}):\n{p.tail(8)}" for p in self.procs]
        try:
            parts.append(f"--- rows: {cycle.state(self.factory)}")
        except Exception as exc:  # the database may be the thing that is down
            parts.append(f"--- rows: {type(exc).__name__}")
        return "\n".join(parts)


@pytest.fixture
def run(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cycle]:
    from upswing.core.db import make_engine, session_factory
    from upswing.core.tasks import get_celery_app
    from upswing.settings import get_settings

    name = f"cycle_{uuid.uuid4().hex[:8]}"
    admin = create_engine(stack.pg.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{stack.template}"'))
    admin.dispose()
    url = stack.pg.url(name)
    logs = stack.root / name
    logs.mkdir()
    queue = f"upswing-faults-{uuid.uuid4().hex[:8]}"
    env = cycle.environment(url, stack.redis.url, queue, stack.fakes, logs, cycle.new_keys(),
                            UPSWING_ALERT_DELIVERY_LEASE_SECONDS="2")
    for key, value in env.items():
        if key.startswith("UPSWING_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    get_celery_app.cache_clear()
    for fake in (stack.fakes.apify, stack.fakes.brevo, stack.fakes.hubspot):
        fake.clear_faults()
    stack.fakes.brevo.reset()  # messages of an earlier test must not satisfy this one's waits
    engine = make_engine(url)
    factory = session_factory(engine)
    seeded = cycle.seed(factory, stack.fakes, LEADS, agents=6, batch_size=CHUNK, run=name[-8:])
    current = Cycle(stack, factory, env, logs, seeded["portfolio_id"],
                    cycle.lead_ids(factory, seeded["portfolio_id"]), [])
    try:
        yield current
    finally:
        print(current.describe())
        for proc in current.procs:
            proc.kill()  # throw-away processes: no warm shutdown to wait for  # shown when the test fails
        engine.dispose()
        get_settings.cache_clear()
        get_celery_app.cache_clear()


def _running_by(factory: sessionmaker[Session], pid: int, task: str) -> int:
    with factory() as session:
        return int(session.scalar(text(
            "SELECT count(*) FROM task_runs WHERE status = 'running' AND name = :n AND locked_by LIKE :w"),
            {"n": task, "w": f"%:{pid}:%"}) or 0)


def _assert_exact(tally: cycle.Tally, current: Cycle) -> None:
    summary = tally.as_dict()
    assert tally.total_lost == 0, f"lost: {summary}\n{current.describe()}"
    assert tally.total_duplicated == 0, f"duplicated: {summary}\n{current.describe()}"
    assert tally.counts["observations"] == LEADS and tally.counts["signals"] == LEADS
    assert tally.counts["alerts"] == LEADS and tally.counts["crm_notes"] == LEADS
    assert tally.extra["failed_task_runs"].get("source.run", 0) == 0, summary
    # An e-mail sent again after its sender died before recording it carries the first send's Message-ID and
    # idempotency key: the provider drops it (the fake flags it as a repeat), the recipient gets one message.
    assert tally.extra["email_resent_same_message_id"] == tally.extra["email_repeats_recognised"], summary


def _slow(fake: Any, route: str, seconds: float) -> None:
    from upswing.fakes.server import Fault

    fake.inject(route, Fault.slow(seconds), times=100_000)


def _unslow(fake: Any) -> None:
    fake.clear_faults()


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(run: Cycle) -> None:
    fakes = run.stack.fakes
    _slow(fakes.apify, "run-sync", 0.4)  # an actor run takes a while: the kill lands inside one
    _slow(fakes.brevo, "send-email", 0.05)
    try:
        first = run.worker("worker-1")
        run.scheduler()
        assert cycle.enqueue_cycle(run.factory, run.ids, chunk=CHUNK, tag="kill") == LEADS // CHUNK
        assert cycle.wait_until(lambda: _running_by(run.factory, first.pid, "source.run") > 0
                                and run.tally().counts["observations"] >= CHUNK, 60, 0.05), run.describe()
        run.note(f"killing worker-1: {run.tally().counts}")
        first.kill()  # SIGKILL in the middle of a source.run (its claim and its Celery message left behind)
        killed_during = run.tally().counts["observations"]
        assert killed_during < LEADS
        second = run.worker("worker-2")
        run.worker("worker-3")
        # Kill again while alerts are being sent (the alert sender's batch in hand).
        assert cycle.wait_until(lambda: len(fakes.brevo.messages) >= 3, 90, 0.05), run.describe()
        run.note(f"killing worker-2: {run.tally().counts}")
        second.kill()
        run.worker("worker-4")
        tally = run.settle()
    finally:
        _unslow(fakes.apify)
        _unslow(fakes.brevo)
    _assert_exact(tally, run)


def test_redis_restart_loses_no_queued_work(run: Cycle) -> None:
    fakes = run.stack.fakes
    _slow(fakes.apify, "run-sync", 0.3)
    try:
        run.worker("worker-1")
        run.worker("worker-2")
        run.scheduler()
        cycle.enqueue_cycle(run.factory, run.ids, chunk=CHUNK, tag="redis")
        assert cycle.wait_until(lambda: run.tally().counts["observations"] >= CHUNK, 60, 0.05), run.describe()
        depth = run.stack.redis.depth(run.env["UPSWING_CELERY_QUEUE"])
        run.note(f"restarting Redis (queue depth {depth}): {run.tally().counts}")
        run.stack.redis.restart(down_seconds=2.0)  # every queued message is gone with it
        assert run.tally().counts["observations"] < LEADS, "the cycle finished before the restart"
        tally = run.settle()
    finally:
        _unslow(fakes.apify)
    _assert_exact(tally, run)
    assert depth != 0  # there were messages in Redis when it went away


def test_postgres_restart_during_ingest_and_alert_delivery(run: Cycle) -> None:
    fakes = run.stack.fakes
    _slow(fakes.apify, "run-sync", 0.3)
    _slow(fakes.brevo, "send-email", 0.05)
    try:
        run.worker("worker-1")
        run.worker("worker-2")
        run.scheduler()
        cycle.enqueue_cycle(run.factory, run.ids, chunk=CHUNK, tag="pg")
        assert cycle.wait_until(lambda: run.tally().counts["observations"] >= CHUNK, 60, 0.05), run.describe()
        run.note(f"restarting PostgreSQL: {run.tally().counts}")
        run.stack.pg.restart(down_seconds=2.0)  # ingest in flight: sessions cut, commits refused
        ingest_after = run.tally().counts["observations"]
        assert ingest_after < LEADS, "the ingest finished before the restart"
        assert cycle.wait_until(lambda: len(fakes.brevo.messages) >= 3
                                and run.tally().counts["deliveries_email_sent"] < LEADS, 90, 0.05), run.describe()
        run.note(f"restarting PostgreSQL again: {run.tally().counts}")
        run.stack.pg.restart(down_seconds=2.0)  # alert delivery in flight
        tally = run.settle(timeout=120)
    finally:
        _unslow(fakes.apify)
        _unslow(fakes.brevo)
    _assert_exact(tally, run)
