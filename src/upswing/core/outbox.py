"""The event outbox: domain events written in the transaction that caused them, delivered to consumers later.

A service that changes something other domains care about calls ``emit(session, "signal.created", …)`` inside
its own transaction. The event row, and one *receipt* per consumer subscribed to that event type, commit or
roll back with the change itself, so an event exists exactly when its cause does. After the commit the
``events.deliver`` task (either task runner) hands each pending receipt to its consumer::

    @consumer("resolution.learn_non_match", "signal.dismissed", "signal.updated")
    def learn_non_match(session: Session, event: Event) -> None: ...

Delivery is at least once and the effect is once: a consumer runs in a transaction that also marks its receipt
``done``, so a consumer killed half-way leaves the receipt pending (and its effects rolled back) until its
lease expires and another worker takes it. A consumer that fails is retried with backoff and, after
``max_attempts``, its receipt is ``failed`` with the error kept (visible in ``upswing events status``).
Consumers must therefore only write to the database in the session they are given; anything sent outside
(e-mail, webhooks, CRM calls) is itself written as a durable row and sent by a task.

Consumers are declared in each domain's ``tasks.py`` (imported by ``core.tasks.load_task_modules``); the
receipts table records what every consumer processed. Events are kept ``UPSWING_EVENT_RETENTION_DAYS``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from upswing.core import tasks
from upswing.core.bulk import bulk_insert
from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, session_factory, utcnow
from upswing.core.logging import get_logger
from upswing.core.metrics import Sample, declare_gauge

log = get_logger(__name__)


class ReceiptStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # gave up after max_attempts; the error is kept


class OutboxEvent(Base):
    """One domain event ("signal.created", "lead.updated", …), written in the transaction that caused it."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_created_at", "created_at"),
        Index("ix_outbox_events_entity", "entity_type", "entity_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    type: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    #: The lead the event is about, when there is one (routing and per-lead ordering).
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxReceipt(Base):
    """One consumer's copy of an event: pending until the consumer's transaction marks it done."""

    __tablename__ = "outbox_receipts"
    __table_args__ = (
        # In the order a claim takes them (oldest event first) and readiness reads the oldest pending one.
        Index("ix_outbox_receipts_consumer_status_event_at", "consumer", "status", "event_at", "event_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"),
                                                primary_key=True)
    consumer: Mapped[str] = mapped_column(String(120), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default=ReceiptStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When the event happened (copied from the event, so a consumer's queue is ordered without a join).
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class Event:
    """What a consumer receives: the event as plain data."""

    id: uuid.UUID
    type: str
    entity_type: str
    entity_id: str
    lead_id: uuid.UUID | None
    payload: Mapping[str, Any]
    actor: str | None
    created_at: datetime


Handler = Callable[[Session, Event], None]
BatchHandler = Callable[[Session, Sequence[Event]], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: frozenset[str]
    handler: Handler
    max_attempts: int = 8
    retry_delay: timedelta = timedelta(seconds=10)  # doubled after each failed attempt
    lease: timedelta = timedelta(minutes=5)  # a claim older than this belongs to a dead worker
    #: Events handled in one transaction (one commit for many: a burst of events costs one fsync, not one each);
    #: a batch that fails is rolled back and its events are handled one by one, so one bad event holds up none.
    batch_size: int = 1

    def handle(self, session: Session, events: Sequence[Event]) -> None:
        for event in events:
            self.handler(session, event)


@dataclass(frozen=True)
class _BatchConsumer(Consumer):
    """A consumer whose handler takes the whole batch (it loads what the events share once)."""

    batch_handler: BatchHandler | None = None

    def handle(self, session: Session, events: Sequence[Event]) -> None:
        assert self.batch_handler is not None
        self.batch_handler(session, events)


_CONSUMERS: dict[str, Consumer] = {}


def consumer(name: str, *event_types: str, max_attempts: int = 8, retry_delay: timedelta = timedelta(seconds=10),
             lease: timedelta = timedelta(minutes=5), batch_size: int = 1) -> Callable[[Handler], Handler]:
    """Register ``handler(session, event)`` as the consumer ``name`` of these event types."""
    if not event_types:
        raise ValueError(f"consumer {name!r} subscribes to no event type")

    def register(handler: Handler) -> Handler:
        existing = _CONSUMERS.get(name)
        if existing is not None and existing.handler.__qualname__ != handler.__qualname__:
            raise ValueError(f"two consumers share the name {name!r}")
        _CONSUMERS[name] = Consumer(name, frozenset(event_types), handler, max_attempts=max_attempts,
                                    retry_delay=retry_delay, lease=lease, batch_size=batch_size)
        return handler

    return register


def batch_consumer(name: str, *event_types: str, batch_size: int = 50, max_attempts: int = 8,
                   retry_delay: timedelta = timedelta(seconds=10),
                   lease: timedelta = timedelta(minutes=5)) -> Callable[[BatchHandler], BatchHandler]:
    """Register ``handler(session, events)``: up to ``batch_size`` events in one transaction and one call (a
    failing batch is handled again one event per call, so one bad event holds up no other)."""
    if not event_types:
        raise ValueError(f"consumer {name!r} subscribes to no event type")

    def register(handler: BatchHandler) -> BatchHandler:
        existing = _CONSUMERS.get(name)
        if existing is not None and getattr(existing, "batch_handler", None) is not None and \
                existing.batch_handler.__qualname__ != handler.__qualname__:  # type: ignore[attr-defined]
            raise ValueError(f"two consumers share the name {name!r}")
        _CONSUMERS[name] = _BatchConsumer(name, frozenset(event_types), lambda session, event: handler(
            session, [event]), max_attempts=max_attempts, retry_delay=retry_delay, lease=lease,
            batch_size=batch_size, batch_handler=handler)
        return handler

    return register


def registered_consumers() -> dict[str, Consumer]:
    tasks.load_task_modules()
    return dict(sorted(_CONSUMERS.items()))


def _subscribers(event_type: str) -> list[str]:
    return [c.name for c in _CONSUMERS.values() if event_type in c.event_types]


# --------------------------------------------------------------------------------------------------
# Emitting (in the caller's transaction)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to emit (``emit_many`` takes many at once, for bulk paths)."""

    type: str
    entity_type: str
    entity_id: uuid.UUID | str
    lead_id: uuid.UUID | None = None
    payload: Mapping[str, Any] | None = None
    actor: str | None = None


def emit(session: Session, type_: str, *, entity_type: str, entity_id: uuid.UUID | str,
         lead_id: uuid.UUID | None = None, payload: Mapping[str, Any] | None = None,
         actor: str | None = None) -> uuid.UUID:
    """Write one event (and its consumers' receipts) into the session's transaction; returns its id."""
    return emit_many(session, [NewEvent(type_, entity_type, entity_id, lead_id, payload, actor)])[0]


def emit_many(session: Session, events: Sequence[NewEvent]) -> list[uuid.UUID]:
    """Write events in bulk (one INSERT per table); delivery is kicked off once the transaction commits."""
    if not events:
        return []
    tasks.load_task_modules()  # every consumer is registered before its receipts are written
    now = utcnow()
    event_rows: list[dict[str, Any]] = []
    receipt_rows: list[dict[str, Any]] = []
    ids: list[uuid.UUID] = []
    for offset, event in enumerate(events):
        event_id = uuid.uuid4()
        ids.append(event_id)
        # Microsecond steps keep the events of one transaction in the order they were emitted.
        at = now + timedelta(microseconds=offset)
        event_rows.append({"id": event_id, "type": event.type, "entity_type": event.entity_type,
                           "entity_id": str(event.entity_id), "lead_id": event.lead_id,
                           "payload": dict(event.payload or {}), "actor": event.actor, "created_at": at})
        receipt_rows += [{"event_id": event_id, "consumer": name, "status": ReceiptStatus.PENDING.value,
                          "attempts": 0, "run_after": at, "locked_by": None, "locked_until": None,
                          "last_error": None, "event_at": at, "processed_at": None}
                         for name in _subscribers(event.type)]
    bulk_insert(session, cast(Any, OutboxEvent.__table__), event_rows)
    if receipt_rows:
        bulk_insert(session, cast(Any, OutboxReceipt.__table__), receipt_rows)
        tasks.enqueue(session, DELIVER_TASK, key=f"{DELIVER_TASK}:{ids[0]}", max_attempts=1)
    return ids


# --------------------------------------------------------------------------------------------------
# Delivering


@dataclass
class DeliveryReport:
    done: int = 0
    retried: int = 0
    failed: int = 0
    #: A consumer stopped at ``max_batches`` with a full last batch: there may be more due.
    more: bool = False

    @property
    def processed(self) -> int:
        return self.done + self.retried + self.failed


def _to_event(row: OutboxEvent) -> Event:
    return Event(id=row.id, type=row.type, entity_type=row.entity_type, entity_id=row.entity_id,
                 lead_id=row.lead_id, payload=dict(row.payload or {}), actor=row.actor, created_at=row.created_at)


def _claim(factory: sessionmaker[Session], declared: Consumer, worker: str, limit: int) -> list[uuid.UUID]:
    """Take up to ``limit`` due receipts of this consumer (oldest event first) under a lease."""
    now = utcnow()
    due = and_(OutboxReceipt.consumer == declared.name, OutboxReceipt.run_after <= now,
               OutboxReceipt.status == ReceiptStatus.PENDING.value,
               or_(OutboxReceipt.locked_until.is_(None), OutboxReceipt.locked_until < now))
    with factory() as session, session.begin():
        query = (select(OutboxReceipt.event_id).where(due)
                 .order_by(OutboxReceipt.event_at, OutboxReceipt.event_id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        event_ids = list(session.scalars(query))
        if not event_ids:
            return []
        session.execute(update(OutboxReceipt)
                        .where(OutboxReceipt.consumer == declared.name, OutboxReceipt.event_id.in_(event_ids), due)
                        .values(locked_by=worker, locked_until=now + declared.lease,
                                attempts=OutboxReceipt.attempts + 1)
                        .execution_options(synchronize_session=False))
        return list(session.scalars(select(OutboxReceipt.event_id).where(
            OutboxReceipt.consumer == declared.name, OutboxReceipt.event_id.in_(event_ids),
            OutboxReceipt.locked_by == worker).order_by(OutboxReceipt.event_at, OutboxReceipt.event_id)))


def _process_one(factory: sessionmaker[Session], declared: Consumer, event_id: uuid.UUID, worker: str,
                 report: DeliveryReport) -> None:
    mine = and_(OutboxReceipt.event_id == event_id, OutboxReceipt.consumer == declared.name,
                OutboxReceipt.locked_by == worker, OutboxReceipt.status == ReceiptStatus.PENDING.value)
    try:
        with factory() as session, session.begin():
            row = session.get(OutboxEvent, event_id)
            if row is None:
                return  # purged meanwhile
            declared.handler(session, _to_event(row))
            # The effect and "done" commit together; a lost lease (another worker took over) undoes both.
            marked = cast(CursorResult[Any], session.execute(
                update(OutboxReceipt).where(mine)
                .values(status=ReceiptStatus.DONE.value, processed_at=utcnow(), locked_by=None, locked_until=None,
                        last_error=None)
                .execution_options(synchronize_session=False))).rowcount
            if marked != 1:
                raise _LeaseLost
        report.done += 1
    except _LeaseLost:
        log.warning("events.lease_lost", consumer=declared.name, event_id=str(event_id))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:4000]
        with factory() as session, session.begin():
            attempts = session.scalar(select(OutboxReceipt.attempts).where(mine)) or 0
            if attempts >= declared.max_attempts:
                values: dict[str, Any] = {"status": ReceiptStatus.FAILED.value, "processed_at": utcnow()}
                report.failed += 1
            else:
                delay = declared.retry_delay.total_seconds() * 2 ** max(attempts - 1, 0)
                values = {"run_after": utcnow() + timedelta(seconds=delay)}
                report.retried += 1
            session.execute(update(OutboxReceipt).where(mine)
                            .values(locked_by=None, locked_until=None, last_error=error, **values)
                            .execution_options(synchronize_session=False))
        log.warning("events.consumer_failed", consumer=declared.name, event_id=str(event_id), attempts=attempts,
                    error=error)


class _LeaseLost(Exception):
    pass


def _process_many(factory: sessionmaker[Session], declared: Consumer, event_ids: list[uuid.UUID], worker: str,
                  report: DeliveryReport) -> None:
    """Handle several events in one transaction; on any failure, each again on its own (``_process_one``)."""
    mine = and_(OutboxReceipt.event_id.in_(event_ids), OutboxReceipt.consumer == declared.name,
                OutboxReceipt.locked_by == worker, OutboxReceipt.status == ReceiptStatus.PENDING.value)
    try:
        with factory() as session, session.begin():
            rows = {row.id: row for row in session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(event_ids)))}
            declared.handle(session, [_to_event(rows[event_id]) for event_id in event_ids if event_id in rows])
            marked = cast(CursorResult[Any], session.execute(
                update(OutboxReceipt).where(mine)
                .values(status=ReceiptStatus.DONE.value, processed_at=utcnow(), locked_by=None, locked_until=None,
                        last_error=None)
                .execution_options(synchronize_session=False))).rowcount
            if marked != len(event_ids):
                raise _LeaseLost
        report.done += len(event_ids)
    except Exception:
        for event_id in event_ids:
            _process_one(factory, declared, event_id, worker, report)


def deliver_pending(factory: sessionmaker[Session] | None = None, *, consumers: Iterable[str] | None = None,
                    batch: int = 200, worker: str | None = None, max_batches: int | None = None) -> DeliveryReport:
    """Hand every due receipt to its consumer, one transaction per event; returns the counts."""
    factory = factory or session_factory()
    worker = worker or tasks.worker_name("events")
    known = registered_consumers()
    wanted = [known[name] for name in (consumers or known) if name in known]
    report = DeliveryReport()
    for declared in wanted:
        batches = 0
        while max_batches is None or batches < max_batches:
            claimed = _claim(factory, declared, worker, batch)
            if not claimed:
                break
            batches += 1
            if declared.batch_size > 1:
                for start in range(0, len(claimed), declared.batch_size):
                    _process_many(factory, declared, claimed[start:start + declared.batch_size], worker, report)
            else:
                for event_id in claimed:
                    _process_one(factory, declared, event_id, worker, report)
            if max_batches is not None and batches >= max_batches and len(claimed) >= batch:
                report.more = True
    return report


DELIVER_TASK = "events.deliver"


@tasks.scheduled(every=timedelta(seconds=30))
@tasks.task(DELIVER_TASK, max_attempts=1, lease=timedelta(minutes=10), realtime=True)
def deliver_task() -> int:
    """Deliver pending events to their consumers (enqueued after each commit that emitted events, and every
    30 s so that nothing waits on a lost message). One batch per consumer per run, then a follow-up run is queued:
    a burst of events does not hold the runner, so the work its consumers queued (sending alerts) runs in
    between."""
    report = deliver_pending(max_batches=1)
    if report.more:
        from upswing.core.db import transaction

        with transaction() as session:
            tasks.enqueue(session, DELIVER_TASK, key=f"{DELIVER_TASK}:more:{uuid.uuid4()}", max_attempts=1)
    return report.processed


# --------------------------------------------------------------------------------------------------
# Status and retention


@dataclass(frozen=True)
class ConsumerStatus:
    consumer: str
    pending: int
    failed: int
    oldest_pending_at: datetime | None


def status(session: Session) -> list[ConsumerStatus]:
    """Per consumer: pending and failed receipts, and the oldest pending event (the consumer's lag)."""
    counts: dict[str, dict[str, Any]] = defaultdict(lambda: {"pending": 0, "failed": 0, "oldest": None})
    for name, state, count, oldest in session.execute(
        select(OutboxReceipt.consumer, OutboxReceipt.status, func.count(), func.min(OutboxReceipt.event_at))
        .where(OutboxReceipt.status != ReceiptStatus.DONE.value)
        .group_by(OutboxReceipt.consumer, OutboxReceipt.status)
    ):
        counts[name][state] = count
        if state == ReceiptStatus.PENDING.value:
            counts[name]["oldest"] = oldest
    names = sorted(set(registered_consumers()) | set(counts))
    return [ConsumerStatus(name, counts[name]["pending"], counts[name]["failed"], counts[name]["oldest"])
            for name in names]


declare_gauge("upswing_outbox_backlog", "Outbox receipts waiting for their consumer (pending)")
declare_gauge("upswing_outbox_failed", "Outbox receipts that failed for good (see `upswing events status`)")
declare_gauge("upswing_outbox_oldest_pending_age_seconds", "Age of the oldest pending event per consumer: the "
              "consumer's lag (0: nothing pending)")


def outbox_gauges(session: Session) -> list[Sample]:
    """``status`` as gauges, per consumer (read when /metrics is scraped: core/metrics.py)."""
    now = utcnow()
    samples: list[Sample] = []
    for row in status(session):
        labels = {"consumer": row.consumer}
        oldest = row.oldest_pending_at
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        samples += [Sample("upswing_outbox_backlog", float(row.pending), labels),
                    Sample("upswing_outbox_failed", float(row.failed), labels),
                    Sample("upswing_outbox_oldest_pending_age_seconds",
                           max((now - oldest).total_seconds(), 0.0) if oldest else 0.0, labels)]
    return samples


def retry_failed(session: Session, consumer_name: str | None = None) -> int:
    """Put failed receipts back in the queue (after the cause was fixed)."""
    query = update(OutboxReceipt).where(OutboxReceipt.status == ReceiptStatus.FAILED.value)
    if consumer_name:
        query = query.where(OutboxReceipt.consumer == consumer_name)
    result = cast(CursorResult[Any], session.execute(
        query.values(status=ReceiptStatus.PENDING.value, attempts=0, run_after=utcnow(), processed_at=None)
        .execution_options(synchronize_session=False)))
    return result.rowcount


@tasks.scheduled(every=timedelta(days=1))
@tasks.task("events.purge")
def purge_delivered(keep_days: int | None = None) -> int:
    """Delete events older than the retention whose receipts are all done (failed and pending ones stay)."""
    from upswing.core.db import transaction
    from upswing.settings import get_settings

    days = keep_days if keep_days is not None else get_settings().event_retention_days
    cutoff = utcnow() - timedelta(days=days)
    with transaction() as session:
        unfinished = select(OutboxReceipt.event_id).where(OutboxReceipt.status != ReceiptStatus.DONE.value)
        result = cast(CursorResult[Any], session.execute(
            delete(OutboxEvent).where(OutboxEvent.created_at < cutoff, OutboxEvent.id.not_in(unfinished))
            .execution_options(synchronize_session=False)))
        return result.rowcount
