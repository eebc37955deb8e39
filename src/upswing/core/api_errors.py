"""One error shape for the whole API, documented in the OpenAPI schema and true of every response.

Every error answers ``{"detail": "<what went wrong, for a person>", "errors": [{"field", "row", "message"}]}``
(``errors`` only when there are itemised problems; an error may add fields of its own, such as the contact guard's
``reasons`` and ``next_allowed_at``). Request validation errors use the same shape: the field is named
(``query.since``, ``body.items.3.text``), the input is never echoed back, and at most ``MAX_ERRORS`` are listed
with the total in ``error_count``. An unexpected failure answers 500 with an ``error_id`` to find it in the log,
and a database that stays busy (SQLite's write lock) 503 with ``Retry-After``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from upswing.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    ValidationFailedError,
)
from upswing.core.logging import get_logger

log = get_logger(__name__)
#: Itemised problems listed in one error response (the rest are counted in ``error_count``).
MAX_ERRORS = 50


class ErrorItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str | None = Field(default=None, description="Where: query.since, body.items.3.text, a file's column…")
    row: int | None = Field(default=None, description="The file row or list item, when there is one")
    message: str


class ErrorResponse(BaseModel):
    """Every error of the API."""

    model_config = ConfigDict(extra="allow")

    detail: str = Field(description="What went wrong, for a person")
    errors: list[ErrorItem] | None = Field(default=None, description=f"Itemised problems (at most {MAX_ERRORS})")
    error_count: int | None = Field(default=None, description="How many itemised problems there were in all")


def error_body(detail: str, errors: Sequence[dict[str, Any]] | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, **(extra or {})}
    if errors:
        body["errors"] = [_item(error) for error in errors[:MAX_ERRORS]]
        body["error_count"] = len(errors)
    return body


def _item(error: dict[str, Any]) -> dict[str, Any]:
    item = {"field": error.get("field"), "row": error.get("row"), "message": str(error.get("message", ""))}
    item.update({k: v for k, v in error.items() if k not in item and k != "value" and k != "input"})
    return item


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        row = next((int(p) for p in location[2:] if p.isdigit()), None) if location[:2] == ["body", "items"] else None
        items.append({"field": ".".join(location) or None, "row": row, "message": str(error.get("msg", "invalid")),
                      "type": error.get("type")})
    return items


def install(app: FastAPI) -> None:
    """Every error handler, and the OpenAPI document that says so."""

    @app.exception_handler(RequestValidationError)
    def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = _validation_items(exc)
        first = f"{items[0]['field']}: {items[0]['message']}" if items else "invalid request"
        more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
        return JSONResponse(status_code=422, content=error_body(f"invalid request: {first}{more}", items))

    @app.exception_handler(StarletteHTTPException)
    def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):  # {"detail": …, and fields of its own, such as an OAuth "error"}
            extra = {k: v for k, v in exc.detail.items() if k != "detail"}
            return JSONResponse(status_code=exc.status_code, content=error_body(str(exc.detail.get("detail", "error")),
                                                                                extra=extra), headers=exc.headers)
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        return JSONResponse(status_code=exc.status_code, content=error_body(detail), headers=exc.headers)

    @app.exception_handler(NotFoundError)
    def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content=error_body(str(exc)))

    @app.exception_handler(PreconditionFailedError)
    def _precondition_failed(_: Request, exc: PreconditionFailedError) -> JSONResponse:
        return JSONResponse(status_code=412, content=error_body(str(exc)))

    @app.exception_handler(ConflictError)
    def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content=error_body(str(exc), extra=exc.body))

    @app.exception_handler(PermissionDeniedError)
    def _forbidden(_: Request, exc: PermissionDeniedError) -> JSONResponse:
        return JSONResponse(status_code=403, content=error_body(str(exc)))

    @app.exception_handler(ValidationFailedError)
    def _invalid(_: Request, exc: ValidationFailedError) -> JSONResponse:
        return JSONResponse(status_code=422, content=error_body(str(exc), exc.errors))

    @app.exception_handler(PoolTimeoutError)
    def _pool_exhausted(request: Request, _: PoolTimeoutError) -> JSONResponse:
        log.warning("api.database_pool_exhausted", path=request.url.path)
        return JSONResponse(status_code=503, headers={"Retry-After": "1"},
                            content=error_body("the server is busy; try again in a moment"))

    @app.exception_handler(OperationalError)
    def _database(request: Request, exc: OperationalError) -> JSONResponse:
        if "statement timeout" in str(exc.orig) or "canceling statement" in str(exc.orig):
            log.warning("api.statement_timeout", path=request.url.path)
            return JSONResponse(status_code=503, headers={"Retry-After": "5"},
                                content=error_body("the request took too long; narrow it or try again"))
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            log.warning("api.database_busy", path=request.url.path)
            return JSONResponse(status_code=503, headers={"Retry-After": "2"},
                                content=error_body("the database is busy; try again in a moment"))
        return _unexpected(request, exc)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.error("api.unexpected_error", error_id=error_id, path=request.url.path, method=request.method,
                  error=type(exc).__name__, exc_info=exc)
        return JSONResponse(status_code=500, content=error_body("internal error", extra={"error_id": error_id}))

    app.add_middleware(RejectNulCharacters)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["ErrorItem"] = ErrorItem.model_json_schema()
    components["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components["ErrorResponse"].pop("$defs", None)
    error = {"description": "Error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if code.startswith(("4", "5")):
                    responses[code] = {**error, "description": response.get("description") or "Error"}
            responses.setdefault("default", error)
    app.openapi_schema = schema
    return schema


class RejectNulCharacters:
    """ASGI middleware: a NUL character in a query string, path or JSON/form body answers 422 naming where it
    was. No text column of PostgreSQL can hold one, and no real input has one. (File uploads are checked by the
    readers that parse them.)"""

    _URL_NUL = (b"\x00", b"%00")
    #: What a NUL looks like in each checked kind of body.
    _BODY_NUL = {b"application/json": (b"\x00", b"\\u0000"),
                 b"application/x-www-form-urlencoded": (b"\x00", b"%00")}

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for where, raw in (("query", scope.get("query_string", b"")), ("path", scope.get("raw_path") or b"")):
            if any(marker in raw for marker in self._URL_NUL):
                await self._refuse(scope, send, where)
                return
        content_type = dict(scope.get("headers") or ()).get(b"content-type", b"").split(b";")[0].strip().lower()
        markers = self._BODY_NUL.get(content_type)
        if markers is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if any(marker in body.lower() for marker in markers):
            await self._refuse(scope, send, "body")
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: dict[str, Any], send: Any, where: str) -> None:
        response = JSONResponse(status_code=422, content=error_body(
            f"invalid request: a NUL character in the {where}",
            [{"field": where, "row": None, "message": "NUL characters are not allowed"}]))

        async def nothing() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)
