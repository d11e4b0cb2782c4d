"""Checking a 1M-row records file (issue "One engine for every face": every check of a
1M-row input in one vectorised pass, well under a second).

    .venv/bin/python bench/validation.py [--records 1000000] [--runs 3] [--dir var/validation]

Generates the records once (seed fixed) as CSV, then times, in this process, best of
``--runs``: reading the file alone (``polars.read_csv``, every column as text: what any
reader pays), and ``records.read_records`` (the same read, every check, the canonical
frame: what ``import`` and ``compute`` run). The difference is the checks' cost. Then the
same file with one bad cell in every 1,000 rows, until the ``InputError`` naming every
problem's file, row, column and reason is raised. Wall and CPU seconds (CPU counts every
thread of the process), with the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from creditindex.errors import InputError
from creditindex.generate import generate_records, generate_subjects
from creditindex.records import read_records
from creditindex.rules import load_rules

TODAY = dt.date(2026, 11, 30)


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """The lowest wall and CPU seconds of ``runs`` calls of ``work``."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def files(folder: Path, records: int) -> tuple[Path, Path]:
    """The good file and the file with one bad cell in every 1,000 rows (made once)."""
    folder.mkdir(parents=True, exist_ok=True)
    good, bad = folder / f"records-{records}.csv", folder / f"records-{records}-bad.csv"
    if not good.exists():
        rules = load_rules()
        frame = generate_records(generate_subjects(max(records // 5, 10), 7), records,
                                 rules, 7)
        frame.write_csv(good, date_format="%Y-%m-%d", null_value="")
    if not bad.exists():
        frame = pl.read_csv(good, infer_schema=False)
        every = pl.int_range(pl.len()) % 1000 == 0
        frame.with_columns(pl.when(every).then(pl.lit("2025-13-01"))
                           .otherwise(pl.col("decided_on")).alias("decided_on")
                           ).write_csv(bad)
    return good, bad


def main() -> None:
    """Time reading and checking; print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("var/validation"))
    args = parser.parse_args()
    good, bad = files(args.dir, args.records)
    rules = load_rules()
    load_before = os.getloadavg()[0]
    read = best_of(args.runs, lambda: pl.read_csv(good, infer_schema=False))
    checked = best_of(args.runs, lambda: read_records([good], rules, TODAY))
    found: list[int] = []

    def refused() -> None:
        try:
            read_records([bad], rules, TODAY)
        except InputError as error:
            found.append(len(error.problems))
        else:
            raise SystemExit("the file with bad cells was accepted")

    with_problems = best_of(args.runs, refused)
    print(f"| {args.records:,} rows | wall s | CPU s |\n|---|---|---|")
    print(f"| read the CSV alone (`polars.read_csv`, text) | {read[0]:.2f} | {read[1]:.2f} |")
    print(f"| read, check every row, canonical frame (`read_records`) | {checked[0]:.2f} | "
          f"{checked[1]:.2f} |")
    print(f"| the checks alone (difference) | {checked[0] - read[0]:.2f} | "
          f"{checked[1] - read[1]:.2f} |")
    print(f"| a file with {found[0]:,} bad dates, until the error naming each | "
          f"{with_problems[0]:.2f} | {with_problems[1]:.2f} |")
    print(f"\nMeasured {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M} UTC on {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.")


if __name__ == "__main__":
    main()
