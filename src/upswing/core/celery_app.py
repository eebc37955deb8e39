"""Celery, for production: Redis carries run ids, the database keeps the runs (``core/tasks.py``).

Celery knows one task, ``upswing.execute(run_id)``: it executes the run with the same ``execute`` the
embedded runner uses, so claiming, retries and idempotency are the same on both runners. A retry is sent
back to Redis with a countdown; a message lost with the broker is re-sent by ``upswing scheduler``.

This module only builds the Celery application; the task layer hands it the function that executes a run
(``core.tasks.get_celery_app``), so that the dependency points one way. Start a worker with ``upswing worker``
(or ``celery -A upswing.worker worker -Q upswing``).
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery  # type: ignore[import-untyped]

from upswing.settings import Settings

EXECUTE_TASK = "upswing.execute"

#: ``execute_run(run_id, hostname)`` → the outcome's status (done, retry, failed or skipped).
RunExecutor = Callable[[str, str], str]


def create_celery_app(settings: Settings, execute_run: RunExecutor) -> Celery:
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
        return execute_run(run_id, hostname)

    return celery
