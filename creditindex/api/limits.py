"""Per-key request limits: a sliding window of one minute, kept in the server's memory
(one server process) or, for a server of several processes, in a file they share
(:class:`SharedRateLimiter`); a restart starts every window afresh."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from pathlib import Path


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


class SharedRateLimiter:
    """:class:`RateLimiter`'s limits kept in a small SQLite file that every process of one
    server opens (``creditindex serve --workers N`` makes it in a temporary folder): the
    same sliding window of one minute per key, counted across the processes. Each
    request is one short transaction (its time, and the key's count of requests in the
    window, updated as old ones leave it)."""

    WINDOW = RateLimiter.WINDOW

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        with self._connection() as conn:
            conn.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a restart starts every window afresh
            self._local.conn = conn
        return conn

    def allow(self, key: str, limit: int, now: float | None = None) -> float | None:
        """Count a request of ``key``: ``None`` when allowed, else the seconds to wait."""
        t = time.monotonic() if now is None else now  # one clock for every process
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            gone = conn.execute("DELETE FROM hit WHERE key = ? AND t <= ?",
                                (key, t - self.WINDOW)).rowcount
            row = conn.execute("SELECT n FROM seen WHERE key = ?", (key,)).fetchone()
            n = (0 if row is None else int(row[0])) - max(0, gone)
            if n >= limit:
                first = conn.execute("SELECT min(t) FROM hit WHERE key = ?", (key,)
                                     ).fetchone()[0]
                conn.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (key, n))
                conn.execute("COMMIT")
                return max(0.001, float(first) + self.WINDOW - t)
            conn.execute("INSERT INTO hit VALUES (?, ?)", (key, t))
            conn.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (key, n + 1))
            conn.execute("COMMIT")
            return None
        except BaseException:
            conn.execute("ROLLBACK")
            raise


_SCHEMA = """
CREATE TABLE IF NOT EXISTS hit (key TEXT NOT NULL, t REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hit_key_t ON hit (key, t);
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""
