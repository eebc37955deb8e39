"""A fake Brevo transactional e-mail API (reference §4).

* ``POST /v3/smtp/email`` with ``api-key: <key>``: a wrong or missing key → 401 ``{"code": "unauthorized",
  "message": "Key not found"}``; a body that is not a JSON object → 400 ``bad_request``; a missing ``sender``,
  ``to``, ``subject`` or ``htmlContent``/``textContent`` (without ``templateId``) → 400 ``missing_parameter``
  naming the field; a recipient without a plausible address → 400 ``invalid_parameter``.
* 201 ``{"messageId": "<…@smtp-relay.mailin.fr>"}``; a repeated ``idempotencyKey`` header gets the first answer's
  messageId again (recorded with ``repeat=True``, so a test sees the repeat and its Message-Id).
* Every answer carries ``x-sib-ratelimit-limit/-remaining/-reset``; more than ``rate_limit_per_s`` requests in a
  second → 429 with those headers (Brevo documents no Retry-After). ``FakeBrevo.rate_limited()`` is the same
  429 as an injected fault, with a ``Retry-After`` if asked.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upswing.fakes.server import FakeServer, Fault, Reply, Request

__all__ = ["FakeBrevo", "SentEmail", "brevo_error"]

SEND_ROUTE = "send-email"


def brevo_error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply.json({"code": code, "message": message}, status, headers)


@dataclass(frozen=True)
class SentEmail:
    """One message Brevo accepted, as it arrived."""

    message_id: str  # Brevo's messageId (the one answered)
    sender: Mapping[str, Any]
    to: list[Mapping[str, Any]]
    subject: str | None
    html_content: str | None
    text_content: str | None
    headers: Mapping[str, str]  # the custom headers as sent (Message-Id, idempotencyKey …)
    tags: list[str] = field(default_factory=list)
    accepted_at: float = 0.0  # time.time()
    repeat: bool = False  # the same idempotencyKey as an earlier message

    @property
    def header_message_id(self) -> str | None:
        """Our Message-Id header, whatever case it was sent in."""
        return _header(self.headers, "message-id")


class FakeBrevo(FakeServer):
    name = "fake-brevo"

    def __init__(self, *, api_key: str = "xkeysib-test-key", rate_limit_per_s: int = 1000) -> None:
        super().__init__()
        self.api_key = api_key
        self.rate_limit_per_s = rate_limit_per_s
        self._sent: list[SentEmail] = []
        self.keep_bodies = True  # off for long runs: the messages' HTML and text are dropped, their headers kept
        self._by_key: dict[str, str] = {}
        self._window = (0, 0)  # (second, requests in it)
        self._arrived = threading.Condition(self._lock)
        self.add_route("POST", r"^/v3/smtp/email$", SEND_ROUTE, self._send)

    @property
    def messages(self) -> list[SentEmail]:
        """Accepted messages so far (a copy, safe to read while the fake serves)."""
        with self._lock:
            return list(self._sent)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[SentEmail]:
        """Block until ``count`` messages were accepted (or the timeout passes); the messages so far."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._sent) >= count, timeout=timeout_s)
            return list(self._sent)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._by_key.clear()
            self.requests.clear()

    @staticmethod
    def rate_limited(reset_s: int = 1, *, retry_after: str | None = None, limit: int = 1000) -> Fault:
        """A 429 as Brevo sends it, for ``fake.inject(SEND_ROUTE, ...)``."""
        headers = {"x-sib-ratelimit-limit": str(limit), "x-sib-ratelimit-remaining": "0",
                   "x-sib-ratelimit-reset": str(reset_s)}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return Fault.error(429, {"code": "too_many_requests", "message": "Too many requests"}, headers)

    # ---- handler

    def _send(self, request: Request) -> Reply:
        if request.headers.get("api-key") != self.api_key:
            return brevo_error(401, "unauthorized", "Key not found")
        limit_headers, over = self._count()
        if over:
            return brevo_error(429, "too_many_requests", "Too many requests", limit_headers)
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return brevo_error(400, "bad_request", "Input must be a valid JSON object", limit_headers)
        problem = _missing_or_invalid(body)
        if problem is not None:
            return brevo_error(400, *problem, headers=limit_headers)
        headers = {str(k): str(v) for k, v in (body.get("headers") or {}).items()}
        key = _header(headers, "idempotencykey")
        with self._lock:
            repeat = key is not None and key in self._by_key
            message_id = self._by_key.get(key or "") or f"<{uuid.uuid4().hex[:24]}@smtp-relay.mailin.fr>"
            if key is not None:
                self._by_key[key] = message_id
            self._sent.append(SentEmail(
                message_id=message_id, sender=body.get("sender") or {}, to=list(body.get("to") or []),
                subject=body.get("subject"), html_content=body.get("htmlContent") if self.keep_bodies else None,
                text_content=body.get("textContent") if self.keep_bodies else None, headers=headers,
                tags=list(body.get("tags") or []), accepted_at=time.time(), repeat=repeat))
            self._arrived.notify_all()
        return Reply.json({"messageId": message_id}, 201, limit_headers)

    def _count(self) -> tuple[dict[str, str], bool]:
        """This request in the current one-second window: the limit headers, and whether it is over."""
        now = time.time()
        second = math.floor(now)
        with self._lock:
            start, used = self._window
            used = used + 1 if start == second else 1
            self._window = (second, used)
        reset = max(1, math.ceil(second + 1 - now))
        headers = {"x-sib-ratelimit-limit": str(self.rate_limit_per_s),
                   "x-sib-ratelimit-remaining": str(max(0, self.rate_limit_per_s - used)),
                   "x-sib-ratelimit-reset": str(reset)}
        return headers, used > self.rate_limit_per_s


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Brevo normalises custom header names to Title-Case, so they match whatever case they were sent in."""
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _missing_or_invalid(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """(code, message) for the first problem, as Brevo words it, or None."""
    templated = body.get("templateId") is not None
    sender = body.get("sender")
    if not templated and not (isinstance(sender, dict) and (sender.get("email") or sender.get("id"))):
        return "missing_parameter", "sender is missing"
    recipients = body.get("to")
    if not body.get("messageVersions"):
        if not isinstance(recipients, list) or not recipients:
            return "missing_parameter", "to is missing"
        for recipient in recipients:
            email = recipient.get("email") if isinstance(recipient, dict) else None
            if not isinstance(email, str) or "@" not in email.strip("@"):
                return "invalid_parameter", "email is not valid in to"
    if not templated and not body.get("subject"):
        return "missing_parameter", "subject is missing"
    if not templated and not (body.get("htmlContent") or body.get("textContent")):
        return "missing_parameter", "htmlContent is missing"
    tags = body.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        return "invalid_parameter", "tags must be a list of strings"
    return None
