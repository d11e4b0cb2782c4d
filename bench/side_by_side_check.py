"""Whole-process ``creditindex check --db`` of 10 subjects, several checkouts side by
side (alternating runs), CPU seconds (user + system) and wall of each process.

    .venv/bin/python bench/side_by_side_check.py --trees /path/to/main,. \
        --db sqlite:///var/bench-1m/bench.sqlite --db postgresql://.../db --runs 5

Each tree runs with this interpreter and its own source (the process starts in the tree,
so ``python -m creditindex`` imports that tree's package); every tree's bytecode is
compiled first (``compileall``), as an installed package's is. The stores are written to
(each check is stored): use copies.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def run(tree: Path, argv: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "creditindex", *argv], cwd=tree,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        err = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{tree}: {' '.join(argv)} failed:\n{err}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", required=True, help="Checkouts, comma-separated.")
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("--on", required=True)
    parser.add_argument("--records", type=Path, default=ROOT / "var" / "bench-1m" /
                        "records.csv", help="The subjects asked: the first 10 of it.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    if not args.no_compile:
        for tree in trees:
            subprocess.run([sys.executable, "-m", "compileall", "-q", "creditindex"],
                           cwd=tree, check=True, stdout=subprocess.DEVNULL)
    ids = pl.read_csv(args.records, columns=["subject_id"], n_rows=2000
                      ).get_column("subject_id").unique(maintain_order=True).head(10).to_list()
    print(f"load average before {os.getloadavg()} on {os.cpu_count()} CPUs", flush=True)
    for url in args.db:
        argv = ["check", "--db", url, "--on", args.on, "--subjects", ",".join(ids),
                "--out", str(Path("/tmp") / f"side-check-{os.getpid()}.csv")]
        found: dict[Path, list[tuple[float, float]]] = {t: [] for t in trees}
        for i in range(args.runs):
            for tree in (trees if i % 2 == 0 else trees[::-1]):
                found[tree].append(run(tree, argv))
        for tree, runs in found.items():
            cpu = [c for c, _ in runs]
            wall = [w for _, w in runs]
            print(f"{url.split(':')[0]:10} {tree.name:16} cpu min {min(cpu):.3f} median "
                  f"{statistics.median(cpu):.3f} | wall min {min(wall):.3f} median "
                  f"{statistics.median(wall):.3f}  ({', '.join(f'{c:.2f}' for c in cpu)})",
                  flush=True)
    print(f"load average after {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
