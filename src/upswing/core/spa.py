"""The dashboard's built files (``dashboard/dist``), served by the API process: hashed assets cached for a year,
``index.html`` revalidated on every load, and every other non-API path answered with ``index.html`` so that a
deep link (``/leads/…``) opens the app, which routes it. No CDN: everything comes from this server."""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: Paths that belong to the API and its documentation: never answered with the app.
_NOT_THE_APP = ("api/", "docs", "redoc", "openapi.json", "static/", "healthz", "readyz", "metrics")
_IMMUTABLE = "public, max-age=31536000, immutable"
_NOT_BUILT = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Upswing</title></head>
<body><h1>Upswing</h1><p>The dashboard is not built here. Run <code>make build</code> (or <code>make demo</code>),
or use the API: <a href="/docs">/docs</a>.</p></body></html>"""


def default_dist() -> Path:
    """``dashboard/dist`` beside the source tree (an editable install, as ``make demo`` makes)."""
    return Path(__file__).resolve().parents[3] / "dashboard" / "dist"


class _Assets(StaticFiles):
    """Vite names each asset after its content hash: a changed file has a new name, so caching forever is safe."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = _IMMUTABLE
        return response


def mount_dashboard(app: FastAPI, dist: Path | None) -> None:
    dist = dist or default_dist()
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", _Assets(directory=dist / "assets"), name="dashboard-assets")

    def page(request: Request) -> Response:
        return answer(request.url.path.lstrip("/"))

    def answer(path: str) -> Response:
        if path.startswith(_NOT_THE_APP):
            return Response(status_code=404)
        file = (dist / path).resolve() if path else index
        if path and file.is_file() and file.is_relative_to(dist.resolve()):
            return FileResponse(file, headers={"Cache-Control": "public, max-age=3600"})  # favicon, robots.txt
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_route("/", page, include_in_schema=False)
    # Deep links are answered where routing gave up (a 404 no route claimed), not by a catch-all route: a route
    # added later, or a method other than GET, still finds its own answer.
    previous = app.exception_handlers.get(StarletteHTTPException)

    async def not_found(request: Request, exc: Exception) -> Response:
        if (isinstance(exc, StarletteHTTPException) and exc.status_code == 404 and request.method in ("GET", "HEAD")
                and request.scope.get("endpoint") is None
                and not request.url.path.lstrip("/").startswith(_NOT_THE_APP)):
            return answer(request.url.path.lstrip("/"))
        if previous is None:
            raise exc
        handled = previous(request, exc)
        return await handled if inspect.isawaitable(handled) else handled

    app.add_exception_handler(StarletteHTTPException, not_found)
