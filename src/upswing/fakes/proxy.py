"""A fake forward HTTP proxy: takes absolute-form requests (``GET http://host/path``), forwards them and
logs what went through, so tests can check proxy rotation and health checks without the internet."""

from __future__ import annotations

import httpx

from upswing.fakes.server import FakeServer, Fault, Reply, Request

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
               "transfer-encoding", "upgrade", "host", "content-length"}


class FakeProxy(FakeServer):
    name = "fake-proxy"

    def __init__(self) -> None:
        super().__init__()
        self._client = httpx.Client(timeout=10.0, trust_env=False)

    def dispatch(self, request: Request, *, absolute_uri: str) -> tuple[Reply, Fault | None]:
        with self._lock:
            self.requests.append(Request(request.method, absolute_uri, request.query, request.headers,
                                         request.body, "proxy"))
            fault = self._take_fault(request)
        if fault is not None:
            return Reply(fault.status, fault.body, fault.headers), fault
        if not absolute_uri.startswith("http://"):
            return Reply.text("this fake proxy forwards plain-http absolute URIs only", 400), None
        headers = {name: value for name, value in request.headers.items() if name not in _HOP_BY_HOP}
        try:
            upstream = self._client.request(request.method, absolute_uri, headers=headers, content=request.body)
        except httpx.HTTPError as exc:
            return Reply.text(f"proxy could not reach upstream: {exc}", 502), None
        passed = {name: value for name, value in upstream.headers.items()
                  if name.lower() not in _HOP_BY_HOP and name.lower() not in ("content-type", "content-encoding")}
        return Reply(upstream.status_code, upstream.content, passed,
                     upstream.headers.get("content-type", "application/octet-stream")), None

    def stop(self) -> None:
        super().stop()
        self._client.close()
