"""Checkpoints of a SQLite store's write-ahead log by a thread of their own, for a process
that keeps its connections open (a server, :func:`creditindex.store.db.keep_connections`).

SQLite copies the log back into the database file (a checkpoint: writes and two
fsyncs) when a commit leaves the log longer than ``wal_autocheckpoint`` pages, and it
does so inside that commit: under a steady stream of checks an API server's check writer
paid for it every second or so, a commit taking a few hundred milliseconds while every
request of its group (and those queued behind it) waited. Here the commits of such a
process leave it to a thread that runs a passive checkpoint every :data:`INTERVAL`
seconds: it neither waits for nor blocks readers and writers, so the commits stay short.

The log starts afresh (instead of growing) only when a write begins with every page of
it copied back, which a steady stream of writes never leaves time for. So once the log
is :data:`RESTART_PAGES` long, the thread copies the few pages written since its last
checkpoint while holding :attr:`WalCheckpointer.gate`, the gate the writers of this
process and of the other processes keeping the store (:mod:`creditindex.store.writer_gate`)
take around each write transaction (:func:`creditindex.store.db.write_gate`): they wait
for that short step instead of a whole checkpoint. (The lock is not fair: a writer that
never pauses could keep the step waiting; a server's writer pauses for its next checks.)
The connections keep an automatic checkpoint at :data:`SAFETY_PAGES` in case the thread
falls behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from creditindex.store.writer_gate import WriterGate

log = logging.getLogger(__name__)
INTERVAL = 0.25  # seconds between passive checkpoints
RESTART_PAGES = 1024  # the log's length (pages) at which it is made to start afresh
SAFETY_PAGES = 16_384  # a commit still checkpoints past ~64 MB of log (4 KiB pages)


class WalCheckpointer:
    """Passive checkpoints of the SQLite database file ``database`` every ``interval``
    seconds, on a connection of its own, until :meth:`stop`."""

    def __init__(self, database: str, interval: float = INTERVAL) -> None:
        self.database = database
        self.interval = interval
        self.gate = WriterGate(database)  # the writers' turns, this process's and others'
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints",
                                        daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (after its last checkpoint)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.gate.close()

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, pages in the log, pages copied back)."""
        busy, logged, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(logged), int(copied)

    def _run(self) -> None:
        conn = sqlite3.connect(self.database, timeout=60, isolation_level=None,
                               check_same_thread=False)
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                try:
                    busy, logged, _copied = self.checkpoint(conn)
                    if not busy and logged >= RESTART_PAGES:
                        with self.gate:  # the pages written since: a short step
                            self.checkpoint(conn)
                except sqlite3.Error:  # the commits' safety net takes over
                    log.exception("could not checkpoint %s", self.database)
                if stopping:
                    return
        finally:
            conn.close()
