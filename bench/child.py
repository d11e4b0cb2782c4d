"""One measurement in a process of its own, so that peak memory is the contender's alone:

    python -m bench.child TASK CONTENDER DATA_DIR RESULT_FILE [--repeats R]

Loads the inputs (not timed), resets the peak resident set size (Linux ``clear_refs``),
runs the task ``R`` times keeping the best wall time, writes the answer to RESULT_FILE
(parquet, for the cross-check) and prints one JSON line of measurements.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from bench import compare
from bench import contenders as c
from creditindex import engine, restrict
from creditindex.evaluate import CreditData, check
from creditindex.rules import RuleSet, load_rules

_SETTLE = 1.2  # seconds: jemalloc (polars) purges freed pages after 0.5 s + 1 s

TASKS = {
    "timeline": ("engine", "duckdb", "pandas"),
    "snapshot": ("engine", "duckdb", "pandas"),
    "update": ("engine", "scratch"),
    "eligibility": ("engine", "duckdb", "pandas"),
}


def _status(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(found.group(1)) // 1024 if found else None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb(resettable: bool) -> int:
    hwm = _status("VmHWM") if resettable else None
    if hwm is not None:
        return hwm
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


class Meter:
    """Best-of-``repeats`` wall time and the peak memory over the runs."""

    def __init__(self, repeats: int) -> None:
        self.repeats = repeats
        self.extra: dict[str, Any] = {}

    def run(self, task: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
        """Run ``task`` ``repeats`` times: the best wall time, its CPU time, and the
        highest peak resident memory of the runs (each run starts once what earlier ones
        freed has gone back to the system: polars' allocator returns it after a second)."""
        best = float("inf")
        cpu_best = float("inf")
        peak = 0
        base = 0
        resettable = False
        out: Any = None
        for _ in range(self.repeats):
            out = None
            gc.collect()
            time.sleep(_SETTLE)
            base = max(base, _status("VmRSS") or 0)
            resettable = _reset_peak()
            wall, cpu = time.perf_counter(), time.process_time()
            out = task()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = max(peak, _peak_mb(resettable))
            if wall < best:
                best, cpu_best = wall, cpu
        return out, {"seconds": best, "cpu_seconds": cpu_best, "base_mb": base,
                     "peak_mb": peak, "peak_resettable": resettable,
                     "repeats": self.repeats, **self.extra}


def _records(folder: Path, columns: list[str] | None = c.COLUMNS) -> pl.DataFrame:
    return pl.read_parquet(folder / "records.parquet", columns=columns)


def _duck(records: pl.DataFrame, rules: RuleSet) -> Any:
    import duckdb

    con = duckdb.connect()
    c.duck_load(con, records, rules)
    return con


def _timeline(contender: str, folder: Path, rules: RuleSet, k: int, meter: Meter
              ) -> tuple[pl.DataFrame, dict[str, Any]]:
    if contender == "engine":
        records = _records(folder)
        timeline, m = meter.run(lambda: c.engine_timeline(records, rules, k))
        started = time.perf_counter()
        out = timeline.frame(rules)
        m["export_seconds"] = time.perf_counter() - started
        m["subjects"] = timeline.keys.height
    elif contender == "duckdb":
        con = _duck(_records(folder), rules)
        _, m = meter.run(lambda: c.duck_timeline(con, rules, k))
        started = time.perf_counter()
        out = c.duck_fetch(con, "timeline")
        m["export_seconds"] = time.perf_counter() - started
    else:
        frame = _records(folder).to_pandas()
        result, m = meter.run(lambda: c.pandas_timeline(frame, rules, k))
        out = pl.from_pandas(result)
    return compare.normalise_timeline(out), m


def _snapshot(contender: str, folder: Path, rules: RuleSet, k: int, meter: Meter
              ) -> tuple[pl.DataFrame, dict[str, Any]]:
    if contender == "engine":
        records = _records(folder)
        out, m = meter.run(lambda: c.engine_snapshot(records, rules, k))
    elif contender == "duckdb":
        con = _duck(_records(folder), rules)
        _, m = meter.run(lambda: c.duck_snapshot(con, rules, k))
        out = c.duck_fetch(con, "snapshot")
    else:
        frame = _records(folder).to_pandas()
        result, m = meter.run(lambda: c.pandas_snapshot(frame, rules, k))
        out = pl.from_pandas(result)
    return compare.normalise_snapshot(out), m


def _update(contender: str, folder: Path, rules: RuleSet, k: int, meter: Meter
            ) -> tuple[pl.DataFrame, dict[str, Any]]:
    records = _records(folder)
    batch = pl.read_parquet(folder / "batch.parquet", columns=c.COLUMNS)
    today = k + 1
    if contender == "engine":
        started = time.perf_counter()
        yesterday = engine.start_state(records, rules, k)
        meter.extra["state_build_seconds"] = time.perf_counter() - started
        state, m = meter.run(lambda: engine.update(yesterday, batch, today))
        m["changed_subjects"] = int(state.changed.size)
        m["touched_records"] = batch.height
        scores = state.scores().select(*engine.SUBJECT_KEY, "deducted")
        timeline = state.timeline().frame(rules)
    else:
        merged = pl.concat([records, batch]).unique(["source", "record_id"], keep="last",
                                                    maintain_order=True)
        del records
        state, m = meter.run(lambda: engine.start_state(merged, rules, today))
        scores = state.scores().select(*engine.SUBJECT_KEY, "deducted")
        timeline = state.timeline().frame(rules)
    out = compare.normalise_timeline(timeline).join(
        scores, left_on=engine.SUBJECT_KEY, right_on=engine.SUBJECT_KEY, how="full",
        coalesce=True).sort([*engine.SUBJECT_KEY, "start"], nulls_last=True)
    return out, m


def _eligibility(contender: str, folder: Path, rules: RuleSet, k: int, meter: Meter
                 ) -> tuple[pl.DataFrame, dict[str, Any]]:
    asked = pl.read_parquet(folder / "asked.parquet").get_column("subject_id")
    intervals_file = folder / f"intervals-{k}.parquet"
    if contender == "engine":
        data = CreditData(
            records=_records(folder, None), rules=rules,
            subjects=pl.read_parquet(folder / "subjects.parquet"),
            lists=pl.read_parquet(folder / "lists.parquet"))
        started = time.perf_counter()
        index = restrict.EligibilityIndex.of(data, k)
        build = time.perf_counter() - started
        started = time.perf_counter()
        slow = check(data, k, asked.to_list()).table
        checked = time.perf_counter() - started
        expected = dict(zip(slow.get_column("subject_id").to_list(),
                            slow.get_column("eligible").to_list(), strict=True))
        intervals, _ = restrict.restriction_intervals(data, k)
        intervals.write_parquet(intervals_file)
        # The index is all a checking service holds: the data it was built from goes.
        del data, slow, intervals
        meter.extra.update(index_build_seconds=build, runs=index.runs,
                           subjects_indexed=index.ids.len(), check_seconds=checked)
        eligible, m = meter.run(lambda: index.eligible(asked, k))
        m["check_agrees"] = all(expected[s] == bool(e) for s, e in zip(
            restrict.normalise_ids(asked).to_list(), eligible.tolist(), strict=True))
        out = pl.DataFrame({"subject_id": asked, "eligible": eligible})
        return compare.normalise_eligibility(out), m
    intervals = pl.read_parquet(intervals_file)
    if contender == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.register("intervals_in", intervals.to_arrow())
        con.execute("CREATE TABLE intervals AS SELECT * FROM intervals_in")
        con.register("asked_in", pl.DataFrame({"subject_id": asked}).to_arrow())
        con.execute("CREATE TABLE asked AS SELECT * FROM asked_in")
        out, m = meter.run(lambda: c.duck_eligibility(con, k))
        return compare.normalise_eligibility(out), m
    frame = intervals.to_pandas()
    asked_pd = asked.to_pandas()
    result, m = meter.run(lambda: c.pandas_eligibility(frame, asked_pd, k))
    return compare.normalise_eligibility(pl.from_pandas(result)), m


RUNNERS = {"timeline": _timeline, "snapshot": _snapshot, "update": _update,
           "eligibility": _eligibility}


def main(argv: list[str] | None = None) -> None:
    """Run one measurement and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("contender")
    parser.add_argument("data", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--known-on", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    if args.contender not in TASKS[args.task]:
        parser.error(f"{args.task} has no contender {args.contender}")
    rules = load_rules()
    meter = Meter(args.repeats)
    answer, measured = RUNNERS[args.task](args.contender, args.data, rules, args.known_on,
                                          meter)
    answer.write_parquet(args.result)
    measured.update(task=args.task, contender=args.contender, rows=answer.height,
                    pid=os.getpid())
    sys.stdout.write(json.dumps(measured) + "\n")


if __name__ == "__main__":
    main()
