"""Outbound webhooks, signed the Standard Webhooks way (https://www.standardwebhooks.com).

Each delivery is one POST of a JSON body with ``webhook-id`` (the caller's stable id: a repeat after a crash
carries the same one, so receivers can drop it), ``webhook-timestamp`` and ``webhook-signature: v1,<base64
HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the subscription's ``whsec_`` secret.

A subscriber's URL is an admin-saved URL like a source's: it never points at a private, loopback, link-local
(cloud metadata), multicast, reserved or unspecified address unless allow-listed (``UPSWING_OUTBOUND_ALLOW_*``).
:func:`check_webhook_url` says so when the URL is saved; :func:`send_webhook` connects only to vetted addresses,
checked again after DNS resolution, so a name that resolves inside later is refused at send time too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx
import orjson

from upswing.core.errors import ValidationFailedError
from upswing.core.http import (
    OutboundPolicy,
    OutboundRefused,
    check_outbound_url,
    guarded_transport,
    parse_retry_after,
    safe_url,
)
from upswing.notify.errors import SendFailed
from upswing.settings import Settings

__all__ = ["SECRET_PREFIX", "USER_AGENT", "WebhookResult", "check_webhook_url", "new_secret", "send_webhook",
           "sign"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
USER_AGENT = "Upswing-Webhooks/1"
EXCERPT_CHARS = 500  # of the receiver's answer, kept in the delivery log
_MAX_READ = 64 * 1024  # a receiver's answer is read no further: we only keep an excerpt


@dataclass(frozen=True)
class WebhookResult:
    status: int
    duration_ms: float
    response_excerpt: str


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`` keyed with the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def check_webhook_url(settings: Settings, url: str) -> None:
    """Raise ``ValidationFailedError`` naming the field ``url`` unless it is an http(s) URL whose host is public
    (or allow-listed). A name that does not resolve now passes: the connection is checked when it is made."""
    try:
        check_outbound_url(url.strip(), settings)
    except OutboundRefused as exc:
        raise ValidationFailedError(f"refused URL: url: {exc}",
                                    [{"row": None, "field": "url", "message": str(exc)}]) from None


def send_webhook(settings: Settings, url: str, secret: str, msg_id: str, payload: Mapping[str, Any], *,
                 timestamp: int | None = None) -> WebhookResult:
    """POST ``payload`` once, signed. 2xx → the result; anything else raises :class:`SendFailed`: 410 Gone and a
    refused target are permanent; other statuses (a redirect too: it is not followed), timeouts and connection
    errors are retryable, with the receiver's ``Retry-After`` when it sent one."""
    body = orjson.dumps(dict(payload))
    sent_at = int(time.time()) if timestamp is None else timestamp
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": sign(secret, msg_id, sent_at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    where = safe_url(url)
    policy = OutboundPolicy.from_settings(settings)
    try:
        # Literal addresses, localhost names and the scheme now; a name is vetted where the connection is made.
        check_outbound_url(url, policy=policy, resolve=False)
    except OutboundRefused as exc:
        raise _refused(where, exc) from None
    started = time.perf_counter()
    try:
        with _client(policy, settings.webhook_timeout_seconds).stream("POST", url, content=body,
                                                                      headers=headers) as response:
            excerpt = _excerpt(response)
    except OutboundRefused as exc:
        raise _refused(where, exc) from None
    except httpx.TimeoutException as exc:
        raise SendFailed(f"webhook {where}: timed out after {settings.webhook_timeout_seconds:g} s "
                         f"({type(exc).__name__})", permanent=False) from None
    except httpx.TransportError as exc:
        raise SendFailed(f"webhook {where}: {type(exc).__name__}: {exc}", permanent=False) from None
    duration_ms = (time.perf_counter() - started) * 1000.0
    status = response.status_code
    if 200 <= status < 300:
        return WebhookResult(status, duration_ms, excerpt)
    text = f"webhook {where}: HTTP {status}" + (f" ({excerpt[:200]})" if excerpt else "")
    if status == 410:
        raise SendFailed(text + "; the receiver says the endpoint is gone", permanent=True, status=status)
    if response.is_redirect:
        text += f"; redirects are not followed (Location: {safe_url(response.headers.get('location', ''))})"
    retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    raise SendFailed(text, permanent=False, retry_after=retry_after, status=status)


def _refused(where: str, exc: OutboundRefused) -> SendFailed:
    return SendFailed(f"webhook {where}: refused: {exc.reason} (not allow-listed in UPSWING_OUTBOUND_ALLOW_HOSTS "
                      "or UPSWING_OUTBOUND_ALLOW_NETWORKS)", permanent=True)


def _excerpt(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_READ:
            break
    return b"".join(chunks).decode("utf-8", errors="replace")[:EXCERPT_CHARS]


@lru_cache(maxsize=16)
def _client(policy: OutboundPolicy, timeout_s: float) -> httpx.Client:
    """One client per allow-list and timeout, kept for its connection pool (keep-alive to busy receivers, and the
    TLS context is built once). Its transport connects only to addresses ``policy`` allows."""
    return httpx.Client(transport=guarded_transport(policy), timeout=httpx.Timeout(timeout_s),
                        follow_redirects=False, trust_env=False)
