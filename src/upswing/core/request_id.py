"""Request ids: every API request has one, every log line written while serving it carries it, and so does every
task the request enqueued (and the tasks those enqueue).

``CorrelationIdMiddleware`` (the ``asgi-correlation-id`` package) takes the caller's ``X-Request-ID`` when it is
well formed (``valid_request_id``: 8 to 128 letters, digits, ``.``, ``_``, ``:`` or ``-``; a load balancer's or
a client's UUID passes), else assigns a new one (32 hex digits), and echoes it in the response's
``X-Request-ID``. It is a pure ASGI middleware: streamed answers (the live stream) and the idempotency
middleware's replays pass through untouched.

The id lives in a context variable (``current_request_id``): ``add_request_id`` (a structlog processor,
``core/logging.py``) puts it on every log record as ``request_id``; ``core.tasks.enqueue`` stores it with the
run (``REQUEST_ID_KWARG`` in the run's kwargs, removed before the task function is called) and ``execute``
binds it again while the task runs, on either runner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from asgi_correlation_id.context import correlation_id

REQUEST_ID_HEADER = "X-Request-ID"
#: The key a task run's kwargs carry the request id under (never passed to the task function).
REQUEST_ID_KWARG = "_request_id"
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")

__all__ = ["REQUEST_ID_HEADER", "REQUEST_ID_KWARG", "CorrelationIdMiddleware", "add_request_id",
           "bound_request_id", "current_request_id", "middleware_options", "valid_request_id"]


def valid_request_id(value: str) -> bool:
    """A caller's request id is kept when it is 8–128 characters of letters, digits and ``._:-`` (no spaces,
    no ``@``, nothing a log line or a header could be abused with)."""
    return bool(_VALID.fullmatch(value))


def current_request_id() -> str | None:
    return correlation_id.get()


@contextmanager
def bound_request_id(value: str | None) -> Iterator[None]:
    """Make ``value`` the current request id for the block (a task run carrying its request's id)."""
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)


def add_request_id(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: ``request_id`` on every record written while a request (or its task) runs."""
    request_id = correlation_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def middleware_options() -> dict[str, Any]:
    """The options ``app.add_middleware(CorrelationIdMiddleware, **middleware_options())`` takes."""
    return {"header_name": REQUEST_ID_HEADER, "validator": valid_request_id, "update_request_header": True}
