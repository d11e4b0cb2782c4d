"""The daily job's catch-up side by side: two checkouts of creditindex (``--trees``,
e.g. main's and a branch's) each evaluate, as fresh processes, the next day and then
the 30 missed days after it, on copies of a store evaluated up to ``--day`` minus one
(the SQLite file ``--sqlite`` and/or the PostgreSQL database ``--pg-template``, copied
with ``CREATE DATABASE ... TEMPLATE``); rounds alternate the order. Wall and CPU seconds
(user + system), load average before and after.

    .venv/bin/python bench/store_catchup.py --trees /work/main,. --day 2026-10-31 \
        --sqlite var/base-main.sqlite,var/base.sqlite \
        --pg-template catchup_main,catchup_base --rounds 2 --compare

A store's daily state (each subject's next change point) is what the version that
evaluated it computed, so give each checkout a base evaluated by itself: one name per
checkout, comma-separated (one name: the same base for all). A base: a store of
``bench/store_build.py --end <40 days before --day>``, reset with
``bench/store_reset.py`` and evaluated on the two days before ``--day`` by that
checkout. ``--compare``: every day from ``--day`` to 30 days after, read back from
each checkout's last copy by its own code, must be the same for all (exit 1 if not);
the copies are kept (``var/catchup-<n>.sqlite``, database ``catchup_<n>``; ``--prefix``
names them otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432/"


def timed(tree: Path, url: str, day: dt.date) -> tuple[float, float]:
    """Wall and CPU seconds of ``creditindex evaluate`` of ``day`` run in ``tree``."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "creditindex", "evaluate", "--db", url,
                              "--on", day.isoformat(), "--no-progress"], cwd=tree,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    out = child.stdout.read() if child.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(out)
    return round(time.perf_counter() - started, 2), round(usage.ru_utime + usage.ru_stime, 2)


def copy_of(backend: str, source: str, n: int, prefix: str = "catchup") -> str:
    """A fresh copy of the base store for checkout ``n`` (named ``prefix``-n)."""
    if backend == "SQLite":
        path = Path("var") / f"{prefix}-{n}.sqlite"
        shutil.copy(source, path)
        os.sync()  # else the next day's first commit waits for the copy to reach the disk
        return f"sqlite:///{path.resolve()}"
    psql = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {prefix}_{n}"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {prefix}_{n} TEMPLATE {source}"], check=True)
    return f"{PG}{prefix}_{n}"


def stored_days(tree: Path, url: str, first: dt.date, out: Path) -> None:
    """Every stored day from ``first`` to 30 days after, as ``tree``'s code reads it
    (the day's answer as the app, the API and history read it), into ``out``."""
    code = ("import sys, datetime as dt, polars as pl\n"
            "from creditindex.store.snapshots import stored_snapshot\n"
            "first = dt.date.fromisoformat(sys.argv[2])\n"
            "days = [first + dt.timedelta(days=i) for i in range(31)]\n"
            "pl.concat([stored_snapshot(sys.argv[1], d).with_columns(pl.lit(d).alias('day'))"
            " for d in days]).write_parquet(sys.argv[3])\n")
    subprocess.run([sys.executable, "-c", code, url, first.isoformat(), str(out)], cwd=tree,
                   check=True)


def same_days(backend: str, trees: list[Path], urls: dict[int, str], first: dt.date,
              prefix: str = "catchup") -> bool:
    """Whether every checkout's last copy reads the same days (printed)."""
    import polars as pl

    frames = []
    for n, tree in enumerate(trees):
        out = (Path("var") / f"{prefix}-days-{n}.parquet").resolve()
        stored_days(tree, urls[n], first, out)
        frames.append(pl.read_parquet(out))
    same = all(f.equals(frames[0]) for f in frames[1:])
    print(f"{backend}: {frames[0].height:,} stored answers over 31 days, "
          f"{'the same' if same else 'NOT the same'} for {', '.join(t.name for t in trees)}",
          flush=True)
    return same


def main() -> None:
    """Measure and print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", required=True, help="Checkouts, comma-separated.")
    parser.add_argument("--day", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--sqlite")
    parser.add_argument("--pg-template")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--prefix", default="catchup",
                        help="Name of the copies (var/PREFIX-n.sqlite, database PREFIX_n): "
                             "one of its own per person benchmarking on the machine.")
    parser.add_argument("--compare", action="store_true",
                        help="Check that every checkout stored the same days.")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    stores = [(b, s.split(",")) for b, s in (("SQLite", args.sqlite),
                                             ("PostgreSQL", args.pg_template)) if s]
    same = True
    for backend, sources in stores:
        urls: dict[int, str] = {}
        for r in range(args.rounds):
            order = list(enumerate(trees)) if r % 2 == 0 else list(enumerate(trees))[::-1]
            for n, tree in order:
                url = urls[n] = copy_of(backend, sources[n % len(sources)], n, args.prefix)
                before = os.getloadavg()[0]
                one = timed(tree, url, args.day)
                thirty = timed(tree, url, args.day + dt.timedelta(days=30))
                print(f"{backend} {tree.name}: the next day {one[0]} s wall / {one[1]} s CPU;"
                      f" 30 missed days {thirty[0]} s / {thirty[1]} s "
                      f"({thirty[1] / one[1]:.1f}x in CPU); load {before:.1f} -> "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
        if args.compare:
            same = same_days(backend, trees, urls, args.day, args.prefix) and same
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
