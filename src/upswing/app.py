"""The FastAPI application: wiring only; every endpoint lives in its domain's ``api.py``."""

from __future__ import annotations

import gc
from functools import partial
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from upswing import __version__
from upswing.account.api import router as account_router
from upswing.account.ratelimit import TokenBuckets
from upswing.account.security import request_owner
from upswing.alert.api import router as alert_router
from upswing.analytics.api import router as analytics_router
from upswing.audit.api import router as audit_router
from upswing.compliance.api import router as compliance_router
from upswing.core import api_errors
from upswing.core.db import make_api_engine, session_factory
from upswing.core.health import router as health_router
from upswing.core.idempotency import IdempotencyMiddleware
from upswing.core.logging import configure_logging
from upswing.core.metrics_api import install as install_metrics
from upswing.core.request_id import CorrelationIdMiddleware, middleware_options
from upswing.core.sentry import init_sentry
from upswing.core.spa import mount_dashboard
from upswing.crm.api import router as crm_router
from upswing.dedupe.api import router as dedupe_router
from upswing.digest.api import router as digest_router
from upswing.digest.mail_api import router as digest_mail_router
from upswing.discovery.api import router as discovery_router
from upswing.escalation.api import router as escalation_router
from upswing.experiment.api import router as experiment_router
from upswing.geo.api import router as geo_router
from upswing.lead.api import router as lead_router
from upswing.matching.api import router as matching_router
from upswing.observation.api import router as observation_router
from upswing.outcome.api import router as outcome_router
from upswing.privacy.api import router as privacy_router
from upswing.resolution.api import router as resolution_router
from upswing.service_catalog.api import router as service_catalog_router
from upswing.settings import Settings, get_settings
from upswing.signal.api import router as signal_router
from upswing.signal.service import scoring_config
from upswing.source.api import router as source_router
from upswing.tracking.api import router as tracking_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    init_sentry(settings)  # only when UPSWING_SENTRY_DSN is set (core/sentry.py)
    scoring_config(settings)  # refuse to start with scoring settings that contradict the defaults
    if settings.uses_placeholder_secret:
        # Tokens signed with the published placeholder could be forged by anyone (``make demo`` makes its own).
        raise RuntimeError("UPSWING_SECRET_KEY is not set: refusing to serve with the placeholder secret")
    app = FastAPI(title="Upswing", version=__version__, docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    _serve_docs_offline(app)
    app.state.settings = settings
    app.state.engine = make_api_engine(settings)
    app.state.session_factory = session_factory(app.state.engine)
    # Machine clients' rate limits (account/ratelimit.py): in this process.
    app.state.client_rate_limiter = TokenBuckets(settings.api_client_rate_per_minute / 60, settings.api_client_burst)

    # The dedupe router goes before the lead router: /leads/duplicates and /leads/merges are not lead ids.
    for router in (health_router, account_router, dedupe_router, lead_router, signal_router, observation_router,
                   resolution_router, compliance_router, privacy_router, audit_router, source_router, alert_router,
                   escalation_router, digest_router, digest_mail_router, analytics_router, crm_router, outcome_router,
                   experiment_router, tracking_router, service_catalog_router, matching_router,
                   geo_router, discovery_router):
        app.include_router(router)

    api_errors.install(app)
    mount_dashboard(app, settings.dashboard_dir)  # last: its catch-all answers only what no route above took
    # Every POST may carry an Idempotency-Key (core/idempotency.py); inside the compression, so answers are kept
    # as the endpoint gave them.
    app.add_middleware(IdempotencyMiddleware, session_factory=lambda: app.state.session_factory,
                       scope_of=partial(request_owner, settings), max_body_bytes=settings.import_max_bytes + 64 * 1024)
    # Lists of signals compress tenfold; small answers are not worth it.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # Outermost: every request gets an X-Request-ID (its log lines and tasks carry it, core/request_id.py) and its
    # duration observed by route template (/metrics, core/metrics_api.py).
    app.add_middleware(CorrelationIdMiddleware, **middleware_options())
    install_metrics(app, settings)
    return app


#: Where the Swagger UI and ReDoc assets are served from: the copies the ``fastapi-offline`` package ships.
DOCS_ASSETS_URL = "/static/docs"


def create_served_app() -> FastAPI:
    """The app as ``upswing serve`` runs it: built, then its long-lived objects (routes, schemas, models, the
    scoring tables…) moved out of the garbage collector's reach, so no full collection walks them during a request
    (docs/analytics.md measured a year's signals report at 454 → 182 ms p95). Tests build apps with ``create_app``."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app


def _serve_docs_offline(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their JavaScript, CSS and icon served by the app itself, from
    the installed ``fastapi-offline`` package, not a CDN: the API documentation works without internet access."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            init_oauth=app.swagger_ui_init_oauth, swagger_ui_parameters=app.swagger_ui_parameters)

    def swagger_ui_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png", with_google_fonts=False)

    # Plain routes, as FastAPI adds its own docs pages: not API endpoints, so not in the schema or the role matrix.
    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
