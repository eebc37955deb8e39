"""A fake webhook receiver: takes POSTs on any path and verifies each with the ``standardwebhooks`` reference
library (a dev dependency: the product signs with its own ``notify.webhooks.sign``, and this is the independent
check that it does so correctly).

A verified delivery answers 200; one that fails verification (no secret for the path, a tampered body, a wrong
secret, a stale timestamp) answers 400 and is recorded with ``verified=False`` and the library's reason. Faults
(500, 410, slow answers, disconnects) come from the base class: ``fake.inject(RECEIVE_ROUTE, Fault.error(410))``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from upswing.fakes.server import FakeServer, Reply, Request

__all__ = ["RECEIVE_ROUTE", "FakeWebhookReceiver", "ReceivedWebhook"]

RECEIVE_ROUTE = "receive"


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    verified: bool
    received_at: float  # time.time()
    error: str | None = None  # why verification failed

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    def json(self) -> Any:
        return orjson.loads(self.body)


class FakeWebhookReceiver(FakeServer):
    name = "fake-webhook-receiver"

    def __init__(self, secret: str | None = None, *, secrets: Mapping[str, str] | None = None) -> None:
        """``secret`` verifies every path; ``secrets`` maps a path (``/hooks/a``) to its own secret."""
        super().__init__()
        self.secret = secret
        self._secrets = dict(secrets or {})
        self._received: list[ReceivedWebhook] = []
        self._arrived = threading.Condition(self._lock)
        self.add_route("POST", r"^/.*$", RECEIVE_ROUTE, self._receive)

    def set_secret(self, path: str, secret: str) -> None:
        with self._lock:
            self._secrets[path] = secret

    @property
    def received(self) -> list[ReceivedWebhook]:
        """Every delivery that reached the handler (not those answered by an injected fault), in order."""
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedWebhook]:
        """Block until ``count`` deliveries arrived (or the timeout passes); the deliveries so far."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._received) >= count, timeout=timeout_s)
            return list(self._received)

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self.requests.clear()

    def _receive(self, request: Request) -> Reply:
        with self._lock:
            secret = self._secrets.get(request.path, self.secret)
        error: str | None = None
        if secret is None:
            error = f"no secret configured for {request.path}"
        else:
            try:
                Webhook(secret).verify(request.body, dict(request.headers))
            except WebhookVerificationError as exc:
                error = str(exc) or type(exc).__name__
            except ValueError as exc:  # signed correctly but not JSON (the library parses the body)
                error = f"body is not JSON ({exc})"
        entry = ReceivedWebhook(request.path, dict(request.headers), request.body, error is None, time.time(), error)
        with self._lock:
            self._received.append(entry)
            self._arrived.notify_all()
        if error is not None:
            return Reply.json({"error": f"signature verification failed: {error}"}, 400)
        return Reply.json({"ok": True}, 200)
