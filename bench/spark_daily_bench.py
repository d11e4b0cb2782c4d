"""The daily update on Spark: a first day from nothing, then the next day after 1,000
new records reached the lake, next to a full recomputation of that day.

    .venv/bin/python bench/spark_daily_bench.py --records 1m
    .venv/bin/python bench/spark_daily_bench.py --records 10m --memory 3g

Uses :mod:`bench.spark_bench`'s generated records (same generator, seed and cache) and a
fresh standalone cluster on 127.0.0.1 (``--workers`` workers of one core). In one
session, side by side:

1. day 1 with a state folder (every shard computed, state kept: answers, change points,
   input hashes);
2. 1,000 new records (copies of random records with new ids, decided on day 1 and
   recorded on day 2) are written as one more Parquet file;
3. day 2 with the same state folder: shards that received records recompute only the
   subjects whose inputs changed or that reached a change point; the others are
   refreshed the same way or reused whole;
4. day 2 without state (everything computed), the baseline.

The two day-2 answers are compared (every column; exit 1 if they differ). Results go
to ``bench/results/spark_daily_latest.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import parse_size  # noqa: E402
from bench.spark_bench import CACHE, ON, bench_session, records_folder  # noqa: E402
from creditindex.rules import load_rules  # noqa: E402

NEW = 1000
DAY2 = ON + dt.timedelta(days=1)


def new_records(folder: Path, n: int, seed: int = 7) -> pl.DataFrame:
    """``n`` copies of random records of the lake with new ids, decided on day 1 and
    recorded on day 2 (no revocation, repair, stated bar or publication end)."""
    sample = pl.read_parquet(folder / "part-00.parquet").sample(n, seed=seed)
    return sample.with_columns(
        pl.format("NEW-{}", pl.col("record_id")).alias("record_id"),
        pl.lit(ON).alias("decided_on"), pl.lit(DAY2).alias("recorded_on"),
        *(pl.lit(None, sample.schema[c]).alias(c) for c in (
            "revoked_on", "repaired_on", "restrict_until", "publish_until")
          if c in sample.columns))


def run_days(lake: Path, work: Path, workers: int, shards: int, memory: str
             ) -> dict[str, Any]:
    """Day 1 (state), day 2 after new records (state), day 2 without state."""
    from creditindex.spark.local_cluster import start_local_cluster
    from creditindex.spark.pipeline import SparkRun, compute_on_spark

    rules = load_rules(None)
    result: dict[str, Any] = {}
    cluster = start_local_cluster(CACHE / "cluster-daily", workers=workers, cores=1,
                                  memory=memory)
    try:
        spark = bench_session(cluster.master_url, "creditindex-daily-bench", workers, shards,
                              memory)

        def one(name: str, day: dt.date, state: str | None) -> SparkRun:
            t = time.perf_counter()
            run = compute_on_spark(spark, str(lake), rules, day, str(work / name),
                                   shards=shards, state=state, timed=True)
            wall = time.perf_counter() - t
            result[name] = {"wall_s": wall, "day": day.isoformat(), "rows": run.rows,
                            "phases_s": run.seconds, "workers": run.worker_seconds,
                            "computed": len(run.computed), "refreshed": len(run.refreshed),
                            "reused": len(run.reused), "load": os.getloadavg()[0]}
            print(name, json.dumps(result[name]), flush=True)
            return run

        state = str(work / "state")
        one("day1_state", ON, state)
        new_records(lake, NEW).write_parquet(lake / "part-new.parquet")
        one("day2_state", DAY2, state)
        one("day2_full", DAY2, None)
        spark.stop()
    finally:
        cluster.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the daily benchmark once and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1m")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--memory", default="2g")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "spark_daily_latest"))
    args = parser.parse_args(argv)
    n = parse_size(args.records)
    source = records_folder(n)
    work = Path(tempfile.mkdtemp(prefix="spark-daily-", dir=CACHE))
    lake = work / "lake"
    shutil.copytree(source, lake)
    (lake / "_SUCCESS").unlink(missing_ok=True)
    load_before = os.getloadavg()
    days = run_days(lake, work, args.workers, args.shards, args.memory)
    from creditindex.spark.pipeline import read_answer

    same = read_answer(work / "day2_state").equals(read_answer(work / "day2_full"))
    result = {"records": n, "new_records": NEW, "shards": args.shards,
              "workers": args.workers, "days": days, "same_answer": same,
              "load_before": load_before, "load_after": os.getloadavg(),
              "when": dt.datetime.now(dt.UTC).isoformat()}
    Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    Path(args.out + ".md").write_text(table(result))
    print(table(result))
    return 0 if same else 1


def table(r: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = ["| run | wall | shards computed / refreshed / reused | subjects computed | "
             "engine in workers (sum) | phases (driver) | load |", "|---|---|---|---|---|---|---|"]
    for name, d in r["days"].items():
        w = d["workers"]
        lines.append(
            f"| {name} ({d['day']}) | {d['wall_s']:.1f} s | {d['computed']} / "
            f"{d['refreshed']} / {d['reused']} | {int(w.get('subjects', 0)):,} | "
            f"{w.get('engine', 0):.1f} s | "
            + ", ".join(f"{k} {v:.1f} s" for k, v in d["phases_s"].items())
            + f" | {d['load']:.1f} |")
    lines.append(f"\n{r['records']:,} records + {r['new_records']:,} new, {r['shards']} "
                 f"shards, {r['workers']} workers of one core; same day-2 answer with and "
                 f"without state: {r['same_answer']}; load average before / after "
                 f"{r['load_before'][0]:.1f} / {r['load_after'][0]:.1f}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
