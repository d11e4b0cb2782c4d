"""Reliability over real processes: an import killed with SIGKILL half-way leaves the store
as it was, and two imports of overlapping files running at the same time store each
record once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from creditindex.generate import generate
from creditindex.rules import load_rules
from creditindex.store.audit import audit_trail
from creditindex.store.db import get_engine, read_transaction
from creditindex.store.importer import count_rows, import_records
from creditindex.store.load import load_data
from tests.store.storetest import TODAY

TABLES = ("penalty_record", "record_event", "import_batch", "subject", "audit_log")
PROGRESS = re.compile(r"inserting records:[^\r\n]*?\|\s*(\d+)/(\d+)")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated record files: a big one, a small one, two overlapping halves."""
    folder = tmp_path_factory.mktemp("generated")
    _, records = generate(40_000, 200_000, load_rules(), seed=7)
    files = {"big": records, "small": records.slice(0, 500), "more": records.slice(500, 1000),
             "first": records.slice(0, 20_000), "second": records.slice(10_000, 20_000)}
    paths = {}
    for name, frame in files.items():
        paths[name] = folder / f"{name}.csv"
        frame.write_csv(paths[name], date_format="%Y-%m-%d", null_value="")
    return paths


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "creditindex", *args]


def counts(url: str) -> dict[str, int]:
    """Rows per table."""
    return {t: count_rows(url, t) for t in TABLES}


def test_an_import_killed_half_way_leaves_the_store_unchanged(
        empty_url: str, generated: dict[str, Path]) -> None:
    import_records(empty_url, [generated["small"]], today=TODAY)
    before = counts(empty_url)
    proc = subprocess.Popen(
        _cli("import", "--db", empty_url, "--records", str(generated["big"]),
             "--today", TODAY.isoformat()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = bytearray()

    def read() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read1(4096):
            seen.extend(chunk)

    threading.Thread(target=read, daemon=True).start()
    inserted = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        done = [int(m.group(1)) for m in PROGRESS.finditer(seen.decode("utf-8", "replace"))]
        inserted = max(done, default=0)
        if inserted > 0:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the import ended before it could be killed: {bytes(seen)!r}"
    assert 0 < inserted < 200_000
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert counts(empty_url) == before
    # nothing is left locked: the next import goes through
    result = import_records(empty_url, [generated["more"]], today=TODAY)
    assert result.added == 1000


def test_overlapping_imports_at_the_same_time_store_each_record_once(
        empty_url: str, generated: dict[str, Path]) -> None:
    # Both start on an empty database: one creates the schema, the other waits for it.
    procs = [subprocess.Popen(_cli("import", "--db", empty_url, "--records", str(path),
                                   "--today", TODAY.isoformat(), "--no-progress"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for path in (generated["first"], generated["second"])]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    assert count_rows(empty_url, "penalty_record") == 30_000
    with read_transaction(get_engine(empty_url)) as conn:
        distinct = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM (SELECT DISTINCT source, record_id FROM penalty_record) k"
        ).scalar_one()
    assert distinct == 30_000
    added = sorted(int(out.split()[2]) for out, _ in outputs)
    assert added == [10_000, 20_000]  # whichever ran second found half already there
    assert audit_trail(empty_url).get_column("action").to_list() == ["records.import"] * 2
    assert load_data(empty_url).records.height == 30_000
