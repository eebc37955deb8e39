"""The Celery path for real: a worker process started here (``upswing worker``) takes run ids from the
local Redis and executes them against the same database. A unique queue keeps parallel runs apart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conftest import POSTGRES_ADMIN_URL
from upswing.core import migrate, tasks
from upswing.core.db import get_engine, session_factory
from upswing.core.tasks import TaskRun, enqueue, get_celery_app
from upswing.settings import get_settings

REDIS_URL = os.environ.get("UPSWING_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TESTS_DIR = Path(__file__).resolve().parents[1]


def _redis_problem() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def celery_worker(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    problem = _redis_problem()
    if problem is not None:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({problem}); the Celery test needs it (CI has it)")
    if request.param == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    queue = f"upswing-test-{uuid.uuid4().hex[:12]}"
    env = {
        "UPSWING_DATABASE_URL": fresh_database_url(request.param), "UPSWING_TASK_RUNNER": "celery",
        "UPSWING_CELERY_BROKER_URL": REDIS_URL, "UPSWING_CELERY_QUEUE": queue,
        "UPSWING_TASK_MODULES": '["core.tasks_for_tests"]',
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_celery_app.cache_clear()
    migrate.upgrade(get_engine())
    python_path = os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH")) if p)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-c", "from upswing.cli import main; main()", "worker", "--pool", "solo",
         "--loglevel", "INFO"],
        env={**os.environ, **env, "PYTHONPATH": python_path}, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield session_factory()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        import redis

        redis.Redis.from_url(REDIS_URL).delete(queue, f"{queue}.realtime")
        get_engine().dispose()
        get_settings.cache_clear()
        get_celery_app.cache_clear()
        print((tmp_path / "worker.log").read_text()[-4000:])  # shown when the test fails


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def run_status(factory: sessionmaker[Session], key: str) -> TaskRun | None:
    with factory() as session:
        return session.scalar(select(TaskRun).where(TaskRun.idempotency_key == key))


def test_celery_worker_executes_committed_runs_once(celery_worker: sessionmaker[Session]) -> None:
    import core.tasks_for_tests as test_tasks

    factory = celery_worker
    with factory() as session:
        enqueue(session, "test.record", "rolled-back", key="celery-rolled-back")
        session.rollback()  # never reaches Redis
    with factory() as session:
        run_id = enqueue(session, "test.record", "via-celery", key="celery-once")
        assert enqueue(session, "test.record", "via-celery", key="celery-once") is None
        session.commit()  # only now is the run id sent to Redis
    with factory() as session:
        flaky_id = enqueue(session, "test.flaky", "celery-flaky", 1, key="celery-flaky")
        session.commit()
    assert run_id is not None and flaky_id is not None

    assert wait_for(lambda: (run := run_status(factory, "celery-once")) is not None and run.status == "done")
    run = run_status(factory, "celery-once")
    assert run is not None and run.attempts == 1
    assert test_tasks.effects("via-celery") == 1

    # A duplicate message for the finished run (a redelivery) changes nothing.
    tasks.dispatch([(run_id, "test.record")])
    # The flaky task failed once and was sent back with a countdown; the worker ran it again.
    assert wait_for(lambda: (run := run_status(factory, "celery-flaky")) is not None and run.status == "done")
    flaky = run_status(factory, "celery-flaky")
    assert flaky is not None and flaky.attempts == 2 and "planned failure" in (flaky.last_error or "")
    assert test_tasks.effects("celery-flaky") == 1
    assert test_tasks.effects("via-celery") == 1
    assert run_status(factory, "celery-rolled-back") is None and test_tasks.effects("rolled-back") == 0


def test_scheduler_resends_runs_whose_message_was_lost(celery_worker: sessionmaker[Session],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import core.tasks_for_tests as test_tasks
    from upswing.cli import app

    factory = celery_worker
    with monkeypatch.context() as lost:
        lost.setattr(tasks, "dispatch", lambda run_ids, countdown=None: None)  # the broker "lost" it
        with factory() as session:
            enqueue(session, "test.record", "lost-message", key="celery-lost")
            session.commit()
    time.sleep(1.5)
    assert test_tasks.effects("lost-message") == 0  # queued in the database, unknown to Redis

    result = CliRunner().invoke(app, ["scheduler", "--once", "--resend-after", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "re-sent 1" in result.output
    assert wait_for(lambda: test_tasks.effects("lost-message") == 1)
    # The scheduler also enqueued this period's monitoring run, which the worker executed.
    with factory() as session:
        monitor = session.scalar(select(TaskRun).where(TaskRun.name == "source.monitor"))
    assert monitor is not None
    assert wait_for(lambda: (run := run_status(factory, monitor.idempotency_key)) is not None
                    and run.status == "done")


def test_a_realtime_run_does_not_wait_behind_the_backlog(celery_worker: sessionmaker[Session]) -> None:
    """Alerts have a queue of their own that the worker reads beside the main one: a realtime run queued behind
    a backlog of slow runs is executed within a run or two, not after the whole backlog."""
    factory = celery_worker
    settings = get_settings()
    assert tasks.queue_for("test.urgent", settings) == f"{settings.celery_queue}.realtime"
    assert tasks.queue_for("alerts.send", settings) == f"{settings.celery_queue}.realtime"
    assert tasks.queue_for("events.deliver", settings) == f"{settings.celery_queue}.realtime"
    assert tasks.queue_for("test.slow", settings) == settings.celery_queue
    assert tasks.queue_for("source.run", settings) == settings.celery_queue
    with factory() as session:
        for n in range(12):
            enqueue(session, "test.slow", f"backlog-{n}", key=f"celery-backlog-{n}")
        session.commit()
    time.sleep(0.2)
    with factory() as session:
        enqueue(session, "test.urgent", "urgent", key="celery-urgent")
        session.commit()

    assert wait_for(lambda: (run := run_status(factory, "celery-urgent")) is not None and run.status == "done")
    assert wait_for(lambda: all((run := run_status(factory, f"celery-backlog-{n}")) is not None
                                and run.status == "done" for n in range(12)))
    urgent = run_status(factory, "celery-urgent")
    assert urgent is not None and urgent.finished_at is not None
    before = [n for n in range(12) if (run := run_status(factory, f"celery-backlog-{n}")) is not None
              and run.finished_at is not None and run.finished_at < urgent.finished_at]
    assert len(before) <= 4, f"{len(before)} of 12 backlog runs finished before the realtime run"


def _probe(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=90,  # noqa: S603
                          check=False)


def test_the_deployed_liveness_probes_ping_the_worker(celery_worker: sessionmaker[Session]) -> None:
    """The worker's health checks, exactly as deploy/ writes them (compose and Kubernetes), answer 0 against a
    running ``upswing worker`` and fail when no worker of that name answers (a hung or dead one is restarted)."""
    import yaml

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    compose = yaml.safe_load((deploy / "docker-compose.yml").read_text(encoding="utf-8"))
    kind, compose_command = compose["services"]["worker"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    worker = next(doc for doc in yaml.safe_load_all((deploy / "k8s" / "worker.yaml").read_text(encoding="utf-8"))
                  if doc and doc.get("kind") == "Deployment")
    shell, flag, k8s_command = worker["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["command"]
    assert (shell, flag) == ("sh", "-c")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH")) if p)}
    for command in (compose_command.replace("$$", "$"), k8s_command):  # $$: compose's escape for a literal $
        assert wait_for(lambda c=command: _probe(c, env).returncode == 0, 60), _probe(command, env).stderr[-2000:]
    assert _probe(k8s_command, {**env, "UPSWING_CELERY_QUEUE": "no-such-worker"}).returncode != 0


def test_the_scheduler_reads_when_the_oldest_waiting_message_was_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """``backlog_since`` reads the send time off the oldest message still in a task's Redis queue (what
    ``Resends`` compares a stale run's last send with); an empty queue is ``inf``; what it cannot know is None."""
    import math

    import redis

    from upswing.core.celery_app import EXECUTE_TASK

    problem = _redis_problem()
    if problem is not None:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({problem}); the test needs it (CI has it)")
    queue = f"upswing-test-{uuid.uuid4().hex[:12]}"
    for name, value in {"UPSWING_TASK_RUNNER": "celery", "UPSWING_CELERY_BROKER_URL": REDIS_URL,
                        "UPSWING_CELERY_QUEUE": queue, "UPSWING_TASK_MODULES": '["core.tasks_for_tests"]'}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_celery_app.cache_clear()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        settings = get_settings()
        waiting_since = tasks.backlog_since(settings)
        assert waiting_since("test.slow") == math.inf  # nothing waits
        before = time.time()
        tasks.dispatch([(uuid.uuid4(), "test.slow")])
        middle = time.time()
        tasks.dispatch([(uuid.uuid4(), "test.slow")])
        after = time.time()
        first = waiting_since("test.slow")
        assert first is not None and before <= first <= middle
        assert waiting_since("test.urgent") == math.inf  # the realtime queue is another list, empty
        client.rpop(queue)  # a worker takes the oldest: the next one is now the oldest waiting
        second = waiting_since("test.slow")
        assert second is not None and middle <= second <= after
        client.rpop(queue)
        get_celery_app().send_task(EXECUTE_TASK, args=[str(uuid.uuid4())], queue=queue)  # sent without the header
        assert waiting_since("test.slow") is None
        other_broker = settings.model_copy(update={"celery_broker_url": "amqp://guest:guest@127.0.0.1:5672//"})
        assert tasks.backlog_since(other_broker)("test.slow") is None
    finally:
        client.delete(queue, f"{queue}.realtime")
        client.close()
        get_settings.cache_clear()
        get_celery_app.cache_clear()
