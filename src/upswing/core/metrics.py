"""Prometheus metrics (docs/observability.md has the catalogue).

Two kinds:

* **Counted where things happen** (a counter increment or a histogram observation, nothing else): request
  latency by route template (``MetricsMiddleware``), task runs and durations (``core.tasks.execute``, the one
  place both runners execute a run), alert delivery latency (where deliveries are recorded as sent), model
  predictions (``detection.text.analyze_texts``).
* **Read from the database when scraped** (queue depths, outbox lag and backlog, source states and budgets):
  ``DatabaseGauges`` runs the registered readers at most every ``UPSWING_METRICS_DB_CACHE_SECONDS`` under a
  short statement timeout and keeps the last answer, so a slow database never hangs a scrape and a scrape
  storm never loads it. No request does any database work for metrics.

Several processes (``upswing serve --workers N``, Celery's prefork pool) share their counters through
prometheus-client's multiprocess mode: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by all of
them before they start (``upswing serve`` empties it at start-up). Without it each process exposes its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from upswing.core.logging import get_logger

log = get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Request latency: most answers take milliseconds, reports and imports seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Tasks run from milliseconds (an outbox batch) to many minutes (a source's monitoring run).
_TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)
#: From a signal's detection to its alert leaving: seconds (in-app) to hours (quiet hours, retries).
_DELIVERY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0, 12 * 3600.0,
                     24 * 3600.0)

HTTP_REQUEST_DURATION = Histogram(
    "upswing_http_request_duration_seconds",
    "API request duration (to the end of the answer) by method, route template and status class",
    ["method", "route", "status"], buckets=_LATENCY_BUCKETS)
TASK_DURATION = Histogram(
    "upswing_task_duration_seconds", "Task run duration by task name and outcome (done, retry, failed)",
    ["task", "outcome"], buckets=_TASK_BUCKETS)
TASK_RUNS = Counter(
    "upswing_task_runs", "Task runs executed by task name and outcome (done, retry, failed)", ["task", "outcome"])
ALERT_DELIVERY_LATENCY = Histogram(
    "upswing_alert_delivery_latency_seconds",
    "From the signal's detection to its alert delivery being sent, by channel", ["channel"],
    buckets=_DELIVERY_BUCKETS)
MODEL_PREDICTIONS = Counter(
    "upswing_model_predictions", "Texts classified, by classifier kind (person, company) and decided label "
    "(none: below its confidence threshold)", ["kind", "label"])

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def reset_multiprocess_dir() -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` (before the server's processes start: a previous run's counters would
    otherwise be added to this one's)."""
    directory = multiprocess_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------------
# Requests


def route_template(scope: Scope) -> str:
    """The route that answered, as declared (``/api/v1/leads/{lead_id}``): never the raw path, which carries
    ids and, in a search, personal data."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    if scope.get("endpoint") is not None and isinstance(scope.get("app_root_path"), str):
        # A mount (static files) answered: its prefix, which routing appended to the root path.
        prefix = str(scope.get("root_path", ""))[len(scope["app_root_path"]):]
        return f"{prefix}/*"
    return UNMATCHED


class MetricsMiddleware:
    """Observes each HTTP request's duration (pure ASGI: streamed answers pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observe_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            HTTP_REQUEST_DURATION.labels(method, route_template(scope), f"{status // 100}xx").observe(
                time.perf_counter() - start)


# --------------------------------------------------------------------------------------------------
# Gauges read from the database


@dataclass(frozen=True)
class Sample:
    """One gauge value: ``Sample("upswing_outbox_backlog", 3, {"consumer": "alerts.route"})``."""

    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


#: A reader: the session (read-only, under the statement timeout) → its samples.
Reader = Callable[[Any], Iterable[Sample]]
#: Help text of every gauge a reader may report (a sample of an undeclared name is a programming error).
GAUGES: dict[str, str] = {
    "upswing_metrics_database_up": "1 when the last read of the database gauges succeeded, else 0",
    "upswing_metrics_database_read_seconds": "How long the last read of the database gauges took",
    "upswing_metrics_database_read_age_seconds": "Age of the database gauges served (cached between reads)",
}


def declare_gauge(name: str, help_text: str) -> None:
    GAUGES[name] = help_text


class DatabaseGauges(Collector):
    """A collector whose gauges come from the database, read at most every ``cache_seconds`` (others scraping
    meanwhile get the last answer; a failed read keeps the previous values and reports
    ``upswing_metrics_database_up 0``)."""

    def __init__(self, session: Callable[[], Any], readers: Sequence[Reader], *, cache_seconds: float = 15,
                 timeout_ms: int = 2000, clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.readers = list(readers)
        self.cache_seconds = cache_seconds
        self.timeout_ms = timeout_ms
        self.clock = clock
        self._lock = threading.Lock()
        self._samples: list[Sample] = []
        self._read_at: float | None = None
        self._up = 0.0
        self._took = 0.0

    def describe(self) -> Iterable[Metric]:
        return []  # names are not checked against the other collectors' (they are distinct by construction)

    def collect(self) -> Iterator[Metric]:
        self._refresh()
        now = self.clock()
        samples = [*self._samples, Sample("upswing_metrics_database_up", self._up),
                   Sample("upswing_metrics_database_read_seconds", self._took),
                   Sample("upswing_metrics_database_read_age_seconds",
                          now - self._read_at if self._read_at is not None else 0.0)]
        families: dict[str, GaugeMetricFamily] = {}
        for sample in samples:
            family = families.get(sample.name)
            if family is None:
                family = families[sample.name] = GaugeMetricFamily(
                    sample.name, GAUGES.get(sample.name, sample.name), labels=sorted(sample.labels))
            family.add_metric([sample.labels[key] for key in sorted(sample.labels)], sample.value)
        yield from families.values()

    def _refresh(self) -> None:
        if self._read_at is not None and self.clock() - self._read_at < self.cache_seconds:
            return
        if not self._lock.acquire(blocking=False):
            return  # another scrape is reading: serve what there is
        try:
            if self._read_at is not None and self.clock() - self._read_at < self.cache_seconds:
                return
            started = time.perf_counter()
            try:
                self._samples = self._read()
                self._up = 1.0
            except Exception as exc:  # the database is slow or down: keep the last values, say so
                log.warning("metrics.database_read_failed", error=f"{type(exc).__name__}: {exc}"[:300])
                self._up = 0.0
            self._took = time.perf_counter() - started
            self._read_at = self.clock()
        finally:
            self._lock.release()

    def _read(self) -> list[Sample]:
        samples: list[Sample] = []
        with self.session() as session:
            bind = session.get_bind()
            postgres = bind.dialect.name == "postgresql"
            if postgres:  # for this transaction only (the tests' outer transaction gets its own back)
                previous = session.execute(_text("SELECT current_setting('statement_timeout')")).scalar()
                session.execute(_text("SELECT set_config('statement_timeout', :v, true)"),
                                {"v": str(self.timeout_ms)})
            try:
                for reader in self.readers:
                    samples.extend(reader(session))
            finally:
                if postgres:  # (an aborted transaction refuses this: its rollback resets the setting anyway)
                    with contextlib.suppress(Exception):
                        session.execute(_text("SELECT set_config('statement_timeout', :v, true)"),
                                        {"v": str(previous)})
                session.rollback()
        unknown = {sample.name for sample in samples} - set(GAUGES)
        if unknown:
            raise ValueError(f"undeclared gauges: {sorted(unknown)}")
        return samples


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


# --------------------------------------------------------------------------------------------------
# Exposition


class _ProcessMetrics(Collector):
    """This process's counters and histograms (the default registry), forwarded into an exposition registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition_registry(*collectors: Collector) -> CollectorRegistry:
    """What a scrape sees: every process's metrics (multiprocess mode) or this process's, plus ``collectors``."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir() is not None:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessMetrics())
    for collector in collectors:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def start_metrics_server(port: int, address: str = "0.0.0.0", *collectors: Collector) -> None:  # noqa: S104
    """Serve ``/metrics`` on its own port (``upswing worker --metrics-port``: a Celery worker has no API)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=address, registry=exposition_registry(*collectors))
