"""The API keys' use log: requests made with keys, stored by a background thread."""

from __future__ import annotations

import logging
import queue
import threading

from creditindex.store import apikeys

log = logging.getLogger(__name__)


class UseLog:
    """Requests made with keys, written to the store by a background thread in small
    batches (every quarter second) and on shutdown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._queue: queue.Queue[apikeys.Use] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-use-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, use: apikeys.Use) -> None:
        self._queue.put(use)

    def flush(self) -> None:
        batch: list[apikeys.Use] = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            try:
                apikeys.log_uses(self.url, batch)
            except Exception:  # keep serving; the failure is logged
                log.exception("could not store %d API use rows", len(batch))

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.flush()
        self.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.flush()
