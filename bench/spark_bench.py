"""The Spark engine next to the single-process engine on generated records.

    .venv/bin/python bench/spark_bench.py --records 10m            # the issue's size
    .venv/bin/python bench/spark_bench.py --records 2m --shards 16

Generates (once, cached under the temp directory) ``n`` records for ``n / 2`` subjects
with the project's generator and writes them as a folder of Parquet files. Then:

1. single process: ``evaluate.compute`` on the records (loaded untimed), in a child
   process of its own, peak memory measured;
2. Spark: a standalone cluster on 127.0.0.1 (a master and ``--workers`` workers of one
   core) is started, a session connects, and ``compute_on_spark`` runs the same day.

The two answers are compared (every column; exit 1 if they differ). Spark's time is
split into JVM start (cluster daemons; the driver's session and executors), the read
and shuffle (from the stages' metrics in Spark's REST API), the Arrow conversion and
the engine inside the Python workers (accumulators), ranks and the write. Results go to
``bench/results/spark_latest.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import parse_size, size_label  # noqa: E402
from creditindex.generate import generate_records, generate_subjects  # noqa: E402
from creditindex.rules import load_rules  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "creditindex-spark-bench"
SEED = 20261130
ON = dt.date(2026, 11, 26)
FILES = 8


def records_folder(n: int) -> Path:
    """The generated records as a folder of Parquet files (made once per size)."""
    folder = CACHE / f"records-{size_label(n)}"
    done = folder / "_SUCCESS"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rules = load_rules(None)
    subjects = generate_subjects(n // 2, SEED)
    records = generate_records(subjects, n, rules, SEED)
    size = -(-records.height // FILES)
    for i in range(FILES):
        records.slice(i * size, size).write_parquet(folder / f"part-{i:02d}.parquet")
    done.touch()
    return folder


def single_process(folder: Path, out: Path) -> dict[str, Any]:
    """``evaluate.compute`` in a child process: seconds and peak memory."""
    code = f"""
import json, resource, time, polars as pl
from creditindex.evaluate import CreditData, compute
from creditindex.rules import load_rules
import datetime as dt
records = pl.read_parquet({str(folder / '*.parquet')!r})
rules = load_rules(None)
t = time.perf_counter()
day = dt.date.fromisoformat({ON.isoformat()!r})
answer = compute(CreditData(records=records, rules=rules), day)
seconds = time.perf_counter() - t
answer.write_parquet({str(out)!r})
print(json.dumps({{"seconds": seconds, "rows": answer.height,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}}))
"""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def stage_metrics(ui_url: str, app_id: str) -> list[dict[str, Any]]:
    """Every completed stage's metrics from the driver's REST API."""
    url = f"{ui_url}/api/v1/applications/{app_id}/stages?status=complete"
    with urllib.request.urlopen(url, timeout=30) as reply:
        stages: list[dict[str, Any]] = json.load(reply)
    return stages


def summarise(stages: list[dict[str, Any]]) -> dict[str, float]:
    """Totals over stages: shuffle bytes and times, executor run time, input bytes."""
    total = {"shuffle_write_mb": 0.0, "shuffle_read_mb": 0.0, "shuffle_write_s": 0.0,
             "shuffle_fetch_wait_s": 0.0, "executor_run_s": 0.0, "input_mb": 0.0,
             "gc_s": 0.0, "evaluate_stage_run_s": 0.0, "read_stage_run_s": 0.0}
    for s in stages:
        total["shuffle_write_mb"] += s.get("shuffleWriteBytes", 0) / 2**20
        total["shuffle_read_mb"] += s.get("shuffleReadBytes", 0) / 2**20
        total["shuffle_write_s"] += s.get("shuffleWriteTime", 0) / 1e9
        total["shuffle_fetch_wait_s"] += s.get("shuffleFetchWaitTime", 0) / 1e3
        total["executor_run_s"] += s.get("executorRunTime", 0) / 1e3
        total["input_mb"] += s.get("inputBytes", 0) / 2**20
        total["gc_s"] += s.get("jvmGcTime", 0) / 1e3
    if stages:  # the engine's stage reads the records' shuffle; the read stage writes it
        biggest_read = max(stages, key=lambda s: s.get("shuffleReadBytes", 0))
        biggest_write = max(stages, key=lambda s: s.get("shuffleWriteBytes", 0))
        total["evaluate_stage_run_s"] = biggest_read.get("executorRunTime", 0) / 1e3
        total["read_stage_run_s"] = biggest_write.get("executorRunTime", 0) / 1e3
    return total


def summarise_stages(lines: list[dict[str, Any]]) -> dict[str, float]:
    """:func:`summarise`'s stage totals back from :func:`per_stage` lines."""
    return summarise([{"executorRunTime": x["run_s"] * 1e3,
                       "shuffleWriteBytes": x["shuffle_write_mb"] * 2**20,
                       "shuffleReadBytes": x["shuffle_read_mb"] * 2**20} for x in lines])


def per_stage(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per stage: what it ran, tasks, run time, shuffle."""
    return [{"stage": s.get("stageId"), "name": s.get("name", "")[:60],
             "tasks": s.get("numTasks"), "run_s": s.get("executorRunTime", 0) / 1e3,
             "shuffle_write_mb": round(s.get("shuffleWriteBytes", 0) / 2**20, 1),
             "shuffle_read_mb": round(s.get("shuffleReadBytes", 0) / 2**20, 1)}
            for s in sorted(stages, key=lambda s: int(s.get("stageId", 0)))]


def bench_session(master_url: str, app_name: str, workers: int, shards: int, memory: str
                  ) -> Any:
    """A session on the local cluster with one-core executors of ``memory``, its
    executors started (so that their start is not counted in the first job)."""
    from creditindex.spark.session import spark_session

    spark = spark_session(master_url, app_name=app_name, conf={
        "spark.executor.memory": memory, "spark.executor.cores": "1",
        "spark.cores.max": str(workers), "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": str(shards)})
    spark.sparkContext.parallelize(range(workers), workers).count()  # executors up
    return spark


def spark_run(folder: Path, out: Path, workers: int, shards: int, memory: str
              ) -> dict[str, Any]:
    """The Spark engine on a fresh local standalone cluster: the time split."""
    from creditindex.spark.local_cluster import start_local_cluster
    from creditindex.spark.pipeline import compute_on_spark

    t0 = time.perf_counter()
    cluster = start_local_cluster(CACHE / "cluster", workers=workers, cores=1,
                                  memory=memory)
    t1 = time.perf_counter()
    try:
        spark = bench_session(cluster.master_url, "creditindex-bench", workers, shards,
                              memory)
        t2 = time.perf_counter()
        run = compute_on_spark(spark, str(folder), load_rules(None), ON, str(out),
                               shards=shards, timed=True)
        t3 = time.perf_counter()
        ui = spark.sparkContext.uiWebUrl or "http://127.0.0.1:4040"
        stages = stage_metrics(ui, spark.sparkContext.applicationId)
        metrics = summarise(stages)
        spark.stop()
    finally:
        cluster.stop()
    return {"cluster_start_s": t1 - t0, "driver_and_executors_start_s": t2 - t1,
            "compute_s": t3 - t2, "phases_s": run.seconds, "workers_s": run.worker_seconds,
            "rows": run.rows, "shards": shards, "workers": workers, "stages": metrics,
            "per_stage": per_stage(stages)}


def compare(single: Path, spark_out: Path) -> bool:
    """Whether the Spark answer equals the single-process one in every column."""
    from creditindex.spark.pipeline import read_answer

    want = pl.read_parquet(single).sort("subject_type", "rank", "subject_id")
    return read_answer(spark_out).equals(want)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark once and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="10m", help="records to generate (10m, 2m)")
    parser.add_argument("--workers", type=int, default=2, help="workers of one core each")
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--memory", default="3g", help="per worker and executor")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "spark_latest"))
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the .md table from the .json of a run")
    args = parser.parse_args(argv)
    if args.render:
        result = json.loads(Path(args.out + ".json").read_text())
        again = summarise_stages(result["spark"]["per_stage"])
        for key in ("evaluate_stage_run_s", "read_stage_run_s"):
            result["spark"]["stages"][key] = again[key]
        result["spark"]["stages"].pop("arrow_stage_run_s", None)
        Path(args.out + ".json").write_text(json.dumps(result, indent=1))
        Path(args.out + ".md").write_text(table(result))
        print(table(result))
        return 0
    n = parse_size(args.records)
    t = time.perf_counter()
    folder = records_folder(n)
    print(f"records: {folder} ({time.perf_counter() - t:.0f} s)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="spark-bench-", dir=CACHE))
    load_before = os.getloadavg()
    single = single_process(folder, work / "single.parquet")
    print(f"single process: {single}", flush=True)
    spark = spark_run(folder, work / "answer", args.workers, args.shards, args.memory)
    print(f"spark: {json.dumps(spark, indent=1)}", flush=True)
    same = compare(work / "single.parquet", work / "answer")
    result = {"records": n, "subjects": n // 2, "on": ON.isoformat(), "single": single,
              "spark": spark, "same_answer": same, "load_before": load_before,
              "load_after": os.getloadavg(), "cpus": os.cpu_count(),
              "machine": platform.platform(), "when": dt.datetime.now(dt.UTC).isoformat()}
    Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    Path(args.out + ".md").write_text(table(result))
    print(table(result))
    return 0 if same else 1


def table(r: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    s, w, st = r["spark"], r["spark"]["workers_s"], r["spark"]["stages"]
    rows = [
        ("records / subjects with records", f"{r['records']:,} / {r['single']['rows']:,}"),
        ("single process: compute", f"{r['single']['seconds']:.1f} s, peak "
                                    f"{r['single']['peak_mb']:,} MB"),
        ("Spark: cluster start (master + workers)", f"{s['cluster_start_s']:.1f} s"),
        ("Spark: driver JVM + executors start", f"{s['driver_and_executors_start_s']:.1f} s"),
        ("Spark: compute_on_spark wall", f"{s['compute_s']:.1f} s"),
        ("  phases (driver)", ", ".join(f"{k} {v:.1f} s" for k, v in s["phases_s"].items())),
        ("  engine in workers (sum over shards)", f"{w['engine']:.1f} s in "
                                                  f"{int(w['shards'])} shards"),
        ("  Arrow <-> polars in workers (sum)", f"{w['arrow_convert']:.1f} s"),
        ("  shuffle written / read", f"{st['shuffle_write_mb']:.0f} MB / "
                                     f"{st['shuffle_read_mb']:.0f} MB"),
        ("  shuffle write time / fetch wait (sum)", f"{st['shuffle_write_s']:.1f} s / "
                                                    f"{st['shuffle_fetch_wait_s']:.1f} s"),
        ("  executor run time, all stages (sum)", f"{st['executor_run_s']:.1f} s "
                                                  f"(GC {st['gc_s']:.1f} s)"),
        ("  of it: read Parquet, hash, shuffle write", f"{st['read_stage_run_s']:.1f} s"),
        ("  of it: the applyInArrow stage (shuffle read, group, Arrow to and from Python, "
         "engine)", f"{st['evaluate_stage_run_s']:.1f} s"),
        ("  Parquet read", f"{st['input_mb']:.0f} MB"),
        ("same answer, every column", str(r["same_answer"])),
        ("load average before / after", f"{r['load_before'][0]:.1f} / "
                                        f"{r['load_after'][0]:.1f}"),
    ]
    return "| measure | value |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows) \
        + "\n"


if __name__ == "__main__":
    sys.exit(main())
