"""``upswing worker`` and ``upswing scheduler``: the task runners."""

from __future__ import annotations

from upswing.core.cli_support import fail


def worker_command() -> None:
    """Run background tasks."""
    fail("not built yet")


def scheduler_command() -> None:
    """Enqueue scheduled work (monitoring, retention) on time."""
    fail("not built yet")
