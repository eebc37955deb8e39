"""A small threaded HTTP server on loopback that the protocol fakes build on.

Why stdlib ``ThreadingHTTPServer`` and not uvicorn: it starts and stops in about a millisecond, needs no
event loop in a thread, and keeps connections alive (HTTP/1.1), which serves a few thousand requests per
second on one core: far more than the benchmark needs (see ``docs/sources.md``).

Every fake has a request log (method, path, query, headers, body) for assertions, and per-route fault
injection: ``fake.inject("dataset-items", Fault.rate_limited(retry_after="2"), times=3)`` makes the next
three requests to that route answer 429. A route is named by the fake; a string that is not a route name
is matched as a regular expression against the path.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

__all__ = ["FakeServer", "Fault", "FaultKind", "RecordedRequest", "Reply", "Request"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    route: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)  # named groups of the route pattern

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


RecordedRequest = Request  # what the request log holds


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status, orjson.dumps(data), dict(headers or {}))

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
             headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status, text.encode(), dict(headers or {}), content_type)


class FaultKind(StrEnum):
    STATUS = "status"  # answer this status and body instead of the real reply
    SLOW = "slow"  # wait, then give the real reply (a long wait is a timeout for the client)
    MALFORMED = "malformed"  # 200 with a body that is not valid JSON
    UNEXPECTED = "unexpected"  # 200 with valid JSON of the wrong shape
    OVERSIZED = "oversized"  # 200 with a huge body
    DISCONNECT = "disconnect"  # close the connection without answering


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    size: int = 0
    declare_length: bool = True  # oversized: send Content-Length (False: chunked, no length up front)

    @classmethod
    def error(cls, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> Fault:
        raw = body if isinstance(body, bytes) else orjson.dumps(body if body is not None else {"error": "fault"})
        return cls(FaultKind.STATUS, status=status, body=raw, headers=dict(headers or {}))

    @classmethod
    def rate_limited(cls, retry_after: str | None = "1", body: Any = None) -> Fault:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls.error(429, body if body is not None else {"error": "rate limited"}, headers)

    @classmethod
    def server_error(cls, status: int = 500, body: Any = None) -> Fault:
        return cls.error(status, body if body is not None else {"error": "internal error"})

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(FaultKind.SLOW, delay_s=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        return cls(FaultKind.MALFORMED, body=b'{"data": [{"id": 1,')

    @classmethod
    def unexpected(cls, payload: Any = None) -> Fault:
        return cls(FaultKind.UNEXPECTED, body=orjson.dumps(payload if payload is not None else {"unexpected": True}))

    @classmethod
    def oversized(cls, size: int = 20 * 1024 * 1024, *, declare_length: bool = True) -> Fault:
        return cls(FaultKind.OVERSIZED, size=size, declare_length=declare_length)

    @classmethod
    def disconnect(cls) -> Fault:
        return cls(FaultKind.DISCONNECT)


@dataclass
class _Injected:
    target: str
    fault: Fault
    remaining: int
    method: str | None
    skip: int = 0  # matching requests served normally before the fault starts


@dataclass(frozen=True)
class _Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # a client that hangs up (an aborted oversized download) is not a server error
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # idle keep-alive connections close after this
    disable_nagle_algorithm = True  # header and body go out in separate writes: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        return  # tests read the request log instead

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True),
                          headers, body)
        try:
            reply, fault = self.server.fake.dispatch(request, absolute_uri=self.path)
        except Exception as exc:  # a bug in a fake must show up as a 500, not a hung client
            reply, fault = Reply.json({"error": f"fake server error: {exc!r}"}, 500), None
        try:
            self._send(reply, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, reply: Reply, fault: Fault | None) -> None:
        if fault is not None and fault.kind is FaultKind.DISCONNECT:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind is FaultKind.SLOW:
            time.sleep(fault.delay_s)
        if fault is not None and fault.kind is FaultKind.OVERSIZED:
            self._send_oversized(fault)
            return
        body = b"" if self.command == "HEAD" else reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_oversized(self, fault: Fault) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        chunk = b"[" + b'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",' * 1000
        if fault.declare_length:
            self.send_header("Content-Length", str(fault.size))
            self.end_headers()
            sent = 0
            while sent < fault.size:
                piece = chunk[: fault.size - sent]
                self.wfile.write(piece)
                sent += len(piece)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        while sent < fault.size:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        self.wfile.write(b"0\r\n\r\n")


class FakeServer:
    """Base of the protocol fakes. Use as ``with FakeX() as base_url:`` or ``start()`` / ``stop()``."""

    name: ClassVar[str] = "fake"

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._faults: list[_Injected] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        #: Off for long runs (a million-lead benchmark): every request with its body held 19 GB by the end.
        self.keep_requests = True
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> str:
        if self._server is not None:
            return self.url
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not running; call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- routes, faults, log

    def route(self, method: str, pattern: str, name: str) -> Callable[[Callable[[Request], Reply]],
                                                                      Callable[[Request], Reply]]:
        def decorator(handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
            self.add_route(method, pattern, name, handler)
            return handler
        return decorator

    def add_route(self, method: str, pattern: str, name: str, handler: Callable[[Request], Reply]) -> None:
        self._routes.append(_Route(name, method.upper(), re.compile(pattern), handler))

    def inject(self, target: str, fault: Fault, *, times: int = 1, method: str | None = None, after: int = 0) -> None:
        """Answer ``times`` requests to ``target`` (a route name, or a path regex) with ``fault``, starting
        after ``after`` matching requests have been served normally."""
        with self._lock:
            self._faults.append(_Injected(target, fault, times, method.upper() if method else None, after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, target: str, method: str | None = None) -> list[Request]:
        """Logged requests to a route name, or whose path matches a regex."""
        with self._lock:
            logged = list(self.requests)
        by_name = target in self.route_names()
        return [request for request in logged
                if (method is None or request.method == method.upper())
                and (request.route == target if by_name else re.search(target, request.path))]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---- dispatch (called from handler threads)

    def dispatch(self, request: Request, *, absolute_uri: str) -> tuple[Reply, Fault | None]:
        route, params = self._match(request)
        request = Request(request.method, request.path, request.query, request.headers, request.body,
                          route.name if route else None, params)
        with self._lock:
            if self.keep_requests:
                self.requests.append(request)
            fault = self._take_fault(request)
        if fault is not None and fault.kind is FaultKind.STATUS:
            return Reply(fault.status, fault.body, fault.headers), fault
        if fault is not None and fault.kind in (FaultKind.MALFORMED, FaultKind.UNEXPECTED):
            return Reply(200, fault.body, fault.headers), fault
        if fault is not None and fault.kind in (FaultKind.OVERSIZED, FaultKind.DISCONNECT):
            return Reply(), fault
        if route is None:
            return self.not_found(request), fault
        return route.handler(request), fault

    def not_found(self, request: Request) -> Reply:
        return Reply.json({"error": f"no route for {request.method} {request.path}"}, 404)

    def _match(self, request: Request) -> tuple[_Route | None, dict[str, str]]:
        for route in self._routes:
            if route.method != request.method and not (route.method == "GET" and request.method == "HEAD"):
                continue
            found = route.pattern.match(request.path)
            if found:
                return route, {key: value for key, value in found.groupdict().items() if value is not None}
        return None, {}

    def _take_fault(self, request: Request) -> Fault | None:
        for injected in self._faults:
            if injected.method is not None and injected.method != request.method:
                continue
            if injected.target == request.route or (
                    injected.target not in self.route_names() and re.search(injected.target, request.path)):
                if injected.skip > 0:
                    injected.skip -= 1
                    return None
                injected.remaining -= 1
                if injected.remaining <= 0:
                    self._faults.remove(injected)
                return injected.fault
        return None

    def route_names(self) -> set[str]:
        return {route.name for route in self._routes}
