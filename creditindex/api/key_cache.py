"""API keys as a server checks them: each presented key looked up in the store at most
once every :data:`RECHECK_SECONDS` (per server process), so that a busy client's requests
do not each read the key's row. A key revoked (or added) by another process is seen
within that time: revocation takes effect in at most a second."""

from __future__ import annotations

import hashlib
import threading
import time

from creditindex.store import apikeys

RECHECK_SECONDS = 1.0
_MAX_KEYS = 10_000  # presented keys remembered at most (wrong ones included)


class KeyCache:
    """:func:`creditindex.store.apikeys.find_key` answers, kept for a second."""

    def __init__(self, url: str, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.url = url
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        # sha256 of the presented key -> (looked up at, the answer): no secret is kept.
        self._found: dict[str, tuple[float, tuple[apikeys.ApiKey | None, str | None]]] = {}

    def find(self, presented: str) -> tuple[apikeys.ApiKey | None, str | None]:
        """What :func:`~creditindex.store.apikeys.find_key` answers for ``presented``, as
        read from the store at most :attr:`recheck_seconds` ago."""
        digest = hashlib.sha256(presented.encode("utf-8")).hexdigest()
        now = time.monotonic()
        with self._lock:
            known = self._found.get(digest)
        if known is not None and now - known[0] < self.recheck_seconds:
            return known[1]
        answer = apikeys.find_key(self.url, presented)
        with self._lock:
            if len(self._found) >= _MAX_KEYS:
                self._found.clear()
            self._found[digest] = (now, answer)
        return answer
