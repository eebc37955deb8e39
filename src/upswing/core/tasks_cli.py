"""``upswing worker`` and ``upswing scheduler``: the task runners (see ``core/tasks.py``)."""

from __future__ import annotations

import time

import typer

from upswing.core import tasks
from upswing.core.cli_support import console
from upswing.core.db import transaction
from upswing.core.logging import get_logger
from upswing.settings import get_settings

log = get_logger(__name__)


def worker_command(
    embedded: bool = typer.Option(False, "--embedded", help="Run tasks in this process from the database "
                                                            "(no Redis); also enqueues scheduled work"),
    once: bool = typer.Option(False, "--once", help="With --embedded: run what is due now, then exit"),
    queue: str | None = typer.Option(None, help="Celery queues to read, comma-separated (default: "
                                     "UPSWING_CELERY_QUEUE and its .realtime queue)"),
    concurrency: int = typer.Option(1, min=1, help="Celery worker processes"),
    pool: str = typer.Option("prefork", help="Celery pool: prefork, solo or threads"),
    loglevel: str = typer.Option("INFO", help="Celery log level"),
    metrics_port: int | None = typer.Option(None, min=1, max=65535, help="Serve Prometheus metrics (task runs and "
                                            "durations) on this port; with --concurrency > 1 set "
                                            "PROMETHEUS_MULTIPROC_DIR (docs/observability.md)"),
) -> None:
    """Run background tasks: a Celery worker on Redis, or the embedded runner."""
    from upswing.core.metrics import reset_multiprocess_dir, start_metrics_server
    from upswing.core.sentry import init_sentry

    tasks.load_task_modules()
    init_sentry(get_settings())
    if metrics_port is not None:
        reset_multiprocess_dir()
        start_metrics_server(metrics_port)
        console.print(f"Metrics on http://0.0.0.0:{metrics_port}/metrics")
    if embedded:
        runner = tasks.EmbeddedRunner()
        if once:
            runner.tick()
            outcomes = runner.run_pending()
            console.print(f"{len(outcomes)} task run(s): " + ", ".join(o.status for o in outcomes))
            return
        console.print(f"Embedded task runner started (polling every {runner.poll_seconds:g} s; Ctrl-C stops)")
        try:
            runner.run_forever()
        except KeyboardInterrupt:
            runner.stop()
        return
    settings = get_settings()
    if settings.task_runner != "celery":
        console.print("[yellow]UPSWING_TASK_RUNNER is not 'celery': runs enqueued by the app go to the embedded "
                      "runner, not to this worker (set UPSWING_TASK_RUNNER=celery, or use --embedded)[/]")
    queues = queue or ",".join(tasks.worker_queues(settings))
    tasks.get_celery_app().worker_main(["worker", "--queues", queues,
                                  "--concurrency", str(concurrency), "--pool", pool, "--loglevel", loglevel,
                                  "--hostname", f"upswing@%h-{queue or settings.celery_queue}"])


def scheduler_command(
    interval: float = typer.Option(30.0, min=1, help="Seconds between looks at the schedule"),
    resend_after: float = typer.Option(120.0, min=1, help="Re-send a queued run not taken after this many s"),
    once: bool = typer.Option(False, "--once", help="Enqueue what is due now, then exit"),
) -> None:
    """Enqueue scheduled work (monitoring, …) on time; re-send runs a lost broker message left queued.

    Safe to run twice: each period's run has one idempotency key.
    """
    from datetime import timedelta

    tasks.load_task_modules()
    for schedule in tasks.schedules():
        console.print(f"schedule: {schedule.task_name} every {schedule.every}")
    resends = tasks.Resends(resend_after)
    waiting_since = tasks.backlog_since(get_settings())
    while True:
        try:
            with transaction() as session:
                created = tasks.enqueue_schedules(session)
                stale = resends.due(tasks.stale_queued(session, timedelta(seconds=resend_after)), time.time(),
                                    waiting_since=waiting_since)
        except Exception as exc:  # the database restarting (or failing over) must not stop the schedule
            if once:
                raise
            log.warning("scheduler.tick_failed", error=f"{type(exc).__name__}: {exc}"[:500])
            time.sleep(interval)
            continue
        if stale:
            tasks.dispatch(stale)
        if created or stale:
            console.print(f"enqueued {len(created)} scheduled run(s), re-sent {len(stale)}")
        if once:
            return
        time.sleep(interval)
