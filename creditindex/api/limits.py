"""Per-key request limits: a sliding window of one minute, kept in the server's memory
(one server process; a restart starts every window afresh)."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """At most ``limit`` requests per key in any 60 seconds."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, now: float | None = None) -> float | None:
        """Count a request of ``key``: ``None`` when allowed, else the seconds to wait."""
        t = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= t - self.WINDOW:
                seen.popleft()
            if len(seen) >= limit:
                return max(0.001, seen[0] + self.WINDOW - t)
            seen.append(t)
            return None
