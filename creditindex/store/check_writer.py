"""Group commit of issued checks: a server's concurrent checks stored by one writer
thread, several in one transaction.

Each check is drafted by its request's thread (:func:`~creditindex.store.checks.
draft_check`: answer, evidence and certificate, no store access) and handed to the
writer, which takes every draft waiting, stores them through
:func:`~creditindex.store.checks.store_drafts` (the very rows :func:`~creditindex.store.
checks.issue_check` writes, one statement per table for the whole group) in one write
transaction and commits once; then each request
gets its own check back. A request is answered only after its check is committed. If a
group's transaction fails, its checks are stored again one per transaction, so that one
bad check fails only its own request.

Why: each check on its own takes the store's write lock, begins, inserts three rows and
commits; concurrent requests then queue on the lock (on SQLite by the busy handler's
sleeps, which add tens of milliseconds to the slowest answers). One writer never waits
for another of the same process, and a commit is shared by the group.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from creditindex.store.checks import CheckDraft, IssuedCheck, store_drafts
from creditindex.store.db import get_engine, write_transaction

log = logging.getLogger(__name__)
GROUP_MAX = 64  # checks per transaction at most


class CheckWriter:
    """Stores drafted checks for a server's request threads (:meth:`store`)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._queue: queue.Queue[tuple[CheckDraft, Future[IssuedCheck]] | None] = (
            queue.Queue())
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.groups = 0  # transactions committed (for tests and measurements)

    def store(self, draft: CheckDraft, timeout: float = 120.0) -> IssuedCheck:
        """Store ``draft`` and return it as issued, once its transaction is committed
        (the error of its own transaction if storing it fails)."""
        return self.submit(draft).result(timeout=timeout)

    def submit(self, draft: CheckDraft) -> Future[IssuedCheck]:
        """Hand ``draft`` to the writer: the future is done once its transaction is
        committed (an asynchronous server awaits it, ``asyncio.wrap_future``)."""
        self._ensure_started()
        done: Future[IssuedCheck] = Future()
        self._queue.put((draft, done))
        return done

    @property
    def waiting(self) -> int:
        """Drafts handed over and not yet taken into a transaction."""
        return self._queue.qsize()

    def stop(self) -> None:
        """Store what is waiting, then stop the writer thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="check-writer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < GROUP_MAX:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            self._write(group)

    def _write(self, group: list[tuple[CheckDraft, Future[IssuedCheck]]]) -> None:
        engine = get_engine(self.url)
        try:
            with write_transaction(engine) as conn:
                issued = store_drafts(conn, [draft for draft, _ in group])
            self.groups += 1
        except Exception as exc:
            if len(group) == 1:
                group[0][1].set_exception(exc)
                return
            log.warning("a group of %d checks failed; storing them one by one", len(group))
            for item in group:
                self._write([item])
            return
        for (_, done), check in zip(group, issued, strict=True):
            done.set_result(check)

