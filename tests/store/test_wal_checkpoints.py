"""Checkpoints of a kept SQLite store by a thread of their own
(:mod:`creditindex.store.wal_checkpoints`): the server's commits no longer checkpoint
(a safety net aside), the log still starts afresh under a steady stream of writes, and
nothing written is lost."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from creditindex.store import wal_checkpoints
from creditindex.store.db import (
    dispose_engine,
    get_engine,
    keep_connections,
    write_gate,
    write_transaction,
)
from creditindex.store.wal_checkpoints import SAFETY_PAGES, WalCheckpointer


def test_a_kept_store_leaves_its_checkpoints_to_a_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.sqlite'}"
    keep_connections(url)
    engine = get_engine(url)
    try:
        names = [t.name for t in threading.enumerate()]
        assert "wal-checkpoints" in names
        with write_transaction(engine) as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
            conn.execute(text("INSERT INTO t VALUES ('a')"))
            # this process's other threads (the checkpointer) wait for the writer
            gate = write_gate(engine)
            taken: list[bool] = []
            other = threading.Thread(target=lambda: taken.append(
                gate.acquire(blocking=False)))  # type: ignore[attr-defined]
            other.start()
            other.join()
            assert taken == [False]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SAFETY_PAGES
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        dispose_engine(url)
    assert "wal-checkpoints" not in [t.name for t in threading.enumerate()]


def test_other_stores_checkpoint_in_their_commits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'short.sqlite'}"
    engine = get_engine(url)
    try:
        gate = write_gate(engine)
        assert not hasattr(gate, "acquire")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        dispose_engine(url)


def test_the_log_starts_afresh_under_steady_writes(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wal_checkpoints, "RESTART_PAGES", 20)
    path = tmp_path / "steady.sqlite"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
    writer.execute("CREATE TABLE t (n INTEGER, payload TEXT)")
    checkpoints = WalCheckpointer(str(path), interval=0.005)
    checkpoints.start()
    rows, payload = 3000, "x" * 3000  # about a page a row: 3,000 pages written
    try:
        for n in range(rows):
            with checkpoints.gate:  # as write_transaction does
                writer.execute("BEGIN IMMEDIATE")
                writer.execute("INSERT INTO t VALUES (?, ?)", (n, payload))
                writer.execute("COMMIT")
            time.sleep(0.0002)  # a server's writer waits for its next checks
    finally:
        checkpoints.stop()
    wal_pages = (path.with_name(path.name + "-wal").stat().st_size - 32) // (4096 + 24)
    assert wal_pages < rows // 4  # it started afresh: without that, 3,000 pages and more
    assert writer.execute("SELECT count(*), sum(n) FROM t").fetchone() == (
        rows, rows * (rows - 1) // 2)
    writer.close()
