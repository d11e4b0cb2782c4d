"""Whole-process timings of the store (issue "One engine for every face"): each step is a
fresh ``creditindex`` process, timed from start to exit, with its CPU seconds (on a
shared machine the CPU time is the steadier number).

    .venv/bin/python bench/store_build.py --dir var/bench-1m --end YYYY-MM-DD \
        --pg postgresql://.../db
    .venv/bin/python bench/store_processes.py --dir var/bench-1m --pg postgresql://.../db

(``--end`` some 40 days ago: the 32 days measured end by today, after the records.)

Steps: ``creditindex --help``; ``check --db`` of 10 subjects; the same check inside a
running process (the store already open, the second of two answers); the daily
``evaluate`` of the day after the last evaluated one (the first time: every subject
from scratch), of the next day, and of a day 30 days later (catching up 30 missed
days). Targets: help 0.3 s, check 0.5 s (50 ms in a process), a day 3 s, 30 missed days
at most twice a day. ``bench/store_reset.py URL`` forgets a store's evaluations to
measure the first one again. Results: ``bench/results/store.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "creditindex"]
IN_PROCESS = """
import sys, time, datetime as dt
from creditindex.evaluate import check
from creditindex.store.load import load_data
url, day, ids = sys.argv[1], dt.date.fromisoformat(sys.argv[2]), sys.argv[3].split(",")
times = []
for _ in range(3):
    started = time.perf_counter()
    check(load_data(url, on=day, subject_ids=ids), day, ids)
    times.append(time.perf_counter() - started)
print(min(times[1:]))
"""


def run(argv: list[str]) -> tuple[float, float, str]:
    """Run a process; its wall seconds, CPU seconds (user + system) and last line."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    out = (child.stdout.read() if child.stdout else "") + (
        child.stderr.read() if child.stderr else "")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out}")
    lines = [line for line in out.splitlines() if line.strip()]
    return wall, usage.ru_utime + usage.ru_stime, lines[-1] if lines else ""


STEPS_DAYS = 32  # the next day, the day after, then 30 missed days


def last_day(url: str, check_only: bool = False) -> dt.date:
    """The last evaluated day of the store, or, never evaluated, the day before the
    first day measured (days after today are refused, so the steps end by today; the
    checks alone ask about the day after the last evaluated one, whenever it is)."""
    from creditindex.store.db import get_engine, read_transaction
    from creditindex.store.snapshots import last_evaluated_day

    with read_transaction(get_engine(url)) as conn:
        found = last_evaluated_day(conn)
    latest_start = dt.date.today() - dt.timedelta(days=STEPS_DAYS)
    if found is None:
        return latest_start
    if found > latest_start and not check_only:
        raise SystemExit(f"{url}: evaluated up to {found}, too late to measure "
                         f"{STEPS_DAYS} more days by today: run bench/store_reset.py first")
    return found


def measure(url: str, label: str, ids: list[str], check_only: bool = False,
            repeat: int = 1) -> list[dict[str, object]]:
    """Every step on the store at ``url`` (``check_only``: the checks, the whole-process
    one ``repeat`` times)."""
    rows: list[dict[str, object]] = []

    def step(task: str, argv: list[str], target: str) -> None:
        wall, cpu, last = run(argv)
        rows.append({"store": label, "task": task, "wall s": round(wall, 2),
                     "cpu s": round(cpu, 2), "target": target, "output": last[:70]})
        print(rows[-1], flush=True)

    day = last_day(url, check_only)
    on = (day + dt.timedelta(days=1)).isoformat()
    for _ in range(repeat):
        step("check --db of 10 subjects", [*CLI, "check", "--db", url, "--on", on,
                                           "--subjects", ",".join(ids), "--out",
                                           str(Path(tempfile.gettempdir()) /
                                               "store-check.csv")], "0.5 s")
    _, _, last = run([sys.executable, "-c", IN_PROCESS, url, on, ",".join(ids)])
    rows.append({"store": label, "task": "check of 10 inside a running process",
                 "wall s": round(float(last), 3), "cpu s": None, "target": "0.05 s",
                 "output": ""})
    print(rows[-1], flush=True)
    if check_only:
        return rows
    for n, name in ((1, "evaluate: the next day"), (1, "evaluate: the day after"),
                    (30, "evaluate: 30 missed days")):
        day = day + dt.timedelta(days=n)
        step(name, [*CLI, "evaluate", "--db", url, "--on", day.isoformat(),
                    "--no-progress"], "3 s; 30 days ≤ 2× a day")
    return rows


def main() -> None:
    """Measure the stores built by ``bench/store_build.py``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench-1m")
    parser.add_argument("--pg", help="Also measure the PostgreSQL store at this URL.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "store.md")
    parser.add_argument("--check-only", action="store_true",
                        help="Only the checks (no daily evaluate), the whole-process one "
                             "--repeat times.")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    ids = pl.read_csv(args.dir / "records.csv", columns=["subject_id"], n_rows=2000
                      ).get_column("subject_id").unique(maintain_order=True).head(10).to_list()
    # The package's bytecode compiled, as an installed package's is (an editable checkout
    # run with PYTHONDONTWRITEBYTECODE would otherwise compile its modules every run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "creditindex"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    # A store just copied for the benchmark has its pages still to be written to disk: the
    # first commit's fsync would wait for all of them (0.3-0.4 s on 750 MB), which no
    # store in use pays.
    os.sync()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    wall, cpu, _ = run([*CLI, "--help"])
    rows: list[dict[str, object]] = [{"store": "-", "task": "creditindex --help",
                                      "wall s": round(wall, 2), "cpu s": round(cpu, 2),
                                      "target": "0.3 s", "output": ""}]
    print(rows[-1], flush=True)
    stores = [(f"sqlite:///{(args.dir / 'bench.sqlite').resolve()}", "SQLite")]
    if args.pg:
        stores.append((args.pg, "PostgreSQL"))
    for url, label in stores:
        rows += measure(url, label, ids, args.check_only, args.repeat)
    table = pl.DataFrame(rows).drop("output")
    header = "| " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * table.width]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |"
              for r in table.rows()]
    note = (f"\nMeasured {dt.datetime.now():%Y-%m-%dT%H:%M} on {os.cpu_count()} CPUs, load "
            f"average {os.getloadavg()[0]:.1f} after (a shared machine); 1,000,000 records.\n")
    args.out.write_text("\n".join(lines) + "\n" + note, encoding="utf-8")
    print("\n".join(lines) + note)


if __name__ == "__main__":
    main()
