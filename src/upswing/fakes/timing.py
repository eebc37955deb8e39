"""A fake clock and sleep for the HTTP layer: backoff and rate-limit waits are recorded, never slept."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class FakeTime:
    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
