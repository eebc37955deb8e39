"""Database engine, sessions and the portable column types every model uses.

SQLite (the embedded default) and PostgreSQL are both first-class: types here map to native
ones on PostgreSQL (UUID, JSONB, timestamptz) and to portable ones on SQLite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
    # SAVEPOINTs and "nothing half-written" rollbacks behave as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A writer waits this long for the write lock (an import's write phase holds it for seconds).
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # 64 MiB page cache (the default is 2 MiB): index pages of a 100k-lead book then stay in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


#: SQLite write transactions start with the write lock (``BEGIN IMMEDIATE``): a transaction that first reads
#: and then writes would otherwise fail at once with "database is locked" whenever another writer committed in
#: between (WAL gives it a stale snapshot, and SQLite does not wait in that case). Transactions that only read
#: opt out with ``READ_ONLY`` and never block or wait: in WAL, readers and the one writer run side by side.
SQLITE_BEGIN_OPTION = "sqlite_begin"
READ_ONLY: dict[str, Any] = {SQLITE_BEGIN_OPTION: "DEFERRED"}
_BEGIN_MODES = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql(_BEGIN_MODES[mode])


def read_only(engine: Engine) -> Engine:
    """The engine for transactions that only read (on SQLite they start DEFERRED and take no write lock)."""
    return engine.execution_options(**READ_ONLY)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


#: The port of Supabase's transaction pooler (Supavisor); its session pooler and direct connections use 5432.
TRANSACTION_POOLER_PORT = 6543


def is_transaction_pooler(url: str, setting: bool | None = None) -> bool:
    """Whether PostgreSQL is reached through a transaction pooler (each transaction may run on another server
    connection): ``UPSWING_DB_TRANSACTION_POOLER`` when set, otherwise a URL on port 6543."""
    if setting is not None:
        return setting
    return url.startswith("postgresql") and make_url(url).port == TRANSACTION_POOLER_PORT


def _set_local(settings: dict[str, str], connection: Any) -> None:
    """Through a transaction pooler: the session settings, for each transaction (``set_config(…, true)``)."""
    assignments = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in settings.items())
    connection.exec_driver_sql(f"SELECT {assignments}")


def make_engine(url: str, *, statement_timeout_ms: int | None = None, transaction_pooler: bool | None = None,
                **kwargs: Any) -> Engine:
    # orjson: raw payloads are stored as JSON on every write; the stdlib encoder was a hot spot.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Short OLTP queries: JIT compilation costs PostgreSQL 200–450 ms per query and never pays back here.
    # random_page_cost 1.1 (SSD or cached data; the default 4 assumes spinning disks): with 4 the planner
    # counted an agent's first 1,000 signals with a sequential scan (11 ms) instead of their index (1 ms).
    session_settings = {"jit": "off", "random_page_cost": "1.1"}
    if statement_timeout_ms:
        session_settings["statement_timeout"] = str(int(statement_timeout_ms))
    connect_args = dict(kwargs.pop("connect_args", {}))
    if not is_transaction_pooler(url, transaction_pooler):
        options = [f"-c {name}={value}" for name, value in session_settings.items()]
        connect_args["options"] = " ".join([connect_args.get("options", ""), *options]).strip()
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    # A transaction pooler (Supavisor on 6543, PgBouncer pool_mode=transaction) hands each transaction to any
    # server connection: a statement psycopg prepared on one is unknown on the next (no prepared statements),
    # and startup options are refused or lost (the settings are made transaction-local instead, one round trip
    # per transaction). The SSL mode comes from the URL (``?sslmode=require``), as libpq reads it.
    connect_args["prepare_threshold"] = None
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    event.listen(engine, "begin", partial(_set_local, session_settings))
    return engine


def make_api_engine(settings: Any) -> Engine:
    """The API server's engine: a pool sized for its worker threads (``UPSWING_DB_POOL_*``) and a statement
    timeout, so that one slow query cannot hold up the server (a request that hits it answers 503)."""
    if settings.sqlalchemy_url.startswith("sqlite"):
        return make_engine(settings.sqlalchemy_url)
    return make_engine(settings.sqlalchemy_url, statement_timeout_ms=settings.api_statement_timeout_ms,
                       transaction_pooler=settings.db_transaction_pooler,
                       pool_size=settings.db_pool_size, max_overflow=settings.db_pool_max_overflow,
                       pool_timeout=settings.db_pool_timeout_seconds)


_engines: dict[str, Engine] = {}


def _forget_parent_connections() -> None:
    """In a forked child (Celery's worker processes): never reuse a pooled connection the parent opened, which
    both processes would then talk over at once; the child opens its own."""
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def get_engine(url: str | None = None) -> Engine:
    from upswing.settings import get_settings

    url = url or get_settings().sqlalchemy_url
    if url not in _engines:
        pooler = get_settings().db_transaction_pooler if url.startswith("postgresql") else None
        _engines[url] = make_engine(url, transaction_pooler=pooler)
    return _engines[url]


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


def read_session(factory: sessionmaker[Session]) -> Session:
    """A session for work that only reads: on SQLite its transactions start DEFERRED (no write lock taken, none
    waited for). A factory bound to a connection (the tests') is used as it is."""
    bind = factory.kw.get("bind")
    return factory(bind=read_only(bind)) if isinstance(bind, Engine) else factory()


@contextmanager
def transaction(engine: Engine | None = None, *, read: bool = False) -> Iterator[Session]:
    """A unit of work for CLI commands and tasks: commit on success, roll back on any error. ``read=True`` for
    one that only reads (on SQLite it then neither takes nor waits for the write lock)."""
    engine = engine or get_engine()
    session = session_factory(read_only(engine) if read else engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def in_short_transactions(step: Callable[[Session], int], engine: Engine | None = None) -> int:
    """Run ``step`` in a transaction of its own until it does nothing (returns 0); the total it did. Long
    maintenance as short write transactions, so no one waits long for the write lock."""
    total = 0
    while True:
        with transaction(engine) as session:
            done = step(session)
        total += done
        if not done:
            return total


#: What ``held_until_commit`` keeps: a list (in order) or a set (once each).
Held = TypeVar("Held", list[Any], set[Any])


def held_until_commit(session: Session, key: str, new: Callable[[], Held],
                      on_commit: Callable[[Held], None]) -> Held:
    """A collection kept in ``session.info[key]`` for what may only leave the process once the session's
    transaction is committed (task runs handed to a broker, live-stream wake-ups): ``on_commit`` gets its items
    when the outermost transaction commits, and a rollback of it forgets them.

    SQLAlchemy fires ``after_commit`` when a savepoint is released too, and ``after_rollback`` when one is rolled
    back: neither is the transaction's end, so both are told apart with ``in_nested_transaction()`` (during the
    event the session is still "in" the transaction, so ``in_transaction()`` cannot tell)."""
    held: Held | None = session.info.get(key)
    if held is not None:
        return held
    held = session.info[key] = new()

    def committed(committed_session: Session) -> None:
        if committed_session.in_nested_transaction():
            return
        items = held.copy()
        held.clear()  # before handing them on: what on_commit does cannot see them twice
        if items:
            on_commit(items)

    def rolled_back(rolled_back_session: Session) -> None:
        if not rolled_back_session.in_nested_transaction():
            held.clear()

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_rollback", rolled_back)
    return held
