"""The CRM domain's outbox consumer and tasks: queue each new signal for every connection, push, poll."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.core import tasks
from upswing.core.db import session_factory, transaction
from upswing.core.logging import get_logger
from upswing.core.outbox import Event, batch_consumer
from upswing.crm import service
from upswing.crm.connector import CrmError
from upswing.crm.models import ConnectionStatus, CrmConnection
from upswing.signal.service import SIGNAL_CREATED

log = get_logger(__name__)


@batch_consumer("crm.enqueue", SIGNAL_CREATED, batch_size=200, retry_delay=timedelta(seconds=5))
def enqueue(session: Session, events: Sequence[Event]) -> None:
    """A push per connection for each new signal, written in the consumer's transaction (the outbox's once)."""
    service.enqueue_signals(session, list(dict.fromkeys(uuid.UUID(e.entity_id) for e in events)))


@tasks.scheduled(every=timedelta(seconds=30))
@tasks.task(service.PUSH_TASK, max_attempts=1, lease=timedelta(minutes=10))
def push() -> int:
    """Push due signals to the CRMs (enqueued after each commit that queued some, and every 30 s for retries)."""
    return service.push_due().sent


@tasks.scheduled(every=timedelta(minutes=2))
@tasks.task("crm.pull", max_attempts=1)
def pull() -> int:
    """Poll the CRMs that do not send webhooks (Salesforce; HubSpot with ``config.poll``) for changes made there."""
    applied = 0
    with transaction() as session:
        ids = [connection.id for connection in session.scalars(select(CrmConnection).where(
            CrmConnection.status == ConnectionStatus.ACTIVE.value)) if service.polled(connection)]
    for connection_id in ids:
        try:
            with transaction() as session:
                applied += service.pull(session, service.get_connection(session, connection_id)).applied
        except CrmError as exc:  # one CRM's trouble must not stop the others
            log.warning("crm.pull_failed", connection_id=str(connection_id), error=str(exc))
    return applied


@tasks.task(service.CONNECT_TASK, max_attempts=1)
def connect(connection_id: str) -> str:
    """Check a connection's credentials and create our fields in the CRM (queued by the API)."""
    with transaction() as session:
        connection = service.get_connection(session, connection_id)
        try:
            service.connect(session, connection, actor="task:crm.connect")
        except CrmError as exc:  # the connection's status and last error say what went wrong
            return f"error: {exc}"
    return "connected"


@tasks.task(service.SYNC_TASK, max_attempts=1)
def sync(connection_id: str) -> int:
    """Push what is due, then pull the CRM's changes (queued by the API)."""
    return service.sync(session_factory(), connection_id)[0].sent


@tasks.task(service.RECONCILE_TASK, max_attempts=1)
def reconcile(connection_id: str) -> int:
    """Compare both sides and re-queue what the CRM is missing (queued by the API)."""
    with transaction() as session:
        return service.reconcile(session, service.get_connection(session, connection_id)).differences
