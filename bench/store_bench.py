"""Store benchmark: import 1,000,000 generated penalty records into a fresh SQLite store,
then run the daily evaluation on it. Prints wall and CPU seconds per step.

    .venv/bin/python bench/store_bench.py [--records 1000000] [--subjects 200000]

Targets (issue "The store"): the import under 60 s, the daily evaluate under 10 s.
Generating the file is not timed. The store is a temporary SQLite file (``--keep DIR``
keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from creditindex.generate import generate
from creditindex.rules import load_rules
from creditindex.store.db import dispose_engines
from creditindex.store.importer import import_records
from creditindex.store.snapshots import evaluate

T = TypeVar("T")


def timed(label: str, step: Callable[[], T]) -> tuple[T, float]:
    """Run ``step``; print and return its wall seconds (and CPU seconds, printed)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<44} {wall:8.2f} s wall  {cpu:8.2f} s cpu", flush=True)
    return result, wall


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", type=Path, help="Keep the files in this folder.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="store-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(args, folder)
    finally:
        dispose_engines()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path) -> None:
    """Generate, import and evaluate in ``folder``."""
    csv = folder / "records.csv"
    db = folder / "bench.sqlite"
    for old in folder.glob("bench.sqlite*"):
        old.unlink()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; files in {folder}")
    (_, records), _ = timed(f"generate {args.records:,} records (not counted)",
                            lambda: generate(args.subjects, args.records, load_rules(),
                                             args.seed))
    records.write_csv(csv, date_format="%Y-%m-%d", null_value="")
    url = f"sqlite:///{db}"
    today = dt.date.today()
    result, import_s = timed("import into a fresh SQLite store",
                             lambda: import_records(url, [csv], today=today))
    print(f"  {result.added:,} records stored, {db.stat().st_size / 1e6:.0f} MB")
    timed("import the same file again (adds nothing)",
          lambda: import_records(url, [csv], today=today))
    runs, eval_s = timed("evaluate: first day", lambda: evaluate(url, today))
    print(f"  {runs[-1].n_subjects:,} subjects in the snapshot")
    _, next_s = timed("evaluate: next day", lambda: evaluate(url, today + dt.timedelta(1)))
    timed("evaluate: re-run the same day (harmless)",
          lambda: evaluate(url, today + dt.timedelta(1)))
    print(f"import {import_s:.1f} s (target < 60), daily evaluate {eval_s:.1f} s / "
          f"{next_s:.1f} s (target < 10)")


if __name__ == "__main__":
    main()
