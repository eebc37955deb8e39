from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from upswing import __version__
from upswing.core import migrate
from upswing.core.db import read_only

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", operation_id="readyz")
def readyz(request: Request, response: Response) -> dict[str, str]:
    """Readiness: the database answers and its schema is at the latest migration."""
    engine = request.app.state.engine
    try:
        with read_only(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        response.status_code = 503
        return {"status": "unavailable", "database": type(exc).__name__}
    head = migrate.head_revision()
    if revision != head:
        response.status_code = 503
        return {"status": "migrations pending", "database": str(revision), "expected": str(head)}
    return {"status": "ready", "database": str(revision)}
