"""The FastAPI application: wiring only; every endpoint lives in its domain's ``api.py``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from upswing import __version__
from upswing.account.api import router as account_router
from upswing.audit.api import router as audit_router
from upswing.compliance.api import router as compliance_router
from upswing.core.db import make_engine, session_factory
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.core.health import router as health_router
from upswing.core.logging import configure_logging
from upswing.lead.api import router as lead_router
from upswing.observation.api import router as observation_router
from upswing.privacy.api import router as privacy_router
from upswing.resolution.api import router as resolution_router
from upswing.resolution.dedupe_api import router as dedupe_router
from upswing.settings import Settings, get_settings
from upswing.signal.api import router as signal_router
from upswing.source.api import router as source_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    app = FastAPI(title="Upswing", version=__version__, docs_url="/docs", openapi_url="/openapi.json")
    app.state.settings = settings
    app.state.engine = make_engine(settings.sqlalchemy_url)
    app.state.session_factory = session_factory(app.state.engine)

    # The dedupe router goes before the lead router: /leads/duplicates and /leads/merges are not lead ids.
    for router in (health_router, account_router, dedupe_router, lead_router, signal_router, observation_router,
                   resolution_router, compliance_router, privacy_router, audit_router, source_router):
        app.include_router(router)

    @app.exception_handler(NotFoundError)
    def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(ConflictError)
    def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(PermissionDeniedError)
    def _forbidden(_: Request, exc: PermissionDeniedError) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(ValidationFailedError)
    def _invalid(_: Request, exc: ValidationFailedError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc), "errors": exc.errors})

    return app
