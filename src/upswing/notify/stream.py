"""The in-app live stream: per-user events, stored so a client can resume, and a wake-up fan-out.

``publish(session, user_id, kind, data)`` writes a ``stream_events`` row in the caller's transaction. The row
*is* the event: its id is the Server-Sent Events id, so a client reconnecting with ``Last-Event-ID`` reads what it
missed from the table, and a stream only ever reads its own user's rows. What crosses processes is a wake-up,
not the data:

* PostgreSQL: ``pg_notify('upswing_stream', <user id>)`` in the same transaction (delivered on commit, dropped
  on rollback); every API process runs one listener connection that wakes its local subscribers.
* SQLite (the embedded default, one process): an after-commit hook wakes the local subscribers directly.

Subscribers also poll every ``stream_poll_seconds``, so a wake-up lost in between (a listener reconnecting, a
worker process on SQLite) costs at most that long, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Uuid, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from upswing.core.db import Base, JSONType, UTCDateTime, held_until_commit, is_transaction_pooler, utcnow
from upswing.core.logging import get_logger

log = get_logger(__name__)

CHANNEL = "upswing_stream"
#: First key of the two-key advisory locks of user streams (keeps them apart from other advisory locks).
_LOCK_NAMESPACE = 7_401
_PENDING_WAKES = "upswing.stream_wakes"


class StreamEvent(Base):
    """One event for one user's live stream (kept ``stream_retention_days`` for resuming clients)."""

    __tablename__ = "stream_events"
    __table_args__ = (Index("ix_stream_events_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: The stream locks of many users, taken in the order given: the sorted subquery feeds the aggregate row by row.
_LOCK_IN_ORDER = text("""
    SELECT count(pg_advisory_xact_lock(:namespace, hashtext(u)))
    FROM (SELECT u FROM unnest(CAST(:users AS text[])) WITH ORDINALITY AS given(u, n) ORDER BY n) AS in_order
""")


def lock_streams(session: Session, user_ids: Iterable[uuid.UUID]) -> None:
    """Take the users' stream locks until the transaction ends (PostgreSQL; SQLite has one writer at a time).

    A reader resumes from the last id it saw, so a user's events must become visible in id order: an id given to
    one transaction must not commit after a larger id given to another, or the reader passes it by for good.
    Holding the user's lock from before the id is drawn until the commit makes commits follow ids. Several users
    are locked in one sorted order, so two transactions never wait on each other."""
    if session.get_bind().dialect.name != "postgresql":
        return
    users = sorted({str(user_id) for user_id in user_ids})
    if users:  # one round trip for any number of users (an alert batch reaches hundreds)
        session.execute(_LOCK_IN_ORDER, {"namespace": _LOCK_NAMESPACE, "users": users})


def publish(session: Session, user_id: uuid.UUID, kind: str, data: dict[str, Any]) -> None:
    """Add an event to a user's stream, in the caller's transaction."""
    publish_many(session, [(user_id, kind, data)])


def publish_many(session: Session, events: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]) -> None:
    """``publish`` for many events at once: the users' locks in one order, one flush, one notification each."""
    if not events:
        return
    users = {user_id for user_id, _, _ in events}
    lock_streams(session, users)
    now = utcnow()
    session.add_all([StreamEvent(user_id=user_id, kind=kind, data=data, created_at=now)
                     for user_id, kind, data in events])
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT count(pg_notify(:channel, u)) FROM unnest(CAST(:users AS text[])) AS u"),
                        {"channel": CHANNEL, "users": sorted(str(user_id) for user_id in users)})
    _wake_later(session, users)


def _wake_later(session: Session, users: Iterable[uuid.UUID]) -> None:
    held_until_commit(session, _PENDING_WAKES, set, _wake).update(users)


def _wake(users: set[uuid.UUID]) -> None:
    for user_id in users:
        BROADCASTER.wake(user_id)


def read_since(session: Session, user_id: uuid.UUID, after_id: int, *, limit: int = 200) -> list[StreamEvent]:
    return list(session.scalars(select(StreamEvent).where(StreamEvent.user_id == user_id, StreamEvent.id > after_id)
                                .order_by(StreamEvent.id).limit(limit)))


def latest_id(session: Session, user_id: uuid.UUID) -> int:
    return session.scalar(select(StreamEvent.id).where(StreamEvent.user_id == user_id)
                          .order_by(StreamEvent.id.desc()).limit(1)) or 0


class Broadcaster:
    """Wakes the subscribers of a user in this process (each an asyncio event on its own loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[uuid.UUID, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)
        self._listeners: list[Callable[[uuid.UUID], None]] = []

    def subscribe(self, user_id: uuid.UUID) -> tuple[asyncio.Event, Callable[[], None]]:
        """An event set whenever the user's stream may have something new, and the function that unsubscribes."""
        loop = asyncio.get_running_loop()
        signal = asyncio.Event()
        entry = (loop, signal)
        with self._lock:
            self._subscribers[user_id].add(entry)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers[user_id].discard(entry)
                if not self._subscribers[user_id]:
                    del self._subscribers[user_id]

        return signal, unsubscribe

    def add_listener(self, listener: Callable[[uuid.UUID], None]) -> None:
        """Also call ``listener(user_id)`` on every wake-up (the terminal tail, tests)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[uuid.UUID], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def wake(self, user_id: uuid.UUID) -> None:
        with self._lock:
            targets = list(self._subscribers.get(user_id, ()))
            listeners = list(self._listeners)
        for loop, signal in targets:
            with contextlib.suppress(RuntimeError):  # the loop closed under us: that subscriber is gone
                loop.call_soon_threadsafe(signal.set)
        for listener in listeners:
            listener(user_id)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(entries) for entries in self._subscribers.values())


BROADCASTER = Broadcaster()


class PostgresListener:
    """One ``LISTEN upswing_stream`` connection per process, waking local subscribers (reconnects on failure)."""

    def __init__(self, url: str, broadcaster: Broadcaster = BROADCASTER) -> None:
        self._url = url
        self._broadcaster = broadcaster
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def start(self) -> PostgresListener:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="upswing-stream-listener", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            try:
                                self._broadcaster.wake(uuid.UUID(notice.payload))
                            except ValueError:
                                continue
            except Exception as exc:  # a dropped connection: subscribers still poll meanwhile
                self.ready.clear()
                log.warning("stream.listener_failed", error=f"{type(exc).__name__}: {exc}")
                self._stop.wait(1.0)


_LISTENERS: dict[str, PostgresListener] = {}
_LISTENERS_LOCK = threading.Lock()


def ensure_listener(sqlalchemy_url: str) -> PostgresListener | None:
    """Start this process's PostgreSQL listener for the database (once); None on SQLite, and through a
    transaction pooler, which cannot carry LISTEN (subscribers then poll every ``stream_poll_seconds``)."""
    from upswing.settings import get_settings

    if not sqlalchemy_url.startswith("postgresql") or is_transaction_pooler(
            sqlalchemy_url, get_settings().db_transaction_pooler):
        return None
    url = sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with _LISTENERS_LOCK:
        listener = _LISTENERS.get(url)
        if listener is None:
            listener = _LISTENERS[url] = PostgresListener(url).start()
        return listener
