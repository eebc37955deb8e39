"""Outbox consumers the outbox tests emit events for; a second process started by a test imports this module too
(``UPSWING_TASK_MODULES=["core.consumers_for_tests"]``, tests/ on the path), so their effects are rows in the
shared database: one audit entry per event handled, written in the consumer's own transaction."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.audit import service as audit
from upswing.audit.models import AuditEntry
from upswing.core.db import transaction
from upswing.core.outbox import Event, consumer

PING = "test.ping"
SLOW = "test.slow"
FAILING = "test.failing"


def handled(session: Session | None = None) -> dict[str, int]:
    """event id → how many times a consumer's effect for it was committed."""
    def count(s: Session) -> dict[str, int]:
        rows = s.execute(select(AuditEntry.entity_id, func.count()).where(AuditEntry.action == "test.consumed")
                         .group_by(AuditEntry.entity_id))
        return {str(entity_id): n for entity_id, n in rows}

    if session is not None:
        return count(session)
    with transaction(read=True) as own:
        return count(own)


def _effect(session: Session, event: Event, consumer_name: str) -> None:
    audit.record(session, actor=f"consumer:{consumer_name}", action="test.consumed", entity_type="event",
                 entity_id=str(event.id), details={"consumer": consumer_name})


@consumer("test.ping_counter", PING)
def count_pings(session: Session, event: Event) -> None:
    _effect(session, event, "test.ping_counter")


@consumer("test.ping_second", PING)
def second_ping_consumer(session: Session, event: Event) -> None:
    _effect(session, event, "test.ping_second")


@consumer("test.slow", SLOW, lease=timedelta(seconds=2))
def slow(session: Session, event: Event) -> None:
    _effect(session, event, "test.slow")
    time.sleep(float(event.payload.get("sleep", 0.05)))  # inside the transaction: a kill here loses the effect


@consumer("test.failing", FAILING, max_attempts=2, retry_delay=timedelta(0))
def failing(session: Session, event: Event) -> None:
    _effect(session, event, "test.failing")
    if event.payload.get("fail"):
        raise RuntimeError("planned failure")


BATCHED = "test.batched"


@consumer("test.batched", BATCHED, max_attempts=2, retry_delay=timedelta(0), batch_size=10)
def batched(session: Session, event: Event) -> None:
    _effect(session, event, "test.batched")
    if event.payload.get("fail"):
        raise RuntimeError("planned failure")
