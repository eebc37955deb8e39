"""Background tasks: one interface, two runners.

A task is a named function that takes ids (JSON values, never ORM objects)::

    @scheduled(every=timedelta(minutes=15))
    @task("source.monitor")
    def monitor() -> None: ...

``enqueue(session, "source.run", "apify-linkedin", key="source.run:apify-linkedin@2026-11-22")`` writes a
durable ``task_runs`` row in the caller's transaction; duplicates by idempotency key are ignored. Only after
that transaction commits is the run handed to the configured runner (``UPSWING_TASK_RUNNER``):

- ``embedded`` (default): an in-process thread (``upswing serve``) or ``upswing worker --embedded`` reads the
  table, so queued work survives a restart;
- ``celery``: the run id is sent to Redis; ``upswing worker`` (a Celery worker) executes it.

Both runners call ``execute(run_id)``: it claims the row atomically (a run is executed by one worker at a
time; a crashed worker's claim expires after the task's lease), runs the function, and records ``done`` or
schedules a retry with exponential backoff until ``max_attempts``. Tasks must be idempotent, because a run
whose "done" was lost with its worker is executed again.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Generic, ParamSpec, TypeVar, cast

import orjson
from celery import Celery  # type: ignore[import-untyped]
from sqlalchemy import CursorResult, Index, Integer, String, Text, Uuid, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from upswing.core.celery_app import EXECUTE_TASK, create_celery_app
from upswing.core.db import (
    Base,
    JSONType,
    UTCDateTime,
    held_until_commit,
    new_uuid,
    read_session,
    session_factory,
    utcnow,
)
from upswing.core.logging import get_logger
from upswing.core.metrics import TASK_DURATION, TASK_RUNS, Sample, declare_gauge
from upswing.core.request_id import REQUEST_ID_KWARG, bound_request_id, current_request_id
from upswing.settings import Settings, get_settings

log = get_logger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

#: Modules whose import registers the built-in tasks and schedules.
BUILTIN_TASK_MODULES = ("upswing.core.outbox", "upswing.core.idempotency", "upswing.account.tasks",
                        "upswing.audit.tasks", "upswing.resolution.tasks", "upswing.signal.tasks",
                        "upswing.pipeline.tasks", "upswing.privacy.tasks", "upswing.alert.tasks",
                        "upswing.escalation.tasks", "upswing.digest.tasks", "upswing.crm.tasks",
                        "upswing.outcome.tasks", "upswing.experiment.tasks", "upswing.analytics.tasks",
                        "upswing.lead.geocoding", "upswing.tracking.tasks", "upswing.matching.tasks",
                        "upswing.discovery.tasks", "upswing.backup.tasks")


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up after max_attempts, or an unknown task name


class TaskRun(Base):
    """One enqueued execution of a task: the durable record both runners work from."""

    __tablename__ = "task_runs"
    __table_args__ = (Index("ix_task_runs_status_run_after", "status", "run_after"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120))
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------------------------------
# Declaring tasks and schedules


@dataclass(frozen=True)
class Task(Generic[P, R]):
    name: str
    fn: Callable[P, R]
    max_attempts: int = 3
    retry_delay: timedelta = timedelta(seconds=30)  # doubled after each failed attempt
    lease: timedelta = timedelta(minutes=30)  # a claim older than this belongs to a dead worker
    #: Seconds matter (alerts): on the Celery runner it has a queue of its own (``realtime_queue``), which every
    #: worker reads beside the main one, so it never waits behind a backlog of monitoring runs.
    realtime: bool = False

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the task here and now (tests, CLI): the same code the runners execute."""
        return self.fn(*args, **kwargs)

    def enqueue(self, session: Session, *args: Any, key: str, run_after: datetime | None = None,
                **kwargs: Any) -> uuid.UUID | None:
        return enqueue(session, self.name, *args, key=key, run_after=run_after, **kwargs)


@dataclass(frozen=True)
class Schedule:
    task_name: str
    every: timedelta
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def key_at(self, now: datetime) -> str:
        """The idempotency key of this schedule's run in the period holding ``now``: two schedulers (or a
        restarted one) enqueue each period once."""
        seconds = int(self.every.total_seconds())
        period = int(now.timestamp()) // seconds
        arguments = hashlib.sha256(orjson.dumps([self.args, self.kwargs], option=orjson.OPT_SORT_KEYS)).hexdigest()
        return f"{self.task_name}@{seconds}s:{period}:{arguments[:12]}"


_TASKS: dict[str, Task[Any, Any]] = {}
_SCHEDULES: list[Schedule] = []


def task(name: str, *, max_attempts: int = 3, retry_delay: timedelta = timedelta(seconds=30),
         lease: timedelta = timedelta(minutes=30), realtime: bool = False) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Register a function as the task ``name`` (``domain.verb``)."""

    def register(fn: Callable[P, R]) -> Task[P, R]:
        declared = Task(name, fn, max_attempts=max_attempts, retry_delay=retry_delay, lease=lease,
                        realtime=realtime)
        existing = _TASKS.get(name)
        if existing is not None and existing.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"two tasks share the name {name!r}")
        _TASKS[name] = declared
        return declared

    return register


def scheduled(every: timedelta, *args: Any, **kwargs: Any) -> Callable[[Task[P, R]], Task[P, R]]:
    """Run the decorated task every ``every`` (put it above ``@task``)."""
    if every < timedelta(seconds=1):
        raise ValueError("a schedule must be at least one second apart")

    def register(declared: Task[P, R]) -> Task[P, R]:
        schedule = Schedule(declared.name, every, args, dict(kwargs))
        if schedule not in _SCHEDULES:
            _SCHEDULES.append(schedule)
        return declared

    return register


def load_task_modules() -> None:
    """Import every module that declares tasks (built-ins and ``UPSWING_TASK_MODULES``)."""
    for module in (*BUILTIN_TASK_MODULES, *get_settings().task_modules):
        importlib.import_module(module)


def registered_tasks() -> dict[str, Task[Any, Any]]:
    load_task_modules()
    return dict(sorted(_TASKS.items()))


def schedules() -> list[Schedule]:
    load_task_modules()
    return list(_SCHEDULES)


# --------------------------------------------------------------------------------------------------
# Enqueueing (in the caller's transaction) and dispatch (after it commits)

_PENDING = "upswing.pending_task_runs"


def enqueue(session: Session, name: str, *args: Any, key: str, run_after: datetime | None = None,
            max_attempts: int | None = None, **kwargs: Any) -> uuid.UUID | None:
    """Write a run of task ``name`` into the session's transaction; hand it to the runner after commit.

    Returns the new run's id, or ``None`` when a run with this idempotency key exists already.
    """
    declared = _TASKS.get(name)
    if declared is None:
        load_task_modules()
        declared = _TASKS.get(name)
    if declared is None:
        raise KeyError(f"no task {name!r}; known: {', '.join(sorted(_TASKS))}")
    try:
        orjson.dumps([args, kwargs])
    except TypeError as exc:
        raise TypeError(f"task {name!r} takes ids and plain values, not {exc}") from None
    if session.scalar(select(TaskRun.id).where(TaskRun.idempotency_key == key)) is not None:
        return None
    request_id = current_request_id()
    if request_id is not None:  # the run's log lines carry the request's id (core/request_id.py)
        kwargs = {**kwargs, REQUEST_ID_KWARG: request_id}
    run = TaskRun(name=name, args=list(args), kwargs=kwargs, idempotency_key=key,
                  max_attempts=max_attempts or declared.max_attempts, run_after=run_after or utcnow(),
                  status=TaskStatus.QUEUED.value, attempts=0)
    try:
        with session.begin_nested():  # a concurrent enqueue of the same key loses quietly
            session.add(run)
    except IntegrityError:
        return None
    _after_commit(session).append((run.id, name))
    return run.id


def _after_commit(session: Session) -> list[tuple[uuid.UUID, str]]:
    # Handed to the runner once the transaction commits: a worker handed a run before would not find its row.
    return held_until_commit(session, _PENDING, list, dispatch)


_WAKE = threading.Event()


def _execute_from_celery(run_id: str, hostname: str) -> str:
    outcome = execute(uuid.UUID(run_id), worker=worker_name(f"celery:{hostname}"))
    if outcome.status == "retry":
        dispatch([(uuid.UUID(run_id), outcome.task)], countdown=outcome.retry_in)
    return outcome.status


@lru_cache
def get_celery_app() -> Celery:
    """The Celery application of this deployment (``UPSWING_CELERY_*``), executing runs with ``execute``."""
    return create_celery_app(get_settings(), _execute_from_celery)


def realtime_queue(settings: Settings) -> str:
    """The Celery queue of realtime tasks (alerts): the main queue's name + ``.realtime``."""
    return f"{settings.celery_queue}.realtime"


def worker_queues(settings: Settings) -> list[str]:
    """The queues a worker reads when none is named: the realtime one and the main one (Celery takes from them
    in turn, so a realtime run waits for at most the run a worker has in hand)."""
    return [realtime_queue(settings), settings.celery_queue]


def queue_for(name: str, settings: Settings) -> str:
    declared = _TASKS.get(name)
    if declared is None:
        load_task_modules()
        declared = _TASKS.get(name)
    return realtime_queue(settings) if declared is not None and declared.realtime else settings.celery_queue


#: Message header: when the message was sent (epoch seconds), read by the scheduler (``Resends``) off the oldest
#: message still waiting in a queue.
SENT_AT_HEADER = "upswing_sent_at"


def dispatch(runs: Iterable[tuple[uuid.UUID, str]], *, countdown: float | None = None) -> None:
    """Tell the configured runner about committed runs (id, task name). Losing this message loses nothing: the
    embedded runner polls the table and ``upswing scheduler`` re-sends queued Celery runs."""
    runs = list(runs)
    settings = get_settings()
    if settings.task_runner == "celery":
        app = get_celery_app()
        failed, error = 0, ""
        for run_id, name in runs:  # one failed send must not drop the rest of the list
            try:
                app.send_task(EXECUTE_TASK, args=[str(run_id)], queue=queue_for(name, settings), countdown=countdown,
                              headers={SENT_AT_HEADER: time.time()})
            except Exception as exc:  # broker down: the rows stay queued for the scheduler's sweep
                failed, error = failed + 1, f"{type(exc).__name__}: {exc}"
        if failed:
            log.warning("tasks.dispatch_failed", runs=len(runs), failed=failed, error=error[:300])
        return
    _WAKE.set()


# --------------------------------------------------------------------------------------------------
# Executing


@dataclass(frozen=True)
class Outcome:
    status: str  # done | retry | failed | skipped (another worker has it, or it is finished)
    retry_in: float | None = None
    error: str | None = None
    task: str = ""  # the run's task name (once the run was claimed)


def worker_name(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _claimable(now: datetime) -> Any:
    return or_(and_(TaskRun.status == TaskStatus.QUEUED.value, TaskRun.run_after <= now),
               and_(TaskRun.status == TaskStatus.RUNNING.value, TaskRun.locked_until < now))


def execute(run_id: uuid.UUID, *, worker: str, factory: sessionmaker[Session] | None = None) -> Outcome:
    """Claim the run, execute its task and record the outcome. Safe to call twice for one run."""
    factory = factory or session_factory()
    now = utcnow()
    with factory() as session, session.begin():
        run = session.get(TaskRun, run_id)
        if run is None:
            return Outcome("skipped", error="no such run")
        declared = _TASKS.get(run.name)
        if declared is None:
            load_task_modules()
            declared = _TASKS.get(run.name)
        lease = declared.lease if declared else timedelta(minutes=30)
        claimed = cast(CursorResult[Any], session.execute(
            update(TaskRun).where(TaskRun.id == run_id, _claimable(now))
            .values(status=TaskStatus.RUNNING.value, attempts=TaskRun.attempts + 1, locked_by=worker,
                    locked_until=now + lease, started_at=now)
            .execution_options(synchronize_session=False))).rowcount
        if claimed != 1:
            return Outcome("skipped")
        name, args, kwargs = run.name, list(run.args), dict(run.kwargs)
        attempts, max_attempts = run.attempts + 1, run.max_attempts
    request_id = kwargs.pop(REQUEST_ID_KWARG, None)
    with bound_request_id(request_id if isinstance(request_id, str) else current_request_id()):
        if declared is None:
            TASK_RUNS.labels(name, "failed").inc()
            return _finish(factory, run_id, worker, TaskStatus.FAILED, error=f"no task {name!r} is registered")
        return replace(_run(factory, declared, run_id, worker, args, kwargs, attempts, max_attempts), task=name)


def _run(factory: sessionmaker[Session], declared: Task[Any, Any], run_id: uuid.UUID, worker: str,
         args: list[Any], kwargs: dict[str, Any], attempts: int, max_attempts: int) -> Outcome:
    """Call the task's function and record the outcome (and its duration, ``upswing_task_*`` metrics)."""
    name = declared.name
    log.info("task.started", task=name, run=str(run_id), attempt=attempts, worker=worker)
    started = time.perf_counter()
    try:
        declared.fn(*args, **kwargs)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("task.failed", task=name, run=str(run_id), attempt=attempts, error=error,
                    trace=traceback.format_exc(limit=5))
        final = attempts >= max_attempts
        _observe(name, "failed" if final else "retry", started)
        if final:
            return _finish(factory, run_id, worker, TaskStatus.FAILED, error=error)
        delay = declared.retry_delay.total_seconds() * 2 ** (attempts - 1)
        return _finish(factory, run_id, worker, TaskStatus.QUEUED, error=error, retry_in=delay)
    _observe(name, "done", started)
    log.info("task.done", task=name, run=str(run_id), worker=worker)
    return _finish(factory, run_id, worker, TaskStatus.DONE)


def _observe(name: str, outcome: str, started: float) -> None:
    TASK_DURATION.labels(name, outcome).observe(time.perf_counter() - started)
    TASK_RUNS.labels(name, outcome).inc()


def _finish(factory: sessionmaker[Session], run_id: uuid.UUID, worker: str, status: TaskStatus, *,
            error: str | None = None, retry_in: float | None = None) -> Outcome:
    now = utcnow()
    values: dict[str, Any] = {"status": status.value, "locked_by": None, "locked_until": None}
    if error is not None:
        values["last_error"] = error[:4000]
    if status is TaskStatus.QUEUED:
        values["run_after"] = now + timedelta(seconds=retry_in or 0)
    else:
        values["finished_at"] = now
    with factory() as session, session.begin():
        # Only the claim holder records: a worker whose lease expired must not overwrite the new owner.
        session.execute(update(TaskRun).where(TaskRun.id == run_id, TaskRun.locked_by == worker).values(**values)
                        .execution_options(synchronize_session=False))
    label = {TaskStatus.DONE: "done", TaskStatus.QUEUED: "retry", TaskStatus.FAILED: "failed"}[status]
    return Outcome(label, retry_in=retry_in, error=error)


def next_claimable(session: Session, now: datetime | None = None, *, limit: int = 20) -> list[tuple[uuid.UUID, str]]:
    """The next runs a worker may claim, oldest due first, as (id, task name)."""
    now = now or utcnow()
    return [(run_id, name) for run_id, name in session.execute(
        select(TaskRun.id, TaskRun.name).where(_claimable(now))
        .order_by(TaskRun.run_after, TaskRun.created_at).limit(limit))]


def enqueue_schedules(session: Session, now: datetime | None = None) -> list[uuid.UUID]:
    """Enqueue each schedule's run for the current period (once per period, whoever asks)."""
    now = now or utcnow()
    created = []
    for schedule in schedules():
        run_id = enqueue(session, schedule.task_name, *schedule.args, key=schedule.key_at(now), **schedule.kwargs)
        if run_id is not None:
            created.append(run_id)
    return created


def stale_queued(session: Session, older_than: timedelta,
                 now: datetime | None = None) -> list[tuple[uuid.UUID, str, datetime]]:
    """Queued runs (id, task name, due time) that are due but were handed out a while ago (a Celery message lost
    with a broker)."""
    now = now or utcnow()
    found = session.execute(select(TaskRun.id, TaskRun.name, TaskRun.run_after)
                            .where(_claimable(now), TaskRun.run_after <= now - older_than))
    return [(run_id, name, run_after) for run_id, name, run_after in found]


class Resends:
    """Which stale runs to re-send now. A run still queued long after its message was sent is either lost (a
    broker restart) or waiting behind a long queue. ``waiting_since(task name)`` tells them apart: the send time
    of the oldest message still waiting in that task's queue (``math.inf``: the queue is empty; ``None``: not
    known). A run whose last message was sent after that may still be waiting and is not sent again: at a
    million leads 10,000 monitoring runs wait over an hour, and a re-send every interval would put ~16 repeats
    of each in the queue (each then skipped by ``execute``). A run's send time is taken as when it fell due (its
    message goes out when the transaction that wrote it commits, seconds later, up to a minute and a half for the
    benchmark's 10,000 runs in one transaction) or when it was re-sent, so "after" allows ``every`` seconds of
    slack: a lost message is re-sent once the queue has moved that far past it. When it is not known (another
    broker, messages of an older version), each run is re-sent at most once per ``every`` seconds, as before
    (22,000 repeats in a 100k-lead cycle without even that)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._sent: dict[uuid.UUID, float] = {}

    def due(self, stale: Iterable[tuple[uuid.UUID, str, datetime]], now: float, *,
            waiting_since: Callable[[str], float | None] = lambda _name: None) -> list[tuple[uuid.UUID, str]]:
        """``stale`` as ``stale_queued`` gives it; ``now`` in epoch seconds (``time.time()``)."""
        stale = list(stale)
        still = {run_id for run_id, _, _ in stale}
        self._sent = {run_id: at for run_id, at in self._sent.items() if run_id in still}  # forget finished runs
        since: dict[str, float | None] = {}
        due: list[tuple[uuid.UUID, str]] = []
        for run_id, name, due_at in stale:
            resent = self._sent.get(run_id, float("-inf"))
            if now - resent < self.every:
                continue
            if name not in since:
                since[name] = waiting_since(name)
            oldest_waiting = since[name]
            # Sent about when it fell due (or when re-sent): its message may be behind the oldest one waiting.
            if oldest_waiting is not None and max(as_epoch(due_at), resent) >= oldest_waiting - self.every:
                continue
            due.append((run_id, name))
        self._sent.update((run_id, now) for run_id, _ in due)
        return due


def as_epoch(moment: datetime) -> float:
    """Epoch seconds of a stored time (SQLite hands back naive UTC)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def backlog_since(settings: Settings) -> Callable[[str], float | None]:
    """``Resends.due``'s ``waiting_since`` for the Celery queues in Redis: the ``SENT_AT_HEADER`` of the oldest
    message waiting in a task's queue (Kombu pushes on the left and workers pop on the right, so it is the last
    item of the list), ``math.inf`` for an empty queue, ``None`` for another broker, a message without the header
    or a Redis that does not answer."""
    if settings.task_runner != "celery" or not settings.celery_broker_url.startswith(("redis://", "rediss://")):
        return lambda _name: None

    def waiting_since(name: str) -> float | None:
        import redis

        try:
            client = redis.Redis.from_url(settings.celery_broker_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                oldest = client.lindex(queue_for(name, settings), -1)
            finally:
                client.close()
            if oldest is None:
                return math.inf
            sent_at = orjson.loads(oldest).get("headers", {}).get(SENT_AT_HEADER)
            return float(sent_at) if isinstance(sent_at, int | float) else None
        except Exception as exc:  # unknown: re-send as before
            log.warning("scheduler.backlog_unreadable", error=f"{type(exc).__name__}: {exc}"[:200])
            return None

    return waiting_since


# --------------------------------------------------------------------------------------------------
# Queue gauges (read when /metrics is scraped: core/metrics.py)

declare_gauge("upswing_task_runs_by_status", "Task runs in the table by status (queued, running, failed; done "
              "ones are not counted)")
declare_gauge("upswing_task_queue_due", "Queued task runs that are due now (waiting for a worker)")
declare_gauge("upswing_task_oldest_due_age_seconds", "How long the oldest due queued run has waited (0: none)")
declare_gauge("upswing_celery_queue_length", "Messages waiting in the Celery queue in Redis (celery runner only)")


def queue_gauges(session: Session) -> list[Sample]:
    """Queue depth by status, the due backlog and its oldest wait; with Celery, the Redis queue's length."""
    now = utcnow()
    from sqlalchemy import func

    counts: dict[str, int] = dict(session.execute(
        select(TaskRun.status, func.count()).where(TaskRun.status.in_(
            [TaskStatus.QUEUED.value, TaskStatus.RUNNING.value, TaskStatus.FAILED.value]))
        .group_by(TaskRun.status)).all())
    due, oldest = session.execute(select(func.count(), func.min(TaskRun.run_after)).where(
        TaskRun.status == TaskStatus.QUEUED.value, TaskRun.run_after <= now)).one()
    samples = [Sample("upswing_task_runs_by_status", float(counts.get(status.value, 0)), {"status": status.value})
               for status in (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.FAILED)]
    oldest_at = UTCDateTime().process_result_value(oldest, session.get_bind().dialect)  # min() keeps the type
    samples += [Sample("upswing_task_queue_due", float(due or 0)),
                Sample("upswing_task_oldest_due_age_seconds",
                       max((now - oldest_at).total_seconds(), 0.0) if oldest_at else 0.0)]
    settings = get_settings()
    if settings.task_runner == "celery":
        for queue in worker_queues(settings):
            length = celery_queue_length(settings.celery_broker_url, queue)
            if length is not None:
                samples.append(Sample("upswing_celery_queue_length", float(length), {"queue": queue}))
    return samples


def celery_queue_length(broker_url: str, queue: str) -> int | None:
    """``LLEN`` of the queue in Redis (half a second at most; None when Redis does not answer)."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return int(client.llen(queue))
        finally:
            client.close()
    except Exception as exc:  # the broker is down: the gauge is missing, readiness says why
        log.warning("metrics.celery_queue_unreadable", error=f"{type(exc).__name__}: {exc}"[:200])
        return None


@scheduled(every=timedelta(days=1))
@task("tasks.purge")
def purge_finished(done_days: int = 30, failed_days: int = 90) -> int:
    """Delete finished runs after a while (failed ones are kept longer, for looking into)."""
    from sqlalchemy import delete

    from upswing.core.db import transaction

    now = utcnow()
    with transaction() as session:
        result = cast(CursorResult[Any], session.execute(delete(TaskRun).where(or_(
            and_(TaskRun.status == TaskStatus.DONE.value, TaskRun.finished_at < now - timedelta(days=done_days)),
            and_(TaskRun.status == TaskStatus.FAILED.value,
                 TaskRun.finished_at < now - timedelta(days=failed_days))))))
        return result.rowcount


# --------------------------------------------------------------------------------------------------
# The embedded runner


class EmbeddedRunner:
    """Runs queued tasks in this process, reading the durable table (so nothing queued is lost on restart),
    and enqueues scheduled work when ``with_schedule`` is on.

    ``threads`` (``UPSWING_TASK_THREADS``) runs that many tasks at once, like a Celery worker's concurrency:
    while one thread waits on a provider (sending alerts), another evaluates the next signals. Every run is
    claimed in the table, so two threads never run the same one, and they never run two runs of one task at
    once: a second ``alerts.send`` or ``events.deliver`` beside the first would only split the same queue between
    them, while the other thread is better spent on the next kind of work. Only the first thread enqueues
    schedules."""

    def __init__(self, *, factory: sessionmaker[Session] | None = None, poll_seconds: float | None = None,
                 with_schedule: bool = True, threads: int | None = None) -> None:
        settings = get_settings()
        self.factory = factory or session_factory()
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.task_poll_seconds
        self.with_schedule = with_schedule
        self.threads = threads if threads is not None else settings.task_threads
        self.worker = worker_name("embedded")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: set[str] = set()  # task names a thread of this runner is executing now
        self._running_lock = threading.Lock()
        self._next_tick = utcnow()

    def run_pending(self, *, max_runs: int | None = None, worker: str | None = None) -> list[Outcome]:
        """Execute every run that is due now (tests and one-shot use); returns their outcomes."""
        load_task_modules()
        worker = worker or self.worker
        outcomes: list[Outcome] = []
        while not self._stop.is_set():
            with read_session(self.factory) as session:
                candidates = next_claimable(session)
            if not candidates:
                break
            executed = 0
            for run_id, name in candidates:
                with self._running_lock:
                    if name in self._running:
                        continue  # another thread of this runner is on it
                    self._running.add(name)
                try:
                    outcome = execute(run_id, worker=worker, factory=self.factory)
                finally:
                    with self._running_lock:
                        self._running.discard(name)
                if outcome.status != "skipped":
                    outcomes.append(outcome)
                    executed += 1
                if max_runs is not None and len(outcomes) >= max_runs:
                    return outcomes
            if not executed:
                break  # another worker took them
        return outcomes

    def tick(self) -> None:
        if self.with_schedule and utcnow() >= self._next_tick:
            with self.factory() as session, session.begin():
                enqueue_schedules(session)
            self._next_tick = utcnow() + timedelta(seconds=max(self.poll_seconds, 5.0))

    def _loop(self, *, schedules: bool) -> None:
        worker = worker_name("embedded")
        log.info("tasks.embedded_runner_started", worker=worker, schedule=schedules and self.with_schedule)
        while not self._stop.is_set():
            try:
                if schedules:
                    self.tick()
                ran = self.run_pending(worker=worker)
            except Exception as exc:  # a database hiccup must not kill the runner thread
                log.error("tasks.embedded_runner_error", error=f"{type(exc).__name__}: {exc}")
                ran = []
            if not ran:
                _WAKE.wait(self.poll_seconds)
                _WAKE.clear()
        log.info("tasks.embedded_runner_stopped", worker=worker)

    def run_forever(self) -> None:
        """Run in the foreground until ``stop`` (or Ctrl-C): this thread and ``threads - 1`` more."""
        extra = [self._thread_for(n) for n in range(1, self.threads)]
        for thread in extra:
            thread.start()
        self._threads.extend(extra)
        try:
            self._loop(schedules=True)
        finally:
            self.stop()

    def _thread_for(self, number: int) -> threading.Thread:
        return threading.Thread(target=self._loop, kwargs={"schedules": number == 0},
                                name=f"upswing-tasks-{number + 1}", daemon=True)

    def start(self) -> EmbeddedRunner:
        self._threads = [self._thread_for(n) for n in range(self.threads)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        _WAKE.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
