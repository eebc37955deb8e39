"""Per-client rate limits for machine clients: a token bucket per client (docs/security.md, "Machine clients").

Each client's bucket holds at most ``burst`` calls and refills at ``rate_per_second``; a call takes one token, and
a call that finds the bucket empty is refused with the seconds until a token is back. ``Decision.headers`` are
the IETF draft's ``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` (draft-ietf-httpapi-
ratelimit-headers-07: the reset is the seconds until the bucket is full again).

The buckets live in the process (``app.state.client_rate_limiter``), which is right for the embedded runner's
single server process; several server processes each allow the full rate (the project has no Redis helper for
requests yet; a Redis-backed ``TokenBuckets`` with the same ``take`` would share them).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    #: Seconds until the bucket is full again.
    reset: int
    #: Seconds until the next call would be allowed (0 when this one was).
    retry_after: int

    @property
    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                   "RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class TokenBuckets:
    """One token bucket per key, thread-safe (the API serves sync endpoints from a thread pool)."""

    def __init__(self, rate_per_second: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate_per_second
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            allowed = tokens >= 1
            if allowed:
                tokens -= 1
            if key not in self._buckets and len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            self._buckets[key] = (tokens, now)
        return Decision(allowed=allowed, limit=self.burst, remaining=int(tokens),
                        reset=math.ceil((self.burst - tokens) / self.rate),
                        retry_after=0 if allowed else max(1, math.ceil((1 - tokens) / self.rate)))

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled (they are as good as new); keeps memory bounded."""
        full = [key for key, (tokens, at) in self._buckets.items()
                if tokens + (now - at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
