"""Turns of a kept SQLite store's writers, within a process and across the processes that
keep the same store (``creditindex serve --workers N``).

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
(1, 2, 5, 10 ... up to 100 ms at a time) and retries. Between the threads of one server
that cost tens of milliseconds per wait; between two worker processes writing checks
all the time it made the slowest answers wait for seconds (p99 0.8 s, max 3.6 s at 20
clients, against 94 ms with one process). A writer here first takes a lock of its
process, then an exclusive ``flock`` on a file beside the database
(``<database>-writers``): both block in the kernel and wake the next writer as soon as
the lock is free, so SQLite's busy handler is never reached between them.

A process that does not keep the store (a command) does not take the gate; it meets a
server's writers in SQLite's busy handler as before.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

try:
    import fcntl
except ImportError:  # not on POSIX: the process's own lock only
    fcntl = None  # type: ignore[assignment]

SUFFIX = "-writers"


class WriterGate:
    """The writers' gate of the SQLite database file ``database``: a re-entrant lock of
    this process and an exclusive ``flock`` shared with every other process that holds a
    gate of the same file (see the module)."""

    def __init__(self, database: str) -> None:
        self.path = database + SUFFIX
        self._lock = threading.RLock()
        self._depth = 0  # how many times the thread holding the lock took the gate
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the gate (wait for it, unless ``blocking`` is false); whether it was
        taken."""
        if not self._lock.acquire(blocking):
            return False
        if self._depth == 0 and not self._lock_file(blocking):
            self._lock.release()
            return False
        self._depth += 1
        return True

    def release(self) -> None:
        """Give the gate back (the thread that took it)."""
        self._depth -= 1
        if self._depth == 0 and self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    def close(self) -> None:
        """Close the lock file (the gate is not used again)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> WriterGate:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()

    def _lock_file(self, blocking: bool) -> bool:
        if fcntl is None:
            return True
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
