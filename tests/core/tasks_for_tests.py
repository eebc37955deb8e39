"""Tasks the task-layer tests enqueue; a Celery worker started by a test imports this module too
(``UPSWING_TASK_MODULES=core.tasks_for_tests``, tests/ on the path), so its effects are rows in the shared database."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from upswing.audit import service as audit
from upswing.audit.models import AuditEntry
from upswing.core.db import transaction
from upswing.core.tasks import task


def effects(label: str) -> int:
    """How many times a task recorded ``label`` (the audit log is append-only: a durable counter)."""
    with transaction(read=True) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "test.task", AuditEntry.entity_id == label)) or 0


@task("test.record")
def record(label: str) -> None:
    with transaction() as session:
        audit.record(session, actor="task:test.record", action="test.task", entity_type="test", entity_id=label)


@task("test.flaky", max_attempts=3, retry_delay=timedelta(0))
def flaky(label: str, failures: int) -> None:
    """Fails ``failures`` times (each failed attempt leaves a mark), then records success."""
    with transaction() as session:
        audit.record(session, actor="task:test.flaky", action="test.task", entity_type="test",
                     entity_id=f"{label}:attempt")
    if effects(f"{label}:attempt") <= failures:
        raise RuntimeError(f"planned failure of {label}")
    record(label)


@task("test.slow")
def slow(label: str) -> None:
    """A monitoring-like run that takes a while."""
    time.sleep(0.3)
    record(label)


@task("test.urgent", realtime=True)
def urgent(label: str) -> None:
    """A realtime run (like sending alerts): its own Celery queue."""
    record(label)
