"""Celery, for production: Redis carries run ids, the database keeps the runs (``core/tasks.py``).

Celery knows one task, ``upswing.execute(run_id)``: it executes the run with the same ``execute`` the
embedded runner uses, so claiming, retries and idempotency are the same on both runners. A retry is sent
back to Redis with a countdown; a message lost with the broker is re-sent by ``upswing scheduler``.

Start a worker with ``upswing worker`` (or ``celery -A upswing.core.celery_app worker -Q upswing``).
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from celery import Celery  # type: ignore[import-untyped]

from upswing.core import tasks
from upswing.settings import Settings, get_settings

EXECUTE_TASK = "upswing.execute"


def create_celery_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    celery = Celery("upswing", broker=settings.celery_broker_url, set_as_current=False)
    celery.conf.update(
        task_default_queue=settings.celery_queue,
        task_ignore_result=True,
        # The run row is the truth; a message is acknowledged only after the run is recorded, and a
        # worker lost mid-run gives the message back (execute() skips a run someone else finished).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @celery.task(name=EXECUTE_TASK, bind=True)  # type: ignore[untyped-decorator]
    def execute(self: object, run_id: str) -> str:
        hostname = getattr(getattr(self, "request", None), "hostname", None) or "celery"
        outcome = tasks.execute(uuid.UUID(run_id), worker=tasks.worker_name(f"celery:{hostname}"))
        if outcome.status == "retry":
            tasks.dispatch([uuid.UUID(run_id)], countdown=outcome.retry_in)
        return outcome.status

    return celery


@lru_cache
def get_celery_app() -> Celery:
    return create_celery_app()


def __getattr__(name: str) -> Celery:
    # ``celery -A upswing.core.celery_app`` looks for ``app``; built on first access so that importing this
    # module (e.g. for EXECUTE_TASK) does not read settings.
    if name in ("app", "celery"):
        return get_celery_app()
    raise AttributeError(name)
