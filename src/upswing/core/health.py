"""Liveness (``/healthz``) and readiness (``/readyz``): docs/deployment.md, "Health checks".

``/readyz`` runs named checks and answers 503 when any fails, naming it:

* ``database``: a ``SELECT 1``;
* ``migrations``: the schema is at the code's head revision;
* ``broker``: with the Celery runner, the broker (Redis or RabbitMQ) answers a ping within
  ``UPSWING_READINESS_BROKER_TIMEOUT_SECONDS``; the answer is reused ``UPSWING_READINESS_BROKER_CACHE_SECONDS``
  (a probe every second must not open a broker connection every second, nor wait the timeout each time);
* ``outbox``: the oldest undelivered (pending) outbox event is younger than
  ``UPSWING_READINESS_OUTBOX_MAX_LAG_SECONDS``. Failed receipts do not count: they wait for a person
  (``upswing events status``) and would otherwise keep every replica out of service.

``?exclude=outbox&exclude=broker`` leaves checks out (as Kubernetes' own ``/readyz?exclude=``): the API's
readiness probe excludes what the API can serve without, so a slow worker does not take the API down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select, text

from upswing import __version__
from upswing.core import migrate, outbox, tasks
from upswing.core.db import read_only
from upswing.settings import Settings, get_settings

router = APIRouter(tags=["health"])

CheckName = Literal["database", "migrations", "broker", "outbox"]
CHECKS: tuple[CheckName, ...] = ("database", "migrations", "broker", "outbox")
_NEED_THE_DATABASE: tuple[CheckName, ...] = ("migrations", "outbox")


class Check(BaseModel):
    state: Literal["ok", "failed", "skipped"]
    detail: str | None = Field(default=None, description="Why it failed or was skipped, or what was measured")
    ms: float = Field(description="How long the check took")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    failed: list[CheckName] = Field(description="The checks that failed (empty when ready)")
    checks: dict[CheckName, Check]
    revision: str | None = Field(default=None, description="The database's migration revision")


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers (no dependency is checked: restarting it would not fix them)."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", operation_id="readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A check failed (named in `failed`)"}})
def readyz(request: Request, response: Response,
           exclude: Annotated[list[CheckName] | None, Query(
               description="Checks to leave out (repeatable): the API's probe leaves out broker and outbox")] = None,
           ) -> Readiness:
    """Readiness: database, migrations, the broker (Celery runner) and the outbox lag, each named with its
    state; 503 when any fails."""
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    skipped = set(exclude or ())
    checks: dict[CheckName, Check] = {}
    revision: list[str | None] = [None]  # filled in by the migrations check
    try:
        with read_only(request.app.state.engine).connect() as connection:
            checks["database"] = _timed(lambda: _database(connection))
            if checks["database"].state == "failed":
                raise _DatabaseFailed
            if "migrations" not in skipped:
                checks["migrations"] = _timed(lambda: _migrations(connection, revision))
            if "outbox" not in skipped:
                checks["outbox"] = _timed(lambda: _outbox_lag(connection, settings.readiness_outbox_max_lag_seconds))
    except _DatabaseFailed:
        pass
    except Exception as exc:  # any failure to reach the database means "not ready"
        checks["database"] = Check(state="failed", detail=type(exc).__name__, ms=0)
    if checks["database"].state == "failed":
        for name in _NEED_THE_DATABASE:
            checks[name] = Check(state="skipped", detail="database unavailable", ms=0)
    checks["broker"] = _timed(lambda: _broker(settings)) if "broker" not in skipped else _excluded()
    for name in skipped:
        checks[name] = _excluded()
    ordered = {name: checks[name] for name in CHECKS}
    failed = [name for name, check in ordered.items() if check.state == "failed"]
    if failed:
        response.status_code = 503
    return Readiness(status="unavailable" if failed else "ready", failed=failed, checks=ordered,
                     revision=revision[0])


class _DatabaseFailed(Exception):
    """The database answered the connection but not ``SELECT 1``: the other checks cannot say anything."""


def _excluded() -> Check:
    return Check(state="skipped", detail="excluded", ms=0)


def _timed(check: Callable[[], tuple[bool | None, str | None]]) -> Check:
    """Run a check returning (ok, detail); ok None means it does not apply here."""
    start = time.perf_counter()
    try:
        ok, detail = check()
    except Exception as exc:
        ok, detail = False, type(exc).__name__
    ms = round((time.perf_counter() - start) * 1000, 2)
    return Check(state="skipped" if ok is None else "ok" if ok else "failed", detail=detail, ms=ms)


def _database(connection: Connection) -> tuple[bool, str | None]:
    connection.execute(text("SELECT 1"))
    return True, None


@lru_cache(maxsize=1)
def _head_revision() -> str | None:
    return migrate.head_revision()  # reads the migration scripts (~30 ms): once per process


def _migrations(connection: Connection, found: list[str | None]) -> tuple[bool, str | None]:
    from alembic.runtime.migration import MigrationContext

    revision = found[0] = MigrationContext.configure(connection).get_current_revision()
    head = _head_revision()
    if revision != head:
        return False, f"at {revision}, expected {head}: run `upswing db upgrade`"
    return True, revision


@lru_cache(maxsize=1)
def _consumer_names() -> tuple[str, ...]:
    tasks.load_task_modules()
    return tuple(sorted(outbox.registered_consumers()))


def _outbox_lag(connection: Connection, max_lag_seconds: float) -> tuple[bool, str | None]:
    """The age of the oldest pending receipt's event. One look-up per consumer: each is the first entry of the
    receipts' (consumer, status, event_at) index, however long the backlog (an ``IN`` over the consumers would
    read every pending receipt)."""
    receipts = outbox.OutboxReceipt
    pending = receipts.status == outbox.ReceiptStatus.PENDING.value
    names = _consumer_names()
    queries = ([select(func.min(receipts.event_at)).where(receipts.consumer == name, pending) for name in names]
               or [select(func.min(receipts.event_at)).where(pending)])
    found = [at for at in (connection.execute(query).scalar() for query in queries) if at is not None]
    oldest = min(found, key=_aware) if found else None
    if oldest is None:
        return True, "lag 0 s"
    lag = max(0.0, (datetime.now(UTC) - _aware(oldest)).total_seconds())
    detail = f"lag {lag:.0f} s (limit {max_lag_seconds:.0f} s)"
    return lag <= max_lag_seconds, detail


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


# --------------------------------------------------------------------------------------------------
# The broker


_broker_lock = threading.Lock()
#: broker URL → (monotonic time of the ping, ok, detail)
_broker_answers: dict[str, tuple[float, bool, str | None]] = {}


def _broker(settings: Settings) -> tuple[bool | None, str | None]:
    if settings.task_runner != "celery":
        return None, "embedded task runner: no broker"
    url = settings.celery_broker_url
    now = time.monotonic()
    cached = _broker_answers.get(url)
    if cached is not None and now - cached[0] < settings.readiness_broker_cache_seconds:
        return cached[1], cached[2]
    with _broker_lock:  # one ping at a time; the others wait for its answer
        cached = _broker_answers.get(url)
        if cached is not None and time.monotonic() - cached[0] < settings.readiness_broker_cache_seconds:
            return cached[1], cached[2]
        try:
            ping_broker(url, settings.readiness_broker_timeout_seconds)
            answer: tuple[bool, str | None] = (True, _scheme(url))
        except Exception as exc:
            answer = (False, f"{_scheme(url)}: {type(exc).__name__}")
        _broker_answers[url] = (time.monotonic(), *answer)
        return answer


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "broker"


def ping_broker(url: str, timeout: float) -> None:
    """Raise unless the broker answers within ``timeout`` seconds: Redis a PING, RabbitMQ (any other kombu
    transport) an opened connection. Never logs the URL (it may hold a password)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu.connection import Connection

    with Connection(url, connect_timeout=timeout,  # type: ignore[no-untyped-call]
                    transport_options={"max_retries": 0}) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)


def forget_broker_answers() -> None:
    """Drop the cached broker pings (tests; a process that changed its broker)."""
    with _broker_lock:
        _broker_answers.clear()
