"""Checking a 1M-row records file (issue "One engine for every face": every check of a
1M-row input in one vectorised pass, well under a second).

    .venv/bin/python bench/validation.py [--records 1000000] [--runs 3] [--dir var/validation]
    .venv/bin/python bench/validation.py --trees . ../main --rounds 3 --dir var/validation

Generates the records once (seed fixed) as CSV, then times, in this process, best of
``--runs``: reading the file alone (``polars.read_csv``, every column as text: what any
reader pays), and ``records.read_records`` (the same read, every check, the canonical
frame: what ``import`` and ``compute`` run). The difference is the checks' cost. Then the
same file with one bad cell in every 1,000 rows, until the ``InputError`` naming every
problem's file, row, column and reason is raised. Wall and CPU seconds (CPU counts every
thread of the process), with the load average.

``--trees A B ...``: the same measures of each source tree's package (this script run
with ``PYTHONPATH`` set to the tree), in fresh processes taking turns, ``--rounds`` times;
every figure of every run, then the best of each tree (a shared machine's load moves
between runs: compare the same round's figures, and CPU more than wall).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
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


def measure(args: argparse.Namespace) -> dict[str, float]:
    """The figures of this process's package: wall and CPU seconds of each measure."""
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
    return {"read_wall": read[0], "read_cpu": read[1], "checked_wall": checked[0],
            "checked_cpu": checked[1], "checks_wall": checked[0] - read[0],
            "checks_cpu": checked[1] - read[1], "bad_wall": with_problems[0],
            "bad_cpu": with_problems[1], "problems": found[0], "load_before": load_before,
            "load_after": os.getloadavg()[0]}


def table(records: int, figures: dict[str, float]) -> str:
    """One run's figures as a markdown table."""
    f = figures
    return "\n".join([
        f"| {records:,} rows | wall s | CPU s |", "|---|---|---|",
        f"| read the CSV alone (`polars.read_csv`, text) | {f['read_wall']:.2f} | "
        f"{f['read_cpu']:.2f} |",
        f"| read, check every row, canonical frame (`read_records`) | "
        f"{f['checked_wall']:.2f} | {f['checked_cpu']:.2f} |",
        f"| the checks alone (difference) | {f['checks_wall']:.2f} | {f['checks_cpu']:.2f} |",
        f"| a file with {int(f['problems']):,} bad dates, until the error naming each | "
        f"{f['bad_wall']:.2f} | {f['bad_cpu']:.2f} |"])


def side_by_side(args: argparse.Namespace) -> None:
    """Each tree's figures from fresh processes taking turns, ``args.rounds`` times."""
    files(args.dir, args.records)
    runs: dict[str, list[dict[str, float]]] = {tree: [] for tree in args.trees}
    keys = ("checks_wall", "checks_cpu", "checked_wall", "checked_cpu", "read_wall",
            "bad_wall", "bad_cpu")
    print("| round | tree | " + " | ".join(keys) + " | load |")
    print("|---|---|" + "---|" * (len(keys) + 1))
    for n in range(args.rounds):
        for tree in args.trees:
            env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
            out = subprocess.run(
                [sys.executable, __file__, "--json", "--records", str(args.records),
                 "--runs", str(args.runs), "--dir", str(args.dir.resolve())],
                env=env, cwd=tree, check=True, capture_output=True, text=True).stdout
            f = json.loads(out.strip().splitlines()[-1])
            runs[tree].append(f)
            print(f"| {n + 1} | {tree} | " + " | ".join(f"{f[k]:.2f}" for k in keys)
                  + f" | {f['load_before']:.1f} |", flush=True)
    print("\nBest of the rounds:\n")
    for tree, figures in runs.items():
        best = {k: min(f[k] for f in figures) for k in figures[0]}
        print(f"{tree}:\n\n{table(args.records, best)}\n")
    print(f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M} UTC on {os.cpu_count()} CPUs.")


def main() -> None:
    """Time reading and checking; print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("var/validation"))
    parser.add_argument("--trees", nargs="+", help="source trees to compare, in turns")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one line of JSON figures")
    args = parser.parse_args()
    if args.trees:
        side_by_side(args)
        return
    figures = measure(args)
    if args.json:
        print(json.dumps(figures))
        return
    print(table(args.records, figures))
    print(f"\nMeasured {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M} UTC on {os.cpu_count()} CPUs, "
          f"load average {figures['load_before']:.1f} before, "
          f"{figures['load_after']:.1f} after.")


if __name__ == "__main__":
    main()
