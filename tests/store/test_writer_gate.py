"""The writers' gate of a kept SQLite store (:mod:`creditindex.store.writer_gate`): one
writer at a time across the threads of a process and across processes, waits ending
as soon as the gate is free."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from creditindex.store.writer_gate import WriterGate

TRY_FROM_ANOTHER_PROCESS = """
import sys
from creditindex.store.writer_gate import WriterGate
gate = WriterGate(sys.argv[1])
taken = gate.acquire(blocking=False)
print("taken" if taken else "refused")
"""


def _another_process_takes(database: Path) -> str:
    done = subprocess.run([sys.executable, "-c", TRY_FROM_ANOTHER_PROCESS, str(database)],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_one_writer_across_processes(tmp_path: Path) -> None:
    database = tmp_path / "store.sqlite"
    gate = WriterGate(str(database))
    try:
        with gate, gate:  # re-entrant in the thread holding it
            assert _another_process_takes(database) == "refused"
        assert _another_process_takes(database) == "taken"
    finally:
        gate.close()


def test_one_writer_across_threads_and_gates(tmp_path: Path) -> None:
    database = str(tmp_path / "store.sqlite")
    first, second = WriterGate(database), WriterGate(database)
    try:
        with first:
            taken: list[bool] = []
            other = threading.Thread(target=lambda: taken.append(first.acquire(False)))
            other.start()
            other.join()
            assert taken == [False]
            assert not second.acquire(blocking=False)  # another open of the same file
        assert second.acquire(blocking=False)
        second.release()
    finally:
        first.close()
        second.close()


def test_a_waiting_writer_goes_in_once_the_gate_is_free(tmp_path: Path) -> None:
    database = str(tmp_path / "store.sqlite")
    holder, waiter = WriterGate(database), WriterGate(database)
    entered: list[float] = []

    def wait_then_enter() -> None:
        with waiter:
            entered.append(time.perf_counter())

    try:
        holder.acquire()
        thread = threading.Thread(target=wait_then_enter)
        thread.start()
        time.sleep(0.2)
        assert not entered  # still waiting
        freed = time.perf_counter()
        holder.release()
        thread.join(timeout=10)
        assert entered and entered[0] - freed < 0.5  # woken by the release (a loaded CI box aside)
    finally:
        holder.close()
        waiter.close()
