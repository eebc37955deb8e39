"""``GET /metrics``: the Prometheus text format (wiring: it gathers the gauges of several domains).

A plain route, not an API endpoint (not in the OpenAPI document, not behind a user sign-in): a scrape sends
``Authorization: Bearer <UPSWING_METRICS_TOKEN>`` when that is set; without a token the route answers in
development and test only (404 in production), and ``UPSWING_METRICS_ENABLED=false`` removes it.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from upswing.core import outbox, tasks
from upswing.core.db import read_session
from upswing.core.metrics import CONTENT_TYPE, DatabaseGauges, MetricsMiddleware, exposition_registry, render
from upswing.settings import Settings
from upswing.source.metrics import source_gauges

METRICS_PATH = "/metrics"


def database_gauges(app: FastAPI, settings: Settings) -> DatabaseGauges:
    """The gauges read from the app's database (queues, outbox, sources), cached between scrapes."""
    return DatabaseGauges(lambda: read_session(app.state.session_factory),
                          [tasks.queue_gauges, outbox.outbox_gauges, source_gauges],
                          cache_seconds=settings.metrics_db_cache_seconds, timeout_ms=settings.metrics_db_timeout_ms)


def install(app: FastAPI, settings: Settings) -> None:
    """Observe every request's duration and serve ``/metrics`` (add it last: the middleware is then outermost)."""
    app.add_middleware(MetricsMiddleware)
    if not settings.metrics_enabled:
        return
    registry = exposition_registry(database_gauges(app, settings))
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
    served = token is not None or settings.environment != "production"

    def metrics(request: Request) -> Response:
        if not served:
            return PlainTextResponse("Not Found: set UPSWING_METRICS_TOKEN to serve /metrics", status_code=404)
        if token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
                return PlainTextResponse("a bearer token is required", status_code=401,
                                         headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(render(registry), media_type=CONTENT_TYPE)

    app.add_route(METRICS_PATH, metrics, include_in_schema=False)
