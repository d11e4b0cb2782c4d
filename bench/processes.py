"""Whole processes, as a user meets them: ``creditindex compute`` from a Parquet file of
records to a CSV file, against a Python process running the DuckDB SQL a trading centre
would write for the same answer (and, optionally, the same in pandas).

    python -m bench --tasks compute --sizes 1m,10m        # as part of the benchmark
    python -m bench.processes --sizes 1m,10m               # alone

Every contender reads the same ``records.parquet`` (the benchmark's generated data) and
writes, for every subject in the records, its index, grade, rank and whether it is
restricted on the day after the last record was recorded. Each runs in a process of its
own, started the same way (``python ...``); wall time and peak resident memory
(``VmHWM`` of that process, sampled from ``/proc`` while it runs) are measured from
outside, the answers compared after every size (same keys; index, grade, rank and
restricted equal). The load averages before and after each run are kept: the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from bench.datasets import DEFAULT_DIR, Dataset, parse_size, prepare, size_label
from creditindex.rules import RuleSet, load_rules

ROOT = Path(__file__).resolve().parent
DEFAULT_OUT = ROOT / "results" / "processes.json"
CONTENDERS = ("creditindex", "duckdb", "pandas")
TASK = "compute"  # its name among the tasks of ``python -m bench``
PANDAS_UP_TO = 1_000_000  # pandas is left out above this many records unless asked for
TARGET = "creditindex <= 1.0 x DuckDB at 1M and 10M; peak <= 1.5 GB at 10M"
ANSWER = ["subject_id", "subject_type", "index", "grade", "rank", "restricted"]
# A Python process running SQL: DuckDB and nothing else imported.
_DUCKDB_SCRIPT = ("import sys, duckdb\n"
                  "con = duckdb.connect()\n"
                  "con.execute(open(sys.argv[1], encoding='utf-8').read())\n")


def duckdb_sql(records: Path, behaviours: Path, day: int, out: Path, rules: RuleSet) -> str:
    """The whole job in SQL: the rule catalogue and the records read from their files (a
    missing ``recorded_on`` is ``decided_on``), the day's snapshot
    (:func:`bench.contenders.snapshot_sql`) copied to CSV."""
    from bench.contenders import snapshot_sql

    def quoted(p: Path) -> str:
        return "'" + str(p).replace("'", "''") + "'"

    return f"""
    CREATE TABLE behaviours AS SELECT * FROM read_parquet({quoted(behaviours)});
    CREATE VIEW records AS
      SELECT * REPLACE (coalesce(recorded_on, decided_on) AS recorded_on)
      FROM read_parquet({quoted(records)});
    COPY ({snapshot_sql(rules, day)} ORDER BY subject_type, "rank", subject_id)
      TO {quoted(out)} (HEADER, DELIMITER ',');
    """


def pandas_job(records: str, day: str, out: str) -> None:
    """The same job in pandas (``python -m bench.processes --pandas-job ...``)."""
    import pandas as pd

    from bench.contenders import COLUMNS, pandas_snapshot
    from creditindex.days import to_day

    frame = pd.read_parquet(records, columns=COLUMNS)
    frame["recorded_on"] = frame["recorded_on"].fillna(frame["decided_on"])
    answer = pandas_snapshot(frame, load_rules(), to_day(dt.date.fromisoformat(day)))
    answer.sort_values(["subject_type", "rank", "subject_id"]).to_csv(out, index=False)


def _commands(name: str, data: Dataset, day: str, out: Path, work: Path,
              rules: RuleSet) -> list[str]:
    records = data.path("records")
    if name == "creditindex":
        return [sys.executable, "-m", "creditindex", "compute", "--records", str(records),
                "--on", day, "--out", str(out)]
    if name == "duckdb":
        from bench.contenders import behaviours
        from creditindex.days import to_day

        catalogue = work / "behaviours.parquet"
        behaviours(rules).write_parquet(catalogue)
        sql = work / "job.sql"
        sql.write_text(duckdb_sql(records, catalogue, to_day(dt.date.fromisoformat(day)),
                                  out, rules), encoding="utf-8")
        return [sys.executable, "-c", _DUCKDB_SCRIPT, str(sql)]
    return [sys.executable, "-m", "bench.processes", "--pandas-job", str(records), day,
            str(out)]


def _high_water_kb(pid: int) -> int:
    """The peak resident set size (kB) of process ``pid`` so far, 0 if not readable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def measure(command: list[str], timeout: float) -> dict[str, Any]:
    """Run ``command``; its wall time, peak resident memory (MB) and exit code, with the
    load averages before and after."""
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent) + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    before = os.getloadavg()
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT.parent, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = started + timeout
    high_water = 0
    while True:
        high_water = max(high_water, _high_water_kb(child.pid))
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            child.wait()
            return {"error": f"timed out after {timeout:.0f} s"}
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode != 0:
        tail = " / ".join(err.strip().splitlines()[-3:])
        return {"error": tail or f"exit code {child.returncode}"}
    # ru_maxrss carries over the RSS of this (possibly large) process from before the
    # child's exec; VmHWM belongs to the child's own address space. Sampled every 5 ms, it
    # can only miss a rise in the last 5 ms of the child's life.
    peak_kb = high_water or usage.ru_maxrss
    return {"seconds": round(seconds, 4), "peak_mb": round(peak_kb / 1024),
            "user_seconds": round(usage.ru_utime, 3), "system_seconds": round(usage.ru_stime, 3),
            "load_before": [round(x, 2) for x in before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def read_answer(path: Path) -> pl.DataFrame:
    """A contender's CSV as the compared columns, sorted by subject."""
    frame = pl.read_csv(path, infer_schema=False)
    return frame.select(
        pl.col("subject_id", "subject_type", "grade"),
        pl.col("index").cast(pl.Float64), pl.col("rank").cast(pl.Int64),
        pl.col("restricted").str.to_lowercase().replace_strict(
            {"true": True, "false": False}, return_dtype=pl.Boolean),
    ).select(ANSWER).sort("subject_id", "subject_type")


def differences(a: pl.DataFrame, b: pl.DataFrame) -> list[str]:
    """What differs between two answers (empty when they agree): keys exactly, the index
    to 1e-9, grade, rank and restricted exactly."""
    if a.height != b.height:
        return [f"{a.height} rows against {b.height}"]
    problems = []
    for column in ANSWER:
        x, y = a.get_column(column), b.get_column(column)
        if column == "index":
            bad = int((((x - y).abs() > 1e-9) | (x.is_null() != y.is_null())).sum())
        else:
            bad = int(x.ne_missing(y).sum())
        if bad:
            problems.append(f"{column}: {bad} rows differ")
    return problems


def run(sizes: list[int], data_dir: Path, timeout: float, repeats: int | None = None,
        contenders: tuple[str, ...] = CONTENDERS, pandas_up_to: int = PANDAS_UP_TO
        ) -> dict[str, Any]:
    """Measure every contender at every size (runs interleaved, best wall time kept);
    pandas only up to ``pandas_up_to`` records (it takes minutes and ~8 GB at 10M)."""
    every = contenders
    rules = load_rules()
    report: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_before": list(os.getloadavg())},
        "target": TARGET, "sizes": [],
    }
    for n in sizes:
        contenders = tuple(c for c in every if c != "pandas" or n <= pandas_up_to)
        data = prepare(n, rules, data_dir)
        day = str(data.meta["known_on_date"])
        runs = repeats or (3 if n <= 1_000_000 else 1)
        entry: dict[str, Any] = {"n": n, "label": size_label(n), "on": day,
                                 "records": str(data.path("records")), "contenders": {}}
        with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
            work = Path(tmp)
            outs = {c: work / f"{c}.csv" for c in contenders}
            commands = {c: _commands(c, data, day, outs[c], work, rules) for c in contenders}
            found: dict[str, list[dict[str, Any]]] = {c: [] for c in contenders}
            for attempt in range(runs):
                for c in contenders:
                    print(f"  {size_label(n):>4} {c:<12} run {attempt + 1}", end="", flush=True)
                    m = measure(commands[c], timeout)
                    found[c].append(m)
                    shown = m.get("error") or f"{m['seconds']:.2f} s, peak {m['peak_mb']} MB"
                    print(f" {shown} (load {m.get('load_before', ['?'])[0]})", flush=True)
            for c in contenders:
                good = [m for m in found[c] if "error" not in m]
                best = min(good, key=lambda m: m["seconds"]) if good else found[c][-1]
                entry["contenders"][c] = {**best, "runs": found[c]}
            reference = outs["creditindex"]
            problems: list[str] = []
            for c in contenders:
                if c == "creditindex" or "error" in entry["contenders"][c]:
                    continue
                if not reference.exists() or not outs[c].exists():
                    problems.append(f"{c}: no answer to compare")
                    continue
                problems += [f"{c}: {p}" for p in differences(read_answer(reference),
                                                              read_answer(outs[c]))]
            entry["equal"] = not problems
            entry["problems"] = problems
        report["sizes"].append(entry)
    report["machine"]["load_average_after"] = list(os.getloadavg())
    report["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    return report


def _secs(m: dict[str, Any] | None) -> str:
    if not m:
        return "—"
    if "error" in m:
        return "error"
    return f"{float(m['seconds']):.2f} s"


def _mb(m: dict[str, Any] | None) -> str:
    return "—" if not m or "error" in m else str(m["peak_mb"])


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    if not a or not b or "error" in a or "error" in b:
        return "—"
    return f"{float(a['seconds']) / float(b['seconds']):.2f}×"


HEADER = ["records", "creditindex compute", "DuckDB SQL", "pandas", "creditindex ÷ DuckDB",
          "peak MB (creditindex / DuckDB / pandas)", "same answers", "load average"]


def rows(report: dict[str, Any]) -> list[list[str]]:
    """One row per size."""
    out = []
    for entry in report["sizes"]:
        m = entry["contenders"]
        ci, duck, pand = m.get("creditindex"), m.get("duckdb"), m.get("pandas")
        loads = [r["load_before"][0] for c in m.values() for r in c.get("runs", [])
                 if "load_before" in r]
        load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "?"
        same = "yes" if entry["equal"] else "NO: " + "; ".join(entry["problems"])
        out.append([entry["label"], _secs(ci), _secs(duck), _secs(pand), _ratio(ci, duck),
                    f"{_mb(ci)} / {_mb(duck)} / {_mb(pand)}", same, load])
    return out


def markdown(report: dict[str, Any]) -> str:
    """The table in Markdown with how it was measured."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(report)]
    machine = report["machine"]
    lines += ["", f"Measured {report['started']} on {machine['cpus']} CPUs (load average "
              f"{', '.join(f'{x:.1f}' for x in machine['load_average_before'])} before, "
              f"{', '.join(f'{x:.1f}' for x in machine.get('load_average_after', []))} "
              "after; the load column is the 1-minute load when each run started). Whole "
              "processes from `records.parquet` to a CSV of every subject's index, grade, "
              "rank and restriction: `python -m creditindex compute --records X.parquet "
              "--on D --out X.csv` against a `python -c` process running the DuckDB SQL "
              "(`bench/contenders.py`, `snapshot_sql`) and the same in pandas; best wall "
              "time of the runs (3 at 1M, 1 at 10M), peak resident memory of the process "
              "(pandas only up to 1M). "
              f"Target: {report['target']}."]
    return "\n".join(lines) + "\n"


def text_table(report: dict[str, Any]) -> str:
    """The table as aligned plain text."""
    table = [HEADER, *rows(report)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
                     for r in table) + "\n"


MARKERS = ("<!-- processes:start -->", "<!-- processes:end -->")


def write(report: dict[str, Any], out: Path, readme: bool) -> None:
    """Print the table; write the JSON and Markdown (and the README's table)."""
    print()
    print(text_table(report), end="")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    print(f"wrote {out} and {out.with_suffix('.md')}")
    from bench import runner

    if readme and runner.update_readme(markdown(report), markers=MARKERS):
        print(f"updated the process table in {runner.README}")


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.processes [--sizes 1m,10m] [--no-pandas] [--readme]``."""
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--pandas-job"]:
        pandas_job(*args_in[1:4])
        return
    parser = argparse.ArgumentParser(prog="python -m bench.processes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1m,10m")
    parser.add_argument("--no-pandas", action="store_true", help="leave pandas out")
    parser.add_argument("--pandas-up-to", default="1m",
                        help="largest size pandas runs at (default 1m)")
    parser.add_argument("--repeats", type=int, help="runs per contender (default 3, 1 at 10M)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(args_in)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    contenders = tuple(c for c in CONTENDERS if not (args.no_pandas and c == "pandas"))
    report = run(sizes, args.data_dir, args.timeout, args.repeats, contenders,
                 parse_size(args.pandas_up_to))
    write(report, args.out, args.readme)
    if any(not e["equal"] for e in report["sizes"]):
        print("ANSWERS DIFFER")
        sys.exit(1)


if __name__ == "__main__":
    main()
