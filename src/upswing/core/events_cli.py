"""``upswing events``: the event outbox's consumers, their backlog and failures (see ``core/outbox.py``)."""

from __future__ import annotations

import typer
from rich.table import Table

from upswing.core import outbox
from upswing.core.cli_support import console
from upswing.core.db import session_factory, transaction

events_app = typer.Typer(help="The event outbox: consumers, backlog, failures.", no_args_is_help=True)


@events_app.command("status")
def status() -> None:
    """Pending and failed events per consumer, and the oldest pending one (the consumer's lag)."""
    with transaction() as session:
        rows = outbox.status(session)
    table = Table("consumer", "pending", "failed", "oldest pending")
    for row in rows:
        table.add_row(row.consumer, str(row.pending), str(row.failed),
                      row.oldest_pending_at.isoformat(timespec="seconds") if row.oldest_pending_at else "")
    console.print(table)


@events_app.command("deliver")
def deliver(consumer: list[str] = typer.Option(None, "--consumer", help="Only these consumers (repeatable)")) -> None:
    """Hand every due event to its consumers now (the events.deliver task does this in the background)."""
    report = outbox.deliver_pending(session_factory(), consumers=consumer or None)
    console.print(f"{report.done} delivered, {report.retried} to retry, {report.failed} failed")


@events_app.command("retry-failed")
def retry_failed(consumer: str | None = typer.Option(None, help="Only this consumer")) -> None:
    """Queue failed events again (after fixing what made them fail)."""
    with transaction() as session:
        count = outbox.retry_failed(session, consumer)
    console.print(f"{count} event(s) queued again")
