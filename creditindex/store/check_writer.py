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

On PostgreSQL the writer keeps a psycopg connection of its own for its life (no pool,
no pre-ping) and stores a group through it (:mod:`creditindex.store.pg_checks`: the same
rows in two round trips); a broken connection is replaced by the next group.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from creditindex.store.checks import CheckDraft, IssuedCheck, store_drafts
from creditindex.store.db import get_engine, normalise_url, write_transaction

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
        self._direct: Any = None  # the writer thread's psycopg connection (PostgreSQL)
        self._engine_only = False

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
                break
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
        self._close_direct()

    def _store(self, drafts: list[CheckDraft]) -> list[IssuedCheck]:
        """Store ``drafts`` in one transaction (committed when this returns)."""
        direct = self._connection()
        if direct is not None:
            from creditindex.store.pg_checks import store_drafts_pg

            return store_drafts_pg(direct, drafts)
        with write_transaction(get_engine(self.url)) as conn:
            return store_drafts(conn, drafts)

    def _connection(self) -> Any:
        """The writer's psycopg connection on PostgreSQL (opened when missing or
        closed), else ``None``: the engine's path."""
        if self._direct is not None and not self._direct.closed:
            return self._direct
        url = normalise_url(self.url)
        if self._engine_only or not url.startswith("postgresql+psycopg://"):
            return None
        from creditindex.store.driver import connect

        driver = connect(url)
        if driver is None:  # a URL or schema the direct path does not take
            self._engine_only = True
            return None
        self._direct = driver.dbapi
        return self._direct

    def _close_direct(self) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None

    def _write(self, group: list[tuple[CheckDraft, Future[IssuedCheck]]]) -> None:
        try:
            issued = self._store([draft for draft, _ in group])
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

